import Foundation

/// A 1×1 (pointwise) convolution with the semantics of PyTorch's
/// `nn.Conv{1,2,3}d(cin, cout, kernel_size=1, stride, groups, bias)`, plus a fused epilogue.
///
/// Each output pixel is a linear map of the input pixel's channel vector:
/// `y[n, o, s] = act(bias[o] + Σ_i weight[o, i] · x[n, g·Cin/G + i, s·stride] + residual[n, o, s])`
/// for output channel `o` in group `g`. It works on `[N, C]`, `[N, C, L]`, `[N, C, H, W]` and
/// `[N, C, D, H, W]` tensors of any spatial size, in both layouts, and is differentiable.
///
/// ```swift
/// let conv = try Conv1x1(inputChannels: 512, outputChannels: 256)
/// let y = try conv(x)                  // [1, 512, 32, 32] → [1, 256, 32, 32]
/// ```
public struct Conv1x1: Sendable {
    /// Cin, the input channels.
    public let inputChannels: Int
    /// Cout, the output channels.
    public let outputChannels: Int
    /// Channel groups: output channel o sees only the input channels of its group.
    public let groups: Int
    /// Spatial stride: the output keeps every `stride`-th position along each spatial axis.
    public let stride: Int
    /// The activation of the fused epilogue.
    public var activation: Activation
    /// `weight`, shaped `[Cout, Cin/groups]` (PyTorch's `[Cout, Cin/groups, 1, 1]` without the ones).
    public let weight: Tensor
    /// `bias`, one value per output channel, or nil.
    public let bias: [Float]?
    let packed: PackedWeights

    /// A convolution with the given parameters.
    /// - Parameters:
    ///   - weight: `[Cout, Cin/groups]`, or the same followed by 1, 1×1 or 1×1×1 (PyTorch's shape).
    ///   - bias: `Cout` values, or nil.
    ///   - stride: ≥ 1.
    ///   - groups: ≥ 1, dividing Cout (Cin is then `groups` × the weight's second dimension).
    ///   - activation: applied after bias and residual.
    /// - Throws: `ConvolutionError` for shapes or settings that do not fit together.
    public init(
        weight: Tensor, bias: [Float]? = nil, stride: Int = 1, groups: Int = 1,
        activation: Activation = .identity
    ) throws(ConvolutionError) {
        let shape = weight.shape
        guard shape.dropFirst(2).allSatisfy({ $0 == 1 }), shape[0] >= 1, shape[1] >= 1 else {
            throw .weightShape(shape)
        }
        guard groups >= 1, shape[0] % groups == 0 else {
            // Cin is groups × the weight's second dimension, when that is a number.
            let (inputChannels, overflow) = shape[1].multipliedReportingOverflow(by: max(groups, 1))
            throw .groups(groups, inputChannels: overflow ? shape[1] : inputChannels, outputChannels: shape[0])
        }
        guard stride >= 1 else { throw .stride(stride) }
        if let bias, bias.count != shape[0] { throw .biasCount(expected: shape[0], actual: bias.count) }
        inputChannels = shape[1] * groups
        outputChannels = shape[0]
        self.groups = groups
        self.stride = stride
        self.activation = activation
        self.bias = bias
        do {
            self.weight = try Tensor(shape: [shape[0], shape[1]], values: weight.scalars)
        } catch { throw .tensor(error) }
        packed = PackedWeights(weight: self.weight, groups: groups)
    }

