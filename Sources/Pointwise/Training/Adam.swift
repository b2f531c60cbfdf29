import Foundation

/// Adam and AdamW, PyTorch's `torch.optim.Adam` and `torch.optim.AdamW`. At step t (from 1):
///
/// ```
/// Adam:  g = grad + weight_decay · p        AdamW:  p = p · (1 − lr · weight_decay), g = grad
/// m = β1 · m + (1 − β1) · g
/// v = β2 · v + (1 − β2) · g²
/// p = p − lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
/// ```
public struct Adam: Optimizer {
    /// lr.
    public var learningRate: Float
    /// β1, the decay of the first-moment estimate.
    public var beta1: Float
    /// β2, the decay of the second-moment estimate.
    public var beta2: Float
    /// ε, added to the denominator.
    public var epsilon: Float
    /// The weight decay: an L2 penalty in the gradient (Adam), or decoupled (AdamW).
    public var weightDecay: Float
    /// AdamW's decoupled weight decay instead of Adam's L2 penalty.
    public var decoupledWeightDecay: Bool
    private var state = OptimizerState()

    /// Adam (L2 weight decay) with PyTorch's defaults except the learning rate.
    /// - Parameters:
    ///   - learningRate: lr > 0.
    ///   - beta1: in 0..<1.
    ///   - beta2: in 0..<1.
    ///   - epsilon: ≥ 0.
    ///   - weightDecay: ≥ 0.
    ///   - decoupledWeightDecay: true for AdamW.
    /// - Throws: `TrainingError.setting` for values PyTorch rejects.
    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) throws(TrainingError) {
        guard learningRate > 0, learningRate.isFinite else {
            throw .setting(name: "learning rate", value: "\(learningRate)", expected: "> 0")
        }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw .setting(name: "betas", value: "(\(beta1), \(beta2))", expected: "each in 0..<1")
        }
        guard epsilon >= 0, weightDecay >= 0 else {
            throw .setting(name: "epsilon, weight decay", value: "\(epsilon), \(weightDecay)", expected: "≥ 0")
        }
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW: Adam with decoupled weight decay, PyTorch's defaults (weight decay 0.01).
    /// - Throws: `TrainingError.setting` for values PyTorch rejects.
    public static func adamW(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0.01
    ) throws(TrainingError) -> Adam {
        try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                 weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// One Adam (or AdamW) step on `parameter`.
    public mutating func update(_ parameter: Parameter) {
        let (lr, b1, b2, eps, decay, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
        let gradient = parameter.gradient.pointer
        state.withState(of: parameter, buffers: 2) { steps, buffers in
            let t = Float(steps + 1)
            let stepSize = lr / (1 - pow(b1, t)), correction2 = (1 - pow(b2, t)).squareRoot()
            parameter.value.withUnsafeMutableBufferPointer { p in
                for i in p.indices {
                    var g = gradient[i]
                    if decoupled { p[i] *= 1 - lr * decay } else { g += decay * p[i] }
                    let m = b1 * buffers[0][i] + (1 - b1) * g
                    let v = b2 * buffers[1][i] + (1 - b2) * g * g
                    buffers[0][i] = m
                    buffers[1][i] = v
                    p[i] -= stepSize * m / (v.squareRoot() / correction2 + eps)
                }
            }
        }
    }
}
