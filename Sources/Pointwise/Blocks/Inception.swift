/// GoogLeNet's Inception module: Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke and
/// Rabinovich, "Going Deeper with Convolutions", 2014, arXiv:1409.4842.
///
/// Four branches on the same input, concatenated along the channels in this order: a 1×1
/// convolution; a 1×1 reduction then a 3×3 (padding 1); a 1×1 reduction then a 5×5 (padding 2); a
/// 3×3 max pool (stride 1, padding 1) then a 1×1 "pool projection". Every convolution has a bias
/// and a ReLU, as in the paper (torchvision's GoogLeNet adds batch norm and uses 3×3 for the third
/// branch; this is the paper's module). Keys: `branch1`, `branch2.0`, `branch2.1`, `branch3.0`,
/// `branch3.1`, `branch4.1` (index 0 of branch 4 is the pooling).
///
/// ```swift
/// let inception3a = try Inception(inputChannels: 192, ones: 64, reduce3x3: 96, out3x3: 128,
///                                 reduce5x5: 16, out5x5: 32, poolProjection: 32)
/// let y = try inception3a(x)        // [1, 192, 28, 28] → [1, 256, 28, 28]
/// ```
public struct Inception: Block {
    /// `branch1`: 1×1, Cin → `ones`.
    public var branch1: Conv1x1
    /// `branch2.0`: the 1×1 reduction before the 3×3.
    public var reduce3x3: Conv1x1
    /// `branch2.1`: 3×3, padding 1.
    public var conv3x3: Conv2d
    /// `branch3.0`: the 1×1 reduction before the 5×5.
    public var reduce5x5: Conv1x1
    /// `branch3.1`: 5×5, padding 2.
    public var conv5x5: Conv2d
    /// `branch4.1`: the 1×1 projection after the max pool.
    public var poolProjection: Conv1x1

    /// The output channels: the sum of the four branches'.
    public var outputChannels: Int {
        branch1.outputChannels + conv3x3.outputChannels + conv5x5.outputChannels + poolProjection.outputChannels
    }

    /// A module initialised deterministically from `seed` (PyTorch's default convolution initialisation).
    /// - Parameters:
    ///   - inputChannels: Cin ≥ 1.
    ///   - ones: the 1×1 branch's outputs ("#1×1" in the paper's table 1).
    ///   - reduce3x3, out3x3: the 3×3 branch's reduction and outputs ("#3×3 reduce", "#3×3").
    ///   - reduce5x5, out5x5: the 5×5 branch's reduction and outputs ("#5×5 reduce", "#5×5").
    ///   - poolProjection: the pool branch's outputs ("pool proj").
    ///   - seed: seeds every convolution.
    /// - Throws: `LayerError` for a channel count below 1.
    public init(
        inputChannels: Int, ones: Int, reduce3x3: Int, out3x3: Int, reduce5x5: Int, out5x5: Int, poolProjection: Int,
        seed: UInt64 = 0
    ) throws(LayerError) {
        var random = SplitMix64(seed: seed)
        func pointwise(_ cin: Int, _ cout: Int) throws(LayerError) -> Conv1x1 {
            try convolving { () throws(ConvolutionError) in
                try Conv1x1(inputChannels: cin, outputChannels: cout, activation: .relu, seed: random.next())
            }
        }
        branch1 = try pointwise(inputChannels, ones)
        self.reduce3x3 = try pointwise(inputChannels, reduce3x3)
        conv3x3 = try Conv2d(inputChannels: reduce3x3, outputChannels: out3x3, kernelSize: 3, padding: .symmetric(1),
                             activation: .relu, seed: random.next())
        self.reduce5x5 = try pointwise(inputChannels, reduce5x5)
        conv5x5 = try Conv2d(inputChannels: reduce5x5, outputChannels: out5x5, kernelSize: 5, padding: .symmetric(2),
                             activation: .relu, seed: random.next())
        self.poolProjection = try pointwise(inputChannels, poolProjection)
    }

    /// `branch1`, `branch2.0`, `branch2.1`, `branch3.0`, `branch3.1`, `branch4.1`: weight and bias each.
    public var namedParameters: [NamedParameter] {
        branch1.namedParameters("branch1") + reduce3x3.namedParameters("branch2.0") + conv3x3.namedParameters("branch2.1")
            + reduce5x5.namedParameters("branch3.0") + conv5x5.namedParameters("branch3.1")
            + poolProjection.namedParameters("branch4.1")
    }

    /// Runs the four branches and concatenates them.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: `[N, outputChannels, H, W]` in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, Cin, H, W]`.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        // x: [N, Cin, H, W]  →  y: [N, ones + out3x3 + out5x5 + poolProjection, H, W]
        try input.checkImage(channels: branch1.inputChannels)
        let pooled = try MaxPool2d(kernelSize: 3, stride: 1, padding: 1)(input)
        let branches = try convolving { () throws(ConvolutionError) in
            (try branch1(input, options: options), try reduce3x3(input, options: options),
             try reduce5x5(input, options: options), try poolProjection(pooled, options: options))
        }
        return try Concat()([branches.0, try conv3x3(branches.1, options: options),
                             try conv5x5(branches.2, options: options), branches.3])
    }
}
