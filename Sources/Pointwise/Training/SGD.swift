/// Stochastic gradient descent with momentum, PyTorch's `torch.optim.SGD`:
///
/// ```
/// g = grad + weight_decay · p
/// b = g on the first step, else momentum · b + (1 − dampening) · g
/// g = g + momentum · b  (Nesterov)   or   g = b  (classical momentum; plain SGD when momentum = 0)
/// p = p − lr · g
/// ```
public struct SGD: Optimizer {
    /// lr.
    public var learningRate: Float
    /// The momentum factor (0 for plain SGD).
    public var momentum: Float
    /// The dampening of the momentum buffer's new gradient.
    public var dampening: Float
    /// L2 penalty added to the gradient.
    public var weightDecay: Float
    /// Nesterov momentum.
    public var nesterov: Bool
    private var state = OptimizerState()

    /// An optimizer with PyTorch's defaults except the learning rate.
    /// - Parameters:
    ///   - learningRate: lr > 0.
    ///   - momentum: ≥ 0.
    ///   - dampening: 0 (PyTorch's default) … 1.
    ///   - weightDecay: ≥ 0.
    ///   - nesterov: needs momentum > 0 and dampening 0.
    /// - Throws: `TrainingError.setting` for values PyTorch rejects.
    public init(
        learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0,
        nesterov: Bool = false
    ) throws(TrainingError) {
        guard learningRate > 0, learningRate.isFinite else {
            throw .setting(name: "learning rate", value: "\(learningRate)", expected: "> 0")
        }
        guard momentum >= 0, weightDecay >= 0 else {
            throw .setting(name: "momentum, weight decay", value: "\(momentum), \(weightDecay)", expected: "≥ 0")
        }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw .setting(name: "nesterov", value: "momentum \(momentum), dampening \(dampening)",
                           expected: "momentum > 0 and dampening 0")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// One SGD step on `parameter`.
    public mutating func update(_ parameter: Parameter) {
        let (lr, mu, dampening, decay, nesterov) = (learningRate, momentum, dampening, weightDecay, self.nesterov)
        let gradient = parameter.gradient.pointer
        state.withState(of: parameter, buffers: mu == 0 ? 0 : 1) { steps, buffers in
            parameter.value.withUnsafeMutableBufferPointer { p in
                for i in p.indices {
                    var g = gradient[i] + decay * p[i]
                    if mu != 0 {
                        let b = steps == 0 ? g : mu * buffers[0][i] + (1 - dampening) * g
                        buffers[0][i] = b
                        g = nesterov ? g + mu * b : b
                    }
                    p[i] -= lr * g
                }
            }
        }
    }
}
