/// MobileNetV1's depthwise-separable block: Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto and
/// Adam, "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications", 2017,
/// arXiv:1704.04861.
///
/// A 3×3 depthwise convolution (stride s, padding 1) → BN → ReLU, then a 1×1 convolution Cin → Cout
/// → BN → ReLU. Convolutions have no bias; batch norms use running statistics. Keys follow timm's
/// `DepthwiseSeparableConv`: `conv_dw`, `bn1`, `conv_pw`, `bn2`.
///
/// ```swift
/// let block = try DepthwiseSeparable(inputChannels: 32, outputChannels: 64)
/// let y = try block(x)                            // [1, 32, 112, 112] → [1, 64, 112, 112]
/// ```
public struct DepthwiseSeparable: Block {
    /// `conv_dw`: 3×3 depthwise, Cin → Cin, stride s, padding 1.
    public var depthwise: Conv2d
    /// `bn1`.
    public var depthwiseNorm: BatchNorm
    /// `conv_pw`: 1×1, Cin → Cout.
    public var pointwise: Conv1x1
    /// `bn2`.
    public var pointwiseNorm: BatchNorm

    /// A block initialised deterministically: convolutions as PyTorch's default from `seed`, batch
    /// norms as PyTorch's.
    /// - Parameters:
    ///   - inputChannels: Cin ≥ 1.
    ///   - outputChannels: Cout ≥ 1.
    ///   - stride: of the depthwise convolution, ≥ 1.
    ///   - seed: seeds both convolutions.
    /// - Throws: `LayerError` for a setting out of range.
    public init(inputChannels: Int, outputChannels: Int, stride: Int = 1, seed: UInt64 = 0) throws(LayerError) {
        var random = SplitMix64(seed: seed)
        depthwise = try Conv2d(inputChannels: inputChannels, outputChannels: inputChannels, kernelSize: 3, stride: stride,
                               padding: .symmetric(1), groups: inputChannels, bias: false, seed: random.next())
        depthwiseNorm = try BatchNorm(channels: inputChannels)
        pointwise = try convolving { () throws(ConvolutionError) in
            try Conv1x1(inputChannels: inputChannels, outputChannels: outputChannels, bias: false, seed: random.next())
        }
        pointwiseNorm = try BatchNorm(channels: outputChannels)
    }

    /// `conv_dw.weight`, `bn1.*`, `conv_pw.weight`, `bn2.*`.
    public var namedParameters: [NamedParameter] {
        depthwise.namedParameters("conv_dw") + depthwiseNorm.namedParameters("bn1")
            + pointwise.namedParameters("conv_pw") + pointwiseNorm.namedParameters("bn2")
    }

    /// Runs the block.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: `[N, Cout, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1]` in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, Cin, H, W]`.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        // x: [N, Cin, H, W]  →  [N, Cin, H', W']  →  y: [N, Cout, H', W']
        try input.checkImage(channels: depthwise.inputChannels)
        let filtered = Activation.relu(try depthwiseNorm(try depthwise(input, options: options)))
        let mixed = try convolving { () throws(ConvolutionError) in try pointwise(filtered, options: options) }
        return Activation.relu(try pointwiseNorm(mixed))
    }
}
