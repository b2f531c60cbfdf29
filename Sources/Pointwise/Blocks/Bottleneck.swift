/// The bottleneck residual block of ResNet-50/101/152: He, Zhang, Ren and Sun, "Deep Residual Learning
/// for Image Recognition", 2015, arXiv:1512.03385, with torchvision's "v1.5" placement of the stride
/// (on the 3×3 convolution, not the first 1×1).
///
/// `y = ReLU(BN3(conv3(ReLU(BN2(conv2(ReLU(BN1(conv1(x))))))) + shortcut(x))`: a 1×1 convolution
/// reduces Cin to `planes`, a 3×3 one (stride s, padding 1) works at that width, a 1×1 one expands to
/// 4·planes. The shortcut is x itself, or — when the stride is not 1 or the channels change, as in
/// torchvision — a 1×1 convolution of stride s followed by batch norm (`downsample.0`, `downsample.1`).
/// Convolutions have no bias; batch norms use running statistics (inference).
///
/// ```swift
/// let block = try Bottleneck(inputChannels: 256, planes: 128, stride: 2)   // layer2.0 of ResNet-50
/// let y = try block(x)                                                     // [1, 256, 56, 56] → [1, 512, 28, 28]
/// ```
public struct Bottleneck: Block {
    /// How many times wider the output is than `planes` (4 in ResNet-50/101/152).
    public static let expansion = 4

    /// Cin.
    public let inputChannels: Int
    /// The width of the 3×3 convolution.
    public let planes: Int
    /// The stride of the 3×3 convolution and of the projection.
    public let stride: Int
    /// `conv1`: 1×1, Cin → planes.
    public var conv1: Conv1x1
    /// `bn1`.
    public var bn1: BatchNorm
    /// `conv2`: 3×3, stride s, padding 1, planes → planes.
    public var conv2: Conv2d
    /// `bn2`.
    public var bn2: BatchNorm
    /// `conv3`: 1×1, planes → 4·planes.
    public var conv3: Conv1x1
    /// `bn3`.
    public var bn3: BatchNorm
    /// `downsample.0`: the projection's 1×1 convolution of stride s, or nil for the identity shortcut.
    public var downsampleConv: Conv1x1?
    /// `downsample.1`: the projection's batch norm, or nil for the identity shortcut.
    public var downsampleNorm: BatchNorm?

    /// Cout = 4 · planes.
    public var outputChannels: Int { planes * Self.expansion }

    /// A block initialised deterministically: convolutions as PyTorch's default (uniform in
    /// ±1/√fan-in) from `seed`, batch norms as PyTorch's (weight 1, bias 0, statistics 0 and 1).
    /// - Parameters:
    ///   - inputChannels: Cin ≥ 1.
    ///   - planes: ≥ 1; the output has 4 · planes channels.
    ///   - stride: ≥ 1, on the 3×3 convolution and the projection.
    ///   - seed: seeds every convolution's initialisation.
    /// - Throws: `LayerError` for a setting out of range.
    public init(inputChannels: Int, planes: Int, stride: Int = 1, seed: UInt64 = 0) throws(LayerError) {
        var random = SplitMix64(seed: seed)
        let output = planes * Self.expansion
        (self.inputChannels, self.planes, self.stride) = (inputChannels, planes, stride)
        conv1 = try convolving { () throws(ConvolutionError) in
            try Conv1x1(inputChannels: inputChannels, outputChannels: planes, bias: false, seed: random.next())
        }
        bn1 = try BatchNorm(channels: planes)
        conv2 = try Conv2d(inputChannels: planes, outputChannels: planes, kernelSize: 3, stride: stride,
                           padding: .symmetric(1), bias: false, seed: random.next())
        bn2 = try BatchNorm(channels: planes)
        conv3 = try convolving { () throws(ConvolutionError) in
            try Conv1x1(inputChannels: planes, outputChannels: output, bias: false, seed: random.next())
        }
        bn3 = try BatchNorm(channels: output)
        if stride != 1 || inputChannels != output {
            downsampleConv = try convolving { () throws(ConvolutionError) in
                try Conv1x1(inputChannels: inputChannels, outputChannels: output, bias: false, stride: stride,
                            seed: random.next())
            }
            downsampleNorm = try BatchNorm(channels: output)
        }
    }

    /// `conv1`, `bn1`, `conv2`, `bn2`, `conv3`, `bn3`, then `downsample.0` and `downsample.1`.
    public var namedParameters: [NamedParameter] {
        conv1.namedParameters("conv1") + bn1.namedParameters("bn1") + conv2.namedParameters("conv2")
            + bn2.namedParameters("bn2") + conv3.namedParameters("conv3") + bn3.namedParameters("bn3")
            + (downsampleConv?.namedParameters("downsample.0") ?? [])
            + (downsampleNorm?.namedParameters("downsample.1") ?? [])
    }

