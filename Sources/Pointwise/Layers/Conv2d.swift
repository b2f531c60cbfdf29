/// A 2-D convolution with the semantics and parameter names of PyTorch's
/// `nn.Conv2d(cin, cout, kernel_size, stride, padding, dilation, groups, bias)`, plus a fused
/// activation and TensorFlow's "SAME" padding.
///
/// `y[n, o, oh, ow] = act(bias[o] + Σ_{i, kh, kw} weight[o, i, kh, kw] ·
/// x[n, g·Cin/G + i, oh·stride − top + kh·dilation, ow·stride − left + kw·dilation])` for output
/// channel `o` in group `g`, with zeros outside the input. Inputs are `[N, Cin, H, W]` in either
/// layout. Depthwise convolutions (groups = Cin = Cout) with 3×3 or 5×5 kernels, stride 1 or 2 and
/// dilation 1 run on a dedicated SIMD kernel; everything else on im2col and the GEMM.
///
/// ```swift
/// let stem = try Conv2d(inputChannels: 3, outputChannels: 32, kernelSize: 3, stride: 2,
///                       padding: .symmetric(1), activation: .relu6)
/// let y = try stem(x)                  // [1, 3, 224, 224] → [1, 32, 112, 112]
/// ```
public struct Conv2d: Sendable {
    /// Cin, the input channels.
    public let inputChannels: Int
    /// Cout, the output channels.
    public let outputChannels: Int
    /// KH, the kernel's rows.
    public let kernelHeight: Int
    /// KW, the kernel's columns.
    public let kernelWidth: Int
    /// The step between output positions, in input rows and columns.
    public let stride: Int
    /// The zeros around the input.
    public let padding: Padding
    /// The spacing of the kernel's taps (1: adjacent).
    public let dilation: Int
    /// Channel groups: output channel o sees only the input channels of its group.
    public let groups: Int
    /// The activation fused after the bias.
    public var activation: Activation
    /// `weight`, shaped `[Cout, Cin/groups, KH, KW]` as in PyTorch.
    public let weight: Tensor
    /// `bias`, one value per output channel, or nil.
    public let bias: [Float]?
    /// The weights as `[Cout, Cin/G·KH·KW]` matrices, taps in (i, kh, kw) order: the channels-first
    /// im2col order.
    let packed: PackedWeights
    /// The same with the taps in (kh, kw, i) order: the channels-last im2col order.
    let packedChannelsLast: PackedWeights
    /// For depthwise convolutions, the taps as `[KH·KW, C]`: the channels-last kernel's order.
    let depthwiseTaps: [Float]
    /// For stems (few input channels, dense, square kernel), the weights as the stem kernel reads them.
    let stemWeights: [Float]

