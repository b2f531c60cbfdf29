import Foundation

/// How the learning rate changes from epoch to epoch (PyTorch's schedulers, stepped once per epoch).
public enum LearningRateSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// `StepLR`: the base rate times `gamma` every `every` epochs: `lr = base · gamma^⌊epoch/every⌋`.
    case step(every: Int, gamma: Float)
    /// `CosineAnnealingLR(T_max: epochs, eta_min: minimum)`:
    /// `lr = minimum + (base − minimum) · (1 + cos(π · epoch / epochs)) / 2`.
    case cosine(epochs: Int, minimum: Float = 0)

    /// The learning rate of epoch `epoch` (from 0).
    /// - Parameters:
    ///   - base: the initial learning rate.
    ///   - epoch: the epoch, from 0.
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .step(let every, let gamma):
            return base * pow(gamma, Float(epoch / max(every, 1)))
        case .cosine(let epochs, let minimum):
            let phase = Double.pi * Double(epoch) / Double(max(epochs, 1))
            return minimum + (base - minimum) * Float((1 + cos(phase)) / 2)
        }
    }
}
