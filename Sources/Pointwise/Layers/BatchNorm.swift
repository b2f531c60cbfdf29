import Foundation

/// Batch normalisation with the semantics of PyTorch's `nn.BatchNorm1d/2d/3d(C, eps, momentum)`
/// (affine, tracking running statistics): per channel, `y = (x − mean) / √(var + eps) · weight + bias`.
///
/// With `.batch` statistics (training) the mean and biased variance are taken over the batch and
/// every spatial position; `trainingForward` also moves the running statistics toward them, using
/// the unbiased variance. With `.running` statistics (inference) the running ones are used, and
/// the layer is an affine map per channel that `folded(into:)` merges into a preceding convolution.
public struct BatchNorm: Sendable {
    /// Which statistics normalise the input.
    public enum Statistics: Sendable {
        /// The batch's own mean and biased variance (PyTorch's `train()` mode).
        case batch
        /// `running_mean` and `running_var` (PyTorch's `eval()` mode).
        case running
    }

    /// C, the channels.
    public let channels: Int
    /// Added to the variance before the square root.
    public let eps: Float
    /// The weight of the newest batch in the running statistics' update.
    public let momentum: Float
    /// `weight` (γ), one scale per channel.
    public internal(set) var weight: [Float]
    /// `bias` (β), one shift per channel.
    public internal(set) var bias: [Float]
    /// `running_mean`, per channel.
    public internal(set) var runningMean: [Float]
    /// `running_var` (unbiased), per channel.
    public internal(set) var runningVar: [Float]
    /// `num_batches_tracked`: how many training batches updated the running statistics.
    public internal(set) var numBatchesTracked: Int

    /// A layer as PyTorch initialises it: weight 1, bias 0, running mean 0, running variance 1.
    /// - Parameters:
    ///   - channels: C, ≥ 1.
    ///   - eps: ≥ 0.
    ///   - momentum: in 0…1.
    /// - Throws: `LayerError.setting` for a value out of range.
    public init(channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) throws(LayerError) {
        guard channels >= 1 else { throw .setting(name: "channels", value: "\(channels)", expected: "≥ 1") }
        try self.init(
            weight: Array(repeating: 1, count: channels), bias: Array(repeating: 0, count: channels),
            runningMean: Array(repeating: 0, count: channels), runningVar: Array(repeating: 1, count: channels),
            eps: eps, momentum: momentum)
    }