    /// A convolution with the given parameters.
    /// - Parameters:
    ///   - weight: `[Cout, Cin/groups, KH, KW]`, every dimension ≥ 1.
    ///   - bias: `Cout` values, or nil.
    ///   - stride: ≥ 1.
    ///   - padding: every side ≥ 0, or `.same`.
    ///   - dilation: ≥ 1.
    ///   - groups: ≥ 1, dividing Cout (Cin is then `groups` × the weight's second dimension).
    ///   - activation: applied after the bias.
    /// - Throws: `LayerError` for shapes or settings out of range.
    public init(
        weight: Tensor, bias: [Float]? = nil, stride: Int = 1, padding: Padding = .valid, dilation: Int = 1,
        groups: Int = 1, activation: Activation = .identity
    ) throws(LayerError) {
        let shape = weight.shape
        guard shape.count == 4, shape.allSatisfy({ $0 >= 1 }) else {
            throw .shape(role: "weight", expected: "[Cout, Cin/groups, KH, KW] with every dimension ≥ 1", actual: shape)
        }
        guard groups >= 1, shape[0] % groups == 0 else {
            throw .setting(name: "groups", value: "\(groups)", expected: "≥ 1 and dividing Cout = \(shape[0])")
        }
        // Strides, paddings and dilated kernels are bounded by the largest tensor, so the geometry's
        // sums and products of them and an input's sides cannot overflow.
        let largest = Tensor.maximumCount
        guard stride >= 1 else { throw .setting(name: "stride", value: "\(stride)", expected: "≥ 1") }
        guard stride <= largest else { throw .setting(name: "stride", value: "\(stride)", expected: "at most \(largest)") }
        guard dilation >= 1 else { throw .setting(name: "dilation", value: "\(dilation)", expected: "≥ 1") }
        let (dilatedSpan, overflow) = dilation.multipliedReportingOverflow(by: max(shape[2], shape[3]) - 1)
        guard !overflow, dilatedSpan <= largest else {
            throw .setting(name: "dilation", value: "\(dilation)", expected: "dilation × (kernel size − 1) at most \(largest)")
        }
        try padding.validate()
        if let bias, bias.count != shape[0] {
            throw .setting(name: "bias.count", value: "\(bias.count)", expected: "\(shape[0]) (one per output channel)")
        }
        (outputChannels, inputChannels, kernelHeight, kernelWidth) = (shape[0], shape[1] * groups, shape[2], shape[3])
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
        self.activation = activation
        self.bias = bias
        let values = weight.converted(to: .channelsFirst).scalars
        let fanIn = shape[1] * shape[2] * shape[3], taps = shape[2] * shape[3]
        // [Cout, i, tap] → [Cout, tap, i]
        var tapsFirst = [Float](repeating: 0, count: values.count)
        for o in 0..<shape[0] {
            for i in 0..<shape[1] {
                for t in 0..<taps { tapsFirst[o * fanIn + t * shape[1] + i] = values[o * fanIn + i * taps + t] }
            }
        }
        do {
            self.weight = try Tensor(shape: shape, values: values)
            packed = PackedWeights(weight: try Tensor(shape: [shape[0], fanIn], values: values), groups: groups)
            packedChannelsLast = PackedWeights(weight: try Tensor(shape: [shape[0], fanIn], values: tapsFirst), groups: groups)
        } catch { throw .tensor(error) }
        // Depthwise: Cin/G = 1, so tapsFirst is [C, tap]; the channels-last kernel wants [tap, C].
        depthwiseTaps = shape[1] == 1 && groups == shape[0]
            ? (0..<taps * shape[0]).map { tapsFirst[($0 % shape[0]) * taps + $0 / shape[0]] } : []
        stemWeights = shape[2] == shape[3]
            && Stem.supports(inputChannels: inputChannels, groups: groups, dilation: dilation)
            ? Stem.pack(values, outputChannels: shape[0]) : []
    }