    /// Runs the block.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: `[N, 4·planes, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1]` in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, Cin, H, W]`.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        try trace(input, options: options).output
    }

    /// Every intermediate of one forward pass, as the backward pass needs them.
    private struct Trace {
        var a1, b1, r1, a2, b2, r2, a3, b3: Tensor
        /// The projection's convolution output (nil for the identity shortcut).
        var projection: Tensor?
        /// The sum before the last ReLU, and the output.
        var sum, output: Tensor
    }

    private func trace(_ x: Tensor, options: ExecutionOptions) throws(LayerError) -> Trace {
        // x: [N, Cin, H, W]  →  y: [N, 4·planes, H', W']
        try x.checkImage(channels: inputChannels)
        let a1 = try convolving { () throws(ConvolutionError) in try conv1(x, options: options) }
        let b1 = try bn1(a1), r1 = Activation.relu(b1)
        let a2 = try conv2(r1, options: options)
        let b2 = try bn2(a2), r2 = Activation.relu(b2)
        let a3 = try convolving { () throws(ConvolutionError) in try conv3(r2, options: options) }
        let b3 = try bn3(a3)
        var projection: Tensor?, shortcut = x
        if let downsampleConv, let downsampleNorm {
            let p = try convolving { () throws(ConvolutionError) in try downsampleConv(x, options: options) }
            (projection, shortcut) = (p, try downsampleNorm(p))
        }
        let sum = try Add()(b3, shortcut)
        return Trace(a1: a1, b1: b1, r1: r1, a2: a2, b2: b2, r2: r2, a3: a3, b3: b3, projection: projection,
                     sum: sum, output: Activation.relu(sum))
    }

    // MARK: - Backward

    /// Back-propagates `outputGradient` through the block at inference (each batch norm the fixed
    /// affine map of its running statistics), re-running the forward pass for its intermediates.
    /// - Parameters:
    ///   - input: the forward input `[N, Cin, H, W]`.
    ///   - outputGradient: dL/dy, shaped like the output (any layout).
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: dL/dx and, in `parameters` order, dL/dp for each convolution weight and batch-norm
    ///   weight and bias.
    /// - Throws: `LayerError` when a shape does not fit.
    public func gradients(
        input: Tensor, outputGradient: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) -> BlockGradients {
        let t = try trace(input, options: options)
        try outputGradient.check("output gradient", shape: t.output.shape)
        let dSum = try Activation.relu.inputGradient(input: t.sum, outputGradient: outputGradient)
        let g3 = try bn3.gradients(input: t.a3, outputGradient: dSum)
        let c3 = try convolving { () throws(ConvolutionError) in
            try conv3.gradients(input: t.r2, outputGradient: g3.input, options: options)
        }
        let g2 = try bn2.gradients(
            input: t.a2, outputGradient: try Activation.relu.inputGradient(input: t.b2, outputGradient: c3.input))
        let c2 = try conv2.gradients(input: t.r1, outputGradient: g2.input, options: options)
        let g1 = try bn1.gradients(
            input: t.a1, outputGradient: try Activation.relu.inputGradient(input: t.b1, outputGradient: c2.input))
        let c1 = try convolving { () throws(ConvolutionError) in
            try conv1.gradients(input: input, outputGradient: g1.input, options: options)
        }
        var parameters = c1.named("conv1") + g1.named("bn1") + c2.named("conv2") + g2.named("bn2")
            + c3.named("conv3") + g3.named("bn3")
        var inputGradient = c1.input
        if let downsampleConv, let downsampleNorm, let projection = t.projection {
            let gd = try downsampleNorm.gradients(input: projection, outputGradient: dSum)
            // The projection's dX accumulates onto the main path's.
            var cd = Conv1x1.Gradients(input: c1.input, weight: Tensor.zeros(like: downsampleConv.weight),
                                       bias: nil, residual: nil)
            try convolving { () throws(ConvolutionError) in
                try downsampleConv.accumulateGradients(input: input, outputGradient: gd.input, into: &cd, options: options)
            }
            inputGradient = cd.input
            parameters += cd.named("downsample.0") + gd.named("downsample.1")
        } else {
            inputGradient.add(dSum.converted(to: inputGradient.layout))
        }
        return BlockGradients(input: inputGradient, parameters: parameters)
    }
}
