/// Network-in-Network's "mlpconv" block: Lin, Chen and Yan, "Network In Network", 2013, arXiv:1312.4400.
///
/// A K×K convolution followed by stacked 1×1 convolutions — a small multilayer perceptron slid over
/// every position — each with a bias and a ReLU. Keys follow the `nn.Sequential(conv, ReLU, conv,
/// ReLU, …)` of d2l's `nin_block`: `0`, `2`, `4`, … (the ReLUs take the odd indices).
///
/// ```swift
/// let block = try MLPConv(inputChannels: 3, channels: [96, 96, 96], kernelSize: 11, stride: 4)   // NiN's first
/// let y = try block(x)                                                                       // [1, 3, 224, 224] → [1, 96, 54, 54]
/// ```
public struct MLPConv: Block {
    /// The K×K convolution (with its ReLU fused).
    public var spatial: Conv2d
    /// The 1×1 convolutions after it, in order (ReLU fused into each).
    public var pointwise: [Conv1x1]

    /// A block initialised deterministically from `seed` (PyTorch's default convolution initialisation).
    /// - Parameters:
    ///   - inputChannels: Cin ≥ 1.
    ///   - channels: the K×K convolution's outputs, then each 1×1 convolution's; at least one entry.
    ///   - kernelSize: K ≥ 1.
    ///   - stride: of the K×K convolution, ≥ 1.
    ///   - padding: of the K×K convolution.
    ///   - seed: seeds every convolution.
    /// - Throws: `LayerError` for an empty `channels` or a setting out of range.
    public init(
        inputChannels: Int, channels: [Int], kernelSize: Int, stride: Int = 1, padding: Conv2d.Padding = .valid,
        seed: UInt64 = 0
    ) throws(LayerError) {
        guard let first = channels.first else { throw .setting(name: "channels", value: "[]", expected: "at least one width") }
        var random = SplitMix64(seed: seed)
        spatial = try Conv2d(inputChannels: inputChannels, outputChannels: first, kernelSize: kernelSize, stride: stride,
                             padding: padding, activation: .relu, seed: random.next())
        pointwise = []
        for (cin, cout) in zip(channels, channels.dropFirst()) {
            pointwise.append(try convolving { () throws(ConvolutionError) in
                try Conv1x1(inputChannels: cin, outputChannels: cout, activation: .relu, seed: random.next())
            })
        }
    }

    /// `0.weight`, `0.bias`, `2.weight`, `2.bias`, …
    public var namedParameters: [NamedParameter] {
        spatial.namedParameters("0") + pointwise.enumerated().flatMap { $1.namedParameters("\(2 * $0 + 2)") }
    }

    /// Runs the block.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: `[N, channels.last, H', W']` (H', W' those of the K×K convolution) in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, Cin, H, W]` or is smaller than the kernel.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        // x: [N, Cin, H, W]  →  y: [N, C_last, H', W']
        try input.checkImage(channels: spatial.inputChannels)
        var y = try spatial(input, options: options)
        for conv in pointwise {
            y = try convolving { () throws(ConvolutionError) in try conv(y, options: options) }
        }
        return y
    }
}