    /// A convolution initialised like PyTorch's: weight and bias uniform in ±1/√(Cin/groups·KH·KW).
    /// - Parameters:
    ///   - inputChannels: Cin.
    ///   - outputChannels: Cout.
    ///   - kernelHeight: KH ≥ 1.
    ///   - kernelWidth: KW ≥ 1.
    ///   - stride: ≥ 1.
    ///   - padding: every side ≥ 0, or `.same`.
    ///   - dilation: ≥ 1.
    ///   - groups: ≥ 1, dividing Cin and Cout (Cin = Cout = groups is a depthwise convolution).
    ///   - bias: whether there is a bias.
    ///   - activation: applied after the bias.
    ///   - seed: seeds the random initialisation, so it is reproducible.
    /// - Throws: `LayerError` for channel counts or settings out of range.
    public init(
        inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int = 1,
        padding: Padding = .valid, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
        activation: Activation = .identity, seed: UInt64 = 0
    ) throws(LayerError) {
        guard groups >= 1, inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw .setting(name: "groups", value: "\(groups)",
                           expected: "≥ 1 and dividing Cin = \(inputChannels) and Cout = \(outputChannels)")
        }
        let shape = [outputChannels, inputChannels / groups, kernelHeight, kernelWidth]
        guard shape.allSatisfy({ $0 >= 1 }) else {
            throw .shape(role: "weight", expected: "[Cout, Cin/groups, KH, KW] with every dimension ≥ 1", actual: shape)
        }
        do { _ = try Tensor.validatedCount(of: shape) } catch { throw .tensor(error) }
        var random = SplitMix64(seed: seed)
        let bound = Float(1 / Double(shape[1] * kernelHeight * kernelWidth).squareRoot())
        let weights = (0..<shape.reduce(1, *)).map { _ in random.nextFloat(in: -bound...bound) }
        let biases = bias ? (0..<outputChannels).map { _ in random.nextFloat(in: -bound...bound) } : nil
        let weight: Tensor
        do { weight = try Tensor(shape: shape, values: weights) } catch { throw .tensor(error) }
        try self.init(weight: weight, bias: biases, stride: stride, padding: padding, dilation: dilation,
                      groups: groups, activation: activation)
    }

    /// A convolution with a square `kernelSize`×`kernelSize` kernel, initialised like PyTorch's
    /// (see `init(inputChannels:outputChannels:kernelHeight:kernelWidth:…)`).
    /// - Throws: `LayerError` for channel counts or settings out of range.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
        dilation: Int = 1, groups: Int = 1, bias: Bool = true, activation: Activation = .identity, seed: UInt64 = 0
    ) throws(LayerError) {
        try self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelHeight: kernelSize,
                      kernelWidth: kernelSize, stride: stride, padding: padding, dilation: dilation, groups: groups,
                      bias: bias, activation: activation, seed: seed)
    }

    /// Whether each channel is filtered on its own (groups = Cin = Cout).
    public var isDepthwise: Bool { groups == inputChannels && groups == outputChannels }

    /// `[N, Cout, H', W']` for an input `[N, Cin, H, W]`, as PyTorch computes it:
    /// `H' = ⌊(H + top + bottom − dilation·(KH − 1) − 1) / stride⌋ + 1`, likewise W' (with `.same`,
    /// `H' = ⌈H / stride⌉`).
    /// - Throws: `LayerError.shape` for an input of the wrong rank or channels, or too small.
    public func outputShape(forInput shape: [Int]) throws(LayerError) -> [Int] {
        let geometry = try geometry(forInput: shape)
        return [shape[0], outputChannels, geometry.outputHeight, geometry.outputWidth]
    }

    /// Runs the convolution.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]` in either layout; the output has the same layout.
    ///   - options: implementation and threads.
    /// - Returns: `[N, Cout, H', W']`.
    /// - Throws: `LayerError` when the input does not fit the weight.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        var output = Tensor.empty
        try forward(input, activation: activation, into: &output, options: options)
        return output
    }

    /// Runs the convolution into an existing output tensor, reusing its storage (no allocation
    /// when `output` is not shared and large enough).
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]` in either layout.
    ///   - output: overwritten with the result; when its shape or layout differs, its storage is
    ///     still reused if no other tensor shares it and it is large enough (a workspace buffer
    ///     can serve layers of several shapes), else it is replaced.
    ///   - layout: the output's layout (nil: the input's). A stem (a convolution of up to 4 input
    ///     channels, e.g. RGB) writes either layout from either directly, so a network that runs
    ///     channels-last takes channels-first pictures without a conversion pass; other
    ///     convolutions compute in the input's layout and convert.
    ///   - options: implementation and threads.
    /// - Throws: `LayerError` when the input does not fit the weight.
    public func forward(
        _ input: Tensor, into output: inout Tensor, layout: Layout? = nil, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) {
        try forward(input, activation: activation, into: &output, layout: layout, options: options)
    }

    func forward(
        _ input: Tensor, activation: Activation, into output: inout Tensor, layout: Layout? = nil,
        options: ExecutionOptions
    ) throws(LayerError) {
        let threads = try Self.validatedThreads(options)
        let geometry = try geometry(forInput: input.shape)
        let outputShape = [input.batchSize, outputChannels, geometry.outputHeight, geometry.outputWidth]
        let layout = layout ?? input.layout
        let direct = layout == input.layout || (options.algorithm == .fast && runsStemKernel)
        if !direct {
            var computed = Tensor.empty
            try forward(input, activation: activation, into: &computed, options: options)
            output = computed.converted(to: layout)
            return
        }
        do { try output.prepareOutput(shape: outputShape, layout: layout) } catch { throw .tensor(error) }
        switch options.algorithm {
        case .reference: referenceForward(input, geometry: geometry, activation: activation, into: &output)
        case .fast:
            fastForward(input, geometry: geometry, activation: activation, into: &output,
                        threads: threads, kernels: options.kernels)
        }
    }

    // MARK: - Backward

    /// Gradients of a loss with respect to everything the convolution read.
    public struct Gradients: Sendable {
        /// dL/dx, shaped like the input.
        public var input: Tensor
        /// dL/dweight, `[Cout, Cin/groups, KH, KW]`.
        public var weight: Tensor
        /// dL/dbias, or nil when the convolution has no bias.
        public var bias: [Float]?
    }

    /// Back-propagates `outputGradient` through the convolution.
    /// - Parameters:
    ///   - input: the forward input `[N, Cin, H, W]`.
    ///   - outputGradient: dL/dy, shaped like the output (any layout).
    ///   - preActivation: z = conv(x) + bias, shaped like the output, or nil to recompute it.
    ///   - options: implementation and threads.
    /// - Returns: fresh gradients for input, weight and bias.
    /// - Throws: `LayerError` when the tensors' shapes do not fit.
    public func gradients(
        input: Tensor, outputGradient: Tensor, preActivation: Tensor? = nil, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) -> Gradients {
        var gradients: Gradients
        do {
            gradients = Gradients(
                input: try Tensor(zeros: input.shape, layout: input.layout), weight: try Tensor(zeros: weight.shape),
                bias: bias.map { [Float](repeating: 0, count: $0.count) })
        } catch { throw .tensor(error) }
        try accumulateGradients(input: input, outputGradient: outputGradient, preActivation: preActivation,
                                into: &gradients, options: options)
        return gradients
    }

    /// Like `gradients(…)`, but adds into existing gradient buffers (zeroing them is a separate,
    /// explicit step), as a training loop summing over micro-batches needs.
    /// - Throws: `LayerError` when the tensors' or buffers' shapes do not fit.
    public func accumulateGradients(
        input: Tensor, outputGradient: Tensor, preActivation: Tensor? = nil, into gradients: inout Gradients,
        options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) {
        // x: [N, Cin, H, W]  dy: [N, Cout, H', W']  →  dx += ∂L/∂x,  dW += ∂L/∂W,  db += ∂L/∂b
        let threads = try Self.validatedThreads(options)
        let geometry = try geometry(forInput: input.shape)
        let outputShape = [input.batchSize, outputChannels, geometry.outputHeight, geometry.outputWidth]
        try outputGradient.check("output gradient", shape: outputShape)
        try preActivation?.check("pre-activation", shape: outputShape)
        try gradients.input.checkGradientBuffer(for: input)
        guard gradients.weight.shape == weight.shape, gradients.weight.layout == .channelsFirst else {
            throw .shape(role: "weight gradient", expected: "\(weight.shape) in nchw", actual: gradients.weight.shape)
        }
        if let bias, gradients.bias?.count != bias.count {
            throw .setting(name: "bias gradient count", value: "\(gradients.bias?.count ?? 0)", expected: "\(bias.count)")
        }
        let dy = outputGradient.converted(to: input.layout)
        switch options.algorithm {
        case .reference:
            let dz = referencePreActivationGradient(input, geometry: geometry, outputGradient: dy)
            referenceBackward(input, geometry: geometry, preActivationGradient: dz, into: &gradients)
        case .fast:
            var dz = dy
            if activation != .identity {
                var z = preActivation?.converted(to: input.layout) ?? Tensor.empty
                if preActivation == nil { try forward(input, activation: .identity, into: &z, options: options) }
                dz = activation.gradient(outputGradient: dy, preActivation: z, kernels: options.kernels)
            }
            fastBackward(input, geometry: geometry, preActivationGradient: dz, into: &gradients,
                         threads: threads, kernels: options.kernels)
        }
    }

    // MARK: - Validation

    /// The geometry for an input of `shape`, after checking its rank and channels.
    func geometry(forInput shape: [Int]) throws(LayerError) -> Conv2dGeometry {
        guard shape.count == 4, shape[1] == inputChannels else {
            throw .shape(role: "input", expected: "[N, \(inputChannels), H, W]", actual: shape)
        }
        do { _ = try Tensor.validatedCount(of: shape) } catch { throw .tensor(error) }
        return try Conv2dGeometry(self, height: shape[2], width: shape[3], inputShape: shape)
    }

    static func validatedThreads(_ options: ExecutionOptions) throws(LayerError) -> Int {
        do { return try options.validatedThreads() } catch { throw .convolution(error) }
    }
}