    /// A layer with the given parameters and statistics (a checkpoint's `weight`, `bias`,
    /// `running_mean`, `running_var` and `num_batches_tracked`).
    /// - Parameters:
    ///   - weight, bias, runningMean, runningVar: C ≥ 1 values each; variances ≥ 0.
    ///   - numBatchesTracked: the training batches seen so far.
    ///   - eps: ≥ 0.
    ///   - momentum: in 0…1.
    /// - Throws: `LayerError.setting` when the counts differ or a value is out of range.
    public init(
        weight: [Float], bias: [Float], runningMean: [Float], runningVar: [Float], numBatchesTracked: Int = 0,
        eps: Float = 1e-5, momentum: Float = 0.1
    ) throws(LayerError) {
        let channels = weight.count
        for (name, values) in [("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)]
        where values.count != channels {
            throw .setting(name: "\(name).count", value: "\(values.count)", expected: "\(channels) (weight.count)")
        }
        guard channels >= 1 else { throw .setting(name: "weight.count", value: "0", expected: "≥ 1") }
        guard runningVar.allSatisfy({ $0 >= 0 }) else {
            throw .setting(name: "runningVar", value: "\(runningVar.min()!)", expected: "≥ 0")
        }
        guard eps >= 0 else { throw .setting(name: "eps", value: "\(eps)", expected: "≥ 0") }
        guard (0...1).contains(momentum) else {
            throw .setting(name: "momentum", value: "\(momentum)", expected: "0…1")
        }
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        self.weight = weight
        self.bias = bias
        self.runningMean = runningMean
        self.runningVar = runningVar
        self.numBatchesTracked = numBatchesTracked
    }

    /// Normalises `input`.
    /// - Parameters:
    ///   - input: `[N, C, *spatial]`, either layout.
    ///   - statistics: `.running` (inference, the default) or `.batch` (training's normalisation,
    ///     without updating the running statistics: see `trainingForward`).
    /// - Returns: the input's shape and layout.
    /// - Throws: `LayerError.shape` when the channels differ, or when `.batch` statistics have fewer
    ///   than two values per channel.
    public func callAsFunction(_ input: Tensor, statistics: Statistics = .running) throws(LayerError) -> Tensor {
        // x: [N, C, *S]  →  y: [N, C, *S]
        let normalisation = try self.normalisation(of: input, statistics: statistics)
        let means = normalisation.map { Float($0.mean) }
        let scales = (0..<channels).map { Float(Double(weight[$0]) * normalisation[$0].inverseDeviation) }
        var output = Tensor.zeros(like: input)
        let x = input.pointer, y = output.mutablePointer(), pixels = input.pixelsPerImage
        // y = (x − mean) · scale + β, walking memory in order: whole planes (channels-first) or
        // whole pixels (channels-last), so the loops vectorise.
        for n in 0..<input.batchSize {
            let base = n * channels * pixels
            switch input.layout {
            case .channelsFirst:
                for c in 0..<channels {
                    let (mean, scale, beta) = (means[c], scales[c], bias[c])
                    let from = x + base + c * pixels, to = y + base + c * pixels
                    for i in 0..<pixels { to[i] = (from[i] - mean) * scale + beta }
                }
            case .channelsLast:
                means.withUnsafeBufferPointer { means in
                    scales.withUnsafeBufferPointer { scales in
                        bias.withUnsafeBufferPointer { beta in
                            for p in 0..<pixels {
                                let from = x + base + p * channels, to = y + base + p * channels
                                for c in 0..<channels { to[c] = (from[c] - means[c]) * scales[c] + beta[c] }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Normalises `input` with its own statistics and updates the running ones, as a PyTorch layer
    /// in `train()` mode does: `running = (1 − momentum) · running + momentum · batch`, with the
    /// unbiased variance.
    /// - Parameter input: `[N, C, *spatial]`, either layout, with N · spatial size ≥ 2.
    /// - Returns: the input's shape and layout.
    /// - Throws: `LayerError.shape` when the channels differ or there is one value per channel.
    public mutating func trainingForward(_ input: Tensor) throws(LayerError) -> Tensor {
        // x: [N, C, *S]  →  y: [N, C, *S]; running_mean, running_var updated
        let output = try self(input, statistics: .batch)
        let count = Double(input.batchSize * input.pixelsPerImage), rate = Double(momentum)
        for (c, moments) in batchMoments(of: input).enumerated() {
            runningMean[c] = Float((1 - rate) * Double(runningMean[c]) + rate * moments.mean)
            runningVar[c] = Float((1 - rate) * Double(runningVar[c]) + rate * moments.variance * count / (count - 1))
        }
        numBatchesTracked += 1
        return output
    }

    /// Per channel, the mean and 1/√(var + eps) that normalise `input`.
    private func normalisation(
        of input: Tensor, statistics: Statistics
    ) throws(LayerError) -> [(mean: Double, inverseDeviation: Double)] {
        guard input.channels == channels else {
            throw .shape(role: "input", expected: "[N, \(channels), *spatial]", actual: input.shape)
        }
        let moments: [(mean: Double, variance: Double)]
        switch statistics {
        case .running:
            moments = (0..<channels).map { (Double(runningMean[$0]), Double(runningVar[$0])) }
        case .batch:
            guard input.batchSize * input.pixelsPerImage >= 2 else {
                throw .shape(role: "input", expected: "more than one value per channel (N · spatial size ≥ 2) "
                             + "for batch statistics", actual: input.shape)
            }
            moments = batchMoments(of: input)
        }
        return moments.map { ($0.mean, 1 / ($0.variance + Double(eps)).squareRoot()) }
    }

    /// Per channel, the batch mean and biased variance over images and positions (two passes, in Double).
    private func batchMoments(of input: Tensor) -> [(mean: Double, variance: Double)] {
        let x = input.pointer, count = Double(input.batchSize * input.pixelsPerImage)
        return (0..<channels).map { c in
            var sum = 0.0, squares = 0.0
            input.forEachIndex(inChannel: c) { sum += Double(x[$0]) }
            let mean = sum / count
            input.forEachIndex(inChannel: c) { squares += (Double(x[$0]) - mean) * (Double(x[$0]) - mean) }
            return (mean, squares / count)
        }
    }

    // MARK: - Backward

    /// Gradients of a loss with respect to the input and the affine parameters.
    public struct Gradients: Sendable {
        /// dL/dx, shaped like the input.
        public var input: Tensor
        /// dL/dweight (γ), per channel.
        public var weight: [Float]
        /// dL/dbias (β), per channel.
        public var bias: [Float]
    }

    /// Back-propagates `outputGradient` through the normalisation.
    /// - Parameters:
    ///   - input: the forward input `[N, C, *spatial]`.
    ///   - outputGradient: dL/dy, shaped like the input (any layout).
    ///   - statistics: the ones the forward pass used. With `.batch` the gradient flows through the
    ///     batch mean and variance too (every output depends on every input of its channel).
    /// - Returns: fresh gradients for input, weight and bias.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func gradients(
        input: Tensor, outputGradient: Tensor, statistics: Statistics = .running
    ) throws(LayerError) -> Gradients {
        var gradients = Gradients(
            input: Tensor.zeros(like: input), weight: Array(repeating: 0, count: channels),
            bias: Array(repeating: 0, count: channels))
        try accumulateGradients(input: input, outputGradient: outputGradient, statistics: statistics, into: &gradients)
        return gradients
    }

    /// Like `gradients(…)`, but adds into existing buffers (zeroing them is a separate step).
    /// - Throws: `LayerError.shape` when a tensor's or buffer's shape does not fit.
    public func accumulateGradients(
        input: Tensor, outputGradient: Tensor, statistics: Statistics = .running, into gradients: inout Gradients
    ) throws(LayerError) {
        // x: [N, C, *S]  dy: [N, C, *S]; per channel, over its m = N·|S| values, x̂ = (x − mean)·istd:
        // dβ += Σ dy,  dγ += Σ dy·x̂,  dx += γ·istd·(dy − [Σ dy / m + x̂ · Σ dy·x̂ / m]),
        // the bracket with .batch statistics only.
        let normalisation = try self.normalisation(of: input, statistics: statistics)
        try outputGradient.check("output gradient", shape: input.shape)
        try gradients.input.checkGradientBuffer(for: input)
        guard gradients.weight.count == channels, gradients.bias.count == channels else {
            throw .setting(name: "gradient buffer counts", value: "\(gradients.weight.count), \(gradients.bias.count)",
                           expected: "\(channels) each")
        }
        let dyTensor = outputGradient.converted(to: input.layout)
        let x = input.pointer, dy = dyTensor.pointer, dx = gradients.input.mutablePointer()
        let count = Double(input.batchSize * input.pixelsPerImage)
        for c in 0..<channels {
            let (mean, deviation) = normalisation[c]
            var sum = 0.0, weightedSum = 0.0
            input.forEachIndex(inChannel: c) { i in
                sum += Double(dy[i])
                weightedSum += Double(dy[i]) * (Double(x[i]) - mean) * deviation
            }
            gradients.bias[c] += Float(sum)
            gradients.weight[c] += Float(weightedSum)
            let (shift, slope) = statistics == .batch ? (sum / count, weightedSum / count) : (0, 0)
            let scale = Double(weight[c]) * deviation
            input.forEachIndex(inChannel: c) { i in
                dx[i] += Float(scale * (Double(dy[i]) - shift - (Double(x[i]) - mean) * deviation * slope))
            }
        }
    }
}