    /// A convolution initialised like PyTorch's: weight and bias uniform in ±1/√(Cin/groups).
    /// - Parameters:
    ///   - inputChannels: Cin.
    ///   - outputChannels: Cout.
    ///   - bias: whether there is a bias.
    ///   - stride: ≥ 1.
    ///   - groups: ≥ 1, dividing Cin and Cout.
    ///   - activation: applied after bias and residual.
    ///   - seed: seeds the random initialisation, so it is reproducible.
    /// - Throws: `ConvolutionError` for channel counts, groups or stride that do not fit.
    public init(
        inputChannels: Int, outputChannels: Int, bias: Bool = true, stride: Int = 1, groups: Int = 1,
        activation: Activation = .identity, seed: UInt64 = 0
    ) throws(ConvolutionError) {
        guard groups >= 1, inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw .groups(groups, inputChannels: inputChannels, outputChannels: outputChannels)
        }
        let fanIn = inputChannels / groups
        guard fanIn >= 1, outputChannels >= 1 else {
            throw .weightShape([outputChannels, fanIn])
        }
        do { _ = try Tensor.validatedCount(of: [outputChannels, fanIn]) } catch { throw .tensor(error) }
        var random = SplitMix64(seed: seed)
        let bound = Float(1 / Double(fanIn).squareRoot())
        let weights = (0..<outputChannels * fanIn).map { _ in random.nextFloat(in: -bound...bound) }
        let biases = bias ? (0..<outputChannels).map { _ in random.nextFloat(in: -bound...bound) } : nil
        let weight: Tensor
        do { weight = try Tensor(shape: [outputChannels, fanIn], values: weights) } catch { throw .tensor(error) }
        try self.init(weight: weight, bias: biases, stride: stride, groups: groups, activation: activation)
    }

    /// The output shape for an input of logical shape `inputShape` (`[N, Cin, *spatial]`):
    /// `[N, Cout, *spatial']` with each spatial size `s' = ⌊(s − 1)/stride⌋ + 1` (0 stays 0).
    /// - Throws: `ConvolutionError.tensor` when `inputShape` is not a tensor's shape (rank 2 to 5,
    ///   dimensions ≥ 0, not too many elements).
    public func outputShape(forInput inputShape: [Int]) throws(ConvolutionError) -> [Int] {
        do { _ = try Tensor.validatedCount(of: inputShape) } catch { throw .tensor(error) }
        return [inputShape[0], outputChannels]
            + inputShape.dropFirst(2).map { $0 == 0 ? 0 : ($0 - 1) / stride + 1 }
    }

    /// Runs the convolution.
    /// - Parameters:
    ///   - input: `[N, Cin, *spatial]` in either layout; the output has the same layout.
    ///   - residual: nil, or a tensor of the output's shape added before the activation (ResNet's
    ///     shortcut, MobileNetV2's inverted residual).
    ///   - options: implementation and threads.
    /// - Returns: `[N, Cout, *spatial']`, in the input's layout.
    /// - Throws: `ConvolutionError` when the input or residual does not fit the weight.
    public func callAsFunction(
        _ input: Tensor, residual: Tensor? = nil, options: ExecutionOptions = ExecutionOptions()
    ) throws(ConvolutionError) -> Tensor {
        try forward(input, residual: residual, activation: activation, options: options)
    }

    /// Runs the convolution into an existing output tensor, reusing its storage (no allocation
    /// when `output` is not shared), as a caller running the same layer repeatedly wants.
    /// - Parameters:
    ///   - input: `[N, Cin, *spatial]` in either layout.
    ///   - residual: nil, or a tensor of the output's shape added before the activation.
    ///   - output: overwritten with the result; when its shape or layout differs, its storage is
    ///     still reused if no other tensor shares it and it is large enough (a workspace buffer
    ///     can serve layers of several shapes), else it is replaced.
    ///   - options: implementation and threads.
    /// - Throws: `ConvolutionError` when the input or residual does not fit the weight.
    public func forward(
        _ input: Tensor, residual: Tensor? = nil, into output: inout Tensor,
        options: ExecutionOptions = ExecutionOptions()
    ) throws(ConvolutionError) {
        try forward(input, residual: residual, activation: activation, into: &output, options: options)
    }

    func forward(
        _ input: Tensor, residual: Tensor?, activation: Activation, options: ExecutionOptions
    ) throws(ConvolutionError) -> Tensor {
        var output = Tensor.empty
        try forward(input, residual: residual, activation: activation, into: &output, options: options)
        return output
    }

    func forward(
        _ input: Tensor, residual: Tensor?, activation: Activation, into output: inout Tensor,
        options: ExecutionOptions
    ) throws(ConvolutionError) {
        let threads = try options.validatedThreads()
        try checkInput(input)
        let outputShape = try outputShape(forInput: input.shape)
        let residual = try residual.map { r throws(ConvolutionError) in
            try matching(r, role: "residual", shape: outputShape, layout: input.layout)
        }
        do { try output.prepareOutput(shape: outputShape, layout: input.layout) } catch { throw .tensor(error) }
        let sampled = try subsampled(input)
        switch options.algorithm {
        case .reference:
            referenceForward(sampled, residual: residual, activation: activation, into: &output)
        case .fast:
            fastForward(sampled, residual: residual, activation: activation, into: &output,
                        threads: threads, kernels: options.kernels)
        }
    }

    // MARK: - Backward

    /// Gradients of a loss with respect to everything the convolution read.
    public struct Gradients: Sendable {
        /// dL/dx, shaped like the input.
        public var input: Tensor
        /// dL/dweight, shaped `[Cout, Cin/groups]`.
        public var weight: Tensor
        /// dL/dbias, or nil when the convolution has no bias.
        public var bias: [Float]?
        /// dL/dresidual (the gradient at the pre-activation), or nil when no residual was given.
        public var residual: Tensor?
    }

    /// Back-propagates `outputGradient` through the convolution.
    ///
    /// The activation's derivative needs the pre-activation z; pass it if you kept it, otherwise
    /// it is recomputed from `input` (and `residual`, which must then be the one used forward).
    /// - Parameters:
    ///   - input: the forward input.
    ///   - residual: the forward residual, or nil.
    ///   - outputGradient: dL/dy, shaped like the output.
    ///   - preActivation: z = W·x + bias + residual, shaped like the output, or nil.
    ///   - options: implementation and threads.
    /// - Returns: fresh gradients for input, weight, bias and residual.
    /// - Throws: `ConvolutionError` when the tensors' shapes do not fit.
    public func gradients(
        input: Tensor, residual: Tensor? = nil, outputGradient: Tensor, preActivation: Tensor? = nil,
        options: ExecutionOptions = ExecutionOptions()
    ) throws(ConvolutionError) -> Gradients {
        var gradients: Gradients
        do {
            gradients = Gradients(
                input: try Tensor(zeros: input.shape, layout: input.layout),
                weight: try Tensor(zeros: weight.shape),
                bias: bias.map { [Float](repeating: 0, count: $0.count) },
                residual: try residual.map { r throws(TensorError) in try Tensor(zeros: r.shape, layout: input.layout) })
        } catch { throw .tensor(error) }
        try accumulateGradients(
            input: input, residual: residual, outputGradient: outputGradient, preActivation: preActivation,
            into: &gradients, options: options)
        return gradients
    }

    /// Like `gradients(…)`, but adds into existing gradient buffers (zeroing them is a separate,
    /// explicit step), as a training loop summing over micro-batches needs.
    /// - Throws: `ConvolutionError` when the tensors' or buffers' shapes do not fit.
    public func accumulateGradients(
        input: Tensor, residual: Tensor? = nil, outputGradient: Tensor, preActivation: Tensor? = nil,
        into gradients: inout Gradients, options: ExecutionOptions = ExecutionOptions()
    ) throws(ConvolutionError) {
        let threads = try options.validatedThreads()
        try checkInput(input)
        let outputShape = try outputShape(forInput: input.shape)
        let layout = input.layout
        let dy = try matching(outputGradient, role: "output gradient", shape: outputShape, layout: layout)
        let residual = try residual.map { r throws(ConvolutionError) in
            try matching(r, role: "residual", shape: outputShape, layout: layout)
        }
        let z = try preActivation.map { t throws(ConvolutionError) in
            try matching(t, role: "pre-activation", shape: outputShape, layout: layout)
        }
        try checkBuffers(gradients, input: input, outputShape: outputShape, hasResidual: residual != nil)
        let sampled = try subsampled(input)
        let dz: Tensor
        switch options.algorithm {
        case .reference: dz = referencePreActivationGradient(sampled, residual: residual, outputGradient: dy)
        case .fast:
            dz = try preActivationGradient(dy, input: input, residual: residual, preActivation: z, options: options)
        }
        if gradients.residual != nil { gradients.residual!.add(dz) }
        // With stride > 1 the GEMMs produce the gradient on the sampled grid; it is then added at
        // the sampled positions of the full input gradient (every other position gets zero).
        var sampledGradient = stride == 1 ? gradients.input : Tensor.zeros(like: sampled)
        if stride == 1 { gradients.input = Tensor.empty }
        switch options.algorithm {
        case .reference:
            referenceBackward(sampled, preActivationGradient: dz, inputGradient: &sampledGradient,
                              weightGradient: &gradients.weight, biasGradient: &gradients.bias)
        case .fast:
            fastBackward(sampled, preActivationGradient: dz, inputGradient: &sampledGradient,
                         weightGradient: &gradients.weight, biasGradient: &gradients.bias,
                         threads: threads, kernels: options.kernels)
        }
        if stride == 1 {
            gradients.input = sampledGradient
        } else {
            scatterAdd(sampledGradient, into: &gradients.input)
        }
    }

    /// dL/dz = dL/dy · act'(z), recomputing z when it was not given.
    private func preActivationGradient(
        _ dy: Tensor, input: Tensor, residual: Tensor?, preActivation: Tensor?, options: ExecutionOptions
    ) throws(ConvolutionError) -> Tensor {
        guard activation != .identity else { return dy }
        let z: Tensor
        if let preActivation {
            z = preActivation
        } else {
            z = try forward(input, residual: residual, activation: .identity, options: options)
        }
        return activation.gradient(outputGradient: dy, preActivation: z, kernels: options.kernels)
    }

    // MARK: - Validation

    private func checkInput(_ input: Tensor) throws(ConvolutionError) {
        guard input.channels == inputChannels else {
            throw .inputChannels(expected: inputChannels, actual: input.channels)
        }
    }

    /// `tensor` in `layout` if it has `shape`.
    private func matching(
        _ tensor: Tensor, role: String, shape: [Int], layout: Layout
    ) throws(ConvolutionError) -> Tensor {
        guard tensor.shape == shape else { throw .shapeMismatch(role: role, expected: shape, actual: tensor.shape) }
        return tensor.converted(to: layout)
    }

    private func checkBuffers(
        _ gradients: Gradients, input: Tensor, outputShape: [Int], hasResidual: Bool
    ) throws(ConvolutionError) {
        if gradients.input.shape != input.shape || gradients.input.layout != input.layout {
            throw .shapeMismatch(role: "input gradient", expected: input.shape, actual: gradients.input.shape)
        }
        if gradients.weight.shape != weight.shape {
            throw .shapeMismatch(role: "weight gradient", expected: weight.shape, actual: gradients.weight.shape)
        }
        if let bias, gradients.bias?.count != bias.count {
            throw .biasCount(expected: bias.count, actual: gradients.bias?.count ?? 0)
        }
        if hasResidual {
            guard let r = gradients.residual, r.shape == outputShape, r.layout == input.layout else {
                throw .shapeMismatch(role: "residual gradient", expected: outputShape,
                                     actual: gradients.residual?.shape ?? [])
            }
        }
    }
}

/// SplitMix64: a small, fast, reproducible generator for initialisation and tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in `range`.
    public mutating func nextFloat(in range: ClosedRange<Float>) -> Float {
        let unit = Float(next() >> 40) / Float(1 << 24)
        return range.lowerBound + (range.upperBound - range.lowerBound) * unit
    }
}
