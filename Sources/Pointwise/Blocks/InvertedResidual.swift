/// MobileNetV2's inverted residual — Sandler, Howard, Zhu, Zhmoginov and Chen, "MobileNetV2: Inverted
/// Residuals and Linear Bottlenecks", 2018, arXiv:1801.04381 — and EfficientNet's MBConv, the same
/// block with squeeze-and-excitation and SiLU — Tan and Le, "EfficientNet: Rethinking Model Scaling for
/// Convolutional Neural Networks", 2019, arXiv:1905.11946.
///
/// A 1×1 convolution expands Cin to t·Cin (left out when t = 1) → BN → act; a K×K depthwise
/// convolution (stride s, padding (K − 1)/2) → BN → act; optionally squeeze-and-excitation; a 1×1
/// convolution projects to Cout → BN, with no activation (the linear bottleneck). The input is added
/// when s = 1 and Cin = Cout. Convolutions have no bias; batch norms use running statistics.
///
/// Keys follow torchvision: MobileNetV2's `conv.0.0.weight` … `conv.3.running_var` without
/// squeeze-and-excitation, EfficientNet's `block.0.0.weight` … `block.3.1.running_var` with it.
///
/// ```swift
/// let block = try InvertedResidual(inputChannels: 24, outputChannels: 24, expansion: 6)   // MobileNetV2
/// let y = try block(x)                                                                   // [1, 24, 56, 56] → same
/// ```
public struct InvertedResidual: Block {
    /// Cin.
    public let inputChannels: Int
    /// Cout.
    public let outputChannels: Int
    /// t: the hidden width is t · Cin.
    public let expansion: Int
    /// The stride of the depthwise convolution.
    public let stride: Int
    /// After the expansion and the depthwise convolution: `.relu6` (MobileNetV2, EfficientNet-Lite) or `.silu` (EfficientNet).
    public let activation: Activation
    /// The 1×1 expansion, Cin → t·Cin, or nil when t = 1.
    public var expandConv: Conv1x1?
    /// The expansion's batch norm, or nil when t = 1.
    public var expandNorm: BatchNorm?
    /// The K×K depthwise convolution (groups = t·Cin).
    public var depthwise: Conv2d
    /// The depthwise convolution's batch norm.
    public var depthwiseNorm: BatchNorm
    /// EfficientNet's squeeze-and-excitation, or nil.
    public var squeezeExcitation: SqueezeExcitation?
    /// The 1×1 projection, t·Cin → Cout.
    public var project: Conv1x1
    /// The projection's batch norm.
    public var projectNorm: BatchNorm

    /// Whether the input is added to the output: stride 1 and Cin = Cout.
    public var hasResidual: Bool { stride == 1 && inputChannels == outputChannels }
    /// t · Cin, the width of the depthwise convolution.
    public var hiddenChannels: Int { inputChannels * expansion }

    /// A block initialised deterministically: convolutions as PyTorch's default from `seed`, batch
    /// norms as PyTorch's.
    /// - Parameters:
    ///   - inputChannels: Cin ≥ 1.
    ///   - outputChannels: Cout ≥ 1.
    ///   - expansion: t ≥ 1 (1: no expansion convolution).
    ///   - kernelSize: the depthwise kernel's side, odd (3 or 5 in these networks).
    ///   - stride: of the depthwise convolution, ≥ 1.
    ///   - activation: `.relu6` or `.silu`; also the squeeze activation.
    ///   - squeezeRatio: nil for no squeeze-and-excitation, else its width is `max(1, ⌊Cin · ratio⌋)`
    ///     (EfficientNet: 0.25 of the block's *input* channels).
    ///   - seed: seeds every convolution's initialisation.
    /// - Throws: `LayerError` for a setting out of range.
    public init(
        inputChannels: Int, outputChannels: Int, expansion: Int = 6, kernelSize: Int = 3, stride: Int = 1,
        activation: Activation = .relu6, squeezeRatio: Double? = nil, seed: UInt64 = 0
    ) throws(LayerError) {
        guard expansion >= 1 else { throw .setting(name: "expansion", value: "\(expansion)", expected: "≥ 1") }
        guard kernelSize >= 1, kernelSize % 2 == 1 else {
            throw .setting(name: "kernelSize", value: "\(kernelSize)", expected: "odd and ≥ 1")
        }
        var random = SplitMix64(seed: seed)
        let hidden = inputChannels * expansion
        (self.inputChannels, self.outputChannels, self.expansion) = (inputChannels, outputChannels, expansion)
        (self.stride, self.activation) = (stride, activation)
        if expansion != 1 {
            expandConv = try convolving { () throws(ConvolutionError) in
                try Conv1x1(inputChannels: inputChannels, outputChannels: hidden, bias: false, seed: random.next())
            }
            expandNorm = try BatchNorm(channels: hidden)
        }
        depthwise = try Conv2d(inputChannels: hidden, outputChannels: hidden, kernelSize: kernelSize, stride: stride,
                               padding: .symmetric(kernelSize / 2), groups: hidden, bias: false, seed: random.next())
        depthwiseNorm = try BatchNorm(channels: hidden)
        if let squeezeRatio {
            squeezeExcitation = try SqueezeExcitation(
                channels: hidden, squeezeChannels: max(1, Int(Double(inputChannels) * squeezeRatio)),
                activation: activation, seed: random.next())
        }
        project = try convolving { () throws(ConvolutionError) in
            try Conv1x1(inputChannels: hidden, outputChannels: outputChannels, bias: false, seed: random.next())
        }
        projectNorm = try BatchNorm(channels: outputChannels)
    }

    /// torchvision's keys of each stage: `(conv, norm)` prefixes, and the squeeze-and-excitation's.
    private var keys: (expand: (String, String), depthwise: (String, String), squeeze: String, project: (String, String)) {
        let root = squeezeExcitation == nil ? "conv" : "block"
        let first = expandConv == nil ? 0 : 1, squeeze = first + 1
        let projection = squeezeExcitation == nil ? squeeze : squeeze + 1
        return (("\(root).0.0", "\(root).0.1"), ("\(root).\(first).0", "\(root).\(first).1"), "\(root).\(squeeze)",
                squeezeExcitation == nil ? ("\(root).\(projection)", "\(root).\(projection + 1)")
                    : ("\(root).\(projection).0", "\(root).\(projection).1"))
    }

    /// Expansion, depthwise, squeeze-and-excitation and projection entries, with torchvision's keys.
    public var namedParameters: [NamedParameter] {
        let keys = keys
        return (expandConv?.namedParameters(keys.expand.0) ?? []) + (expandNorm?.namedParameters(keys.expand.1) ?? [])
            + depthwise.namedParameters(keys.depthwise.0) + depthwiseNorm.namedParameters(keys.depthwise.1)
            + (squeezeExcitation?.namedParameters.map { $0.prefixed(keys.squeeze) } ?? [])
            + project.namedParameters(keys.project.0) + projectNorm.namedParameters(keys.project.1)
    }

    /// Runs the block.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: `[N, Cout, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1]` in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, Cin, H, W]`.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        try trace(input, options: options).output
    }

    /// Every intermediate of one forward pass.
    private struct Trace {
        /// The expansion's convolution and batch-norm outputs (the input itself when t = 1 for `hidden`).
        var expanded: Tensor?, expandedNormed: Tensor?, hidden: Tensor
        var filtered, filteredNormed, activated, gated, projected, output: Tensor
    }

    private func trace(_ x: Tensor, options: ExecutionOptions) throws(LayerError) -> Trace {
        // x: [N, Cin, H, W]  →  hidden: [N, t·Cin, H, W]  →  [N, t·Cin, H', W']  →  y: [N, Cout, H', W']
        try x.checkImage(channels: inputChannels)
        var expanded: Tensor?, expandedNormed: Tensor?, hidden = x
        if let expandConv, let expandNorm {
            let e = try convolving { () throws(ConvolutionError) in try expandConv(x, options: options) }
            let n = try expandNorm(e)
            (expanded, expandedNormed, hidden) = (e, n, activation(n))
        }
        let filtered = try depthwise(hidden, options: options)
        let filteredNormed = try depthwiseNorm(filtered)
        let activated = activation(filteredNormed)
        let gated = try squeezeExcitation?(activated, options: options) ?? activated
        let projected = try convolving { () throws(ConvolutionError) in try project(gated, options: options) }
        var output = try projectNorm(projected)
        if hasResidual { output.add(x.converted(to: output.layout)) }
        return Trace(expanded: expanded, expandedNormed: expandedNormed, hidden: hidden, filtered: filtered,
                     filteredNormed: filteredNormed, activated: activated, gated: gated, projected: projected,
                     output: output)
    }

    // MARK: - Backward

    /// Back-propagates `outputGradient` through the block at inference (each batch norm the fixed
    /// affine map of its running statistics), re-running the forward pass for its intermediates.
    /// - Parameters:
    ///   - input: the forward input `[N, Cin, H, W]`.
    ///   - outputGradient: dL/dy, shaped like the output (any layout).
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: dL/dx and dL/dp for every trainable parameter, in `parameters` order.
    /// - Throws: `LayerError` when a shape does not fit.
    public func gradients(
        input: Tensor, outputGradient: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) -> BlockGradients {
        let t = try trace(input, options: options), keys = keys
        try outputGradient.check("output gradient", shape: t.output.shape)
        let gp = try projectNorm.gradients(input: t.projected, outputGradient: outputGradient)
        let cp = try convolving { () throws(ConvolutionError) in
            try project.gradients(input: t.gated, outputGradient: gp.input, options: options)
        }
        var squeezeGradient: BlockGradients?, activatedGradient = cp.input
        if let squeezeExcitation {
            squeezeGradient = try squeezeExcitation.gradients(input: t.activated, outputGradient: cp.input, options: options)
            activatedGradient = squeezeGradient!.input
        }
        let gd = try depthwiseNorm.gradients(
            input: t.filtered,
            outputGradient: try activation.inputGradient(input: t.filteredNormed, outputGradient: activatedGradient))
        let cd = try depthwise.gradients(input: t.hidden, outputGradient: gd.input, options: options)
        var parameters: [NamedParameter] = [], inputGradient = cd.input
        if let expandConv, let expandNorm, let expanded = t.expanded, let normed = t.expandedNormed {
            let ge = try expandNorm.gradients(
                input: expanded, outputGradient: try activation.inputGradient(input: normed, outputGradient: cd.input))
            let ce = try convolving { () throws(ConvolutionError) in
                try expandConv.gradients(input: input, outputGradient: ge.input, options: options)
            }
            parameters = ce.named(keys.expand.0) + ge.named(keys.expand.1)
            inputGradient = ce.input
        }
        parameters += cd.named(keys.depthwise.0) + gd.named(keys.depthwise.1)
            + (squeezeGradient?.parameters.map { $0.prefixed(keys.squeeze) } ?? [])
            + cp.named(keys.project.0) + gp.named(keys.project.1)
        if hasResidual { inputGradient.add(outputGradient.converted(to: inputGradient.layout)) }
        return BlockGradients(input: inputGradient, parameters: parameters)
    }
}
