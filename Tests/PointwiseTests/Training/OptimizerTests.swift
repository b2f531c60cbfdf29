import Foundation
import Testing
@testable import Pointwise

/// Single steps against PyTorch's update formulas, written out by hand in double precision.
@Suite struct OptimizerTests {
    /// A parameter [1, 2] holding `values`, with `gradient`.
    static func parameter(_ values: [Float], gradient: [Float]) throws -> Parameter {
        let p = try Parameter(name: "w", shape: [1, 2], values: values)
        p.gradient = try Tensor(shape: [1, 2], values: gradient)
        return p
    }

    static func expect(_ p: Parameter, _ expected: [Double], _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for (value, e) in zip(p.value.scalars, expected) {
            #expect(abs(Double(value) - e) <= 1e-6, "\(label): \(value), expected \(e), tolerance 1e-6", sourceLocation: sourceLocation)
        }
    }

    @Test("SGD: weight decay, momentum (first step takes the gradient as the buffer), Nesterov")
    func sgd() throws {
        let (p0, g1, g2) = ([1.0, -2.0], [0.5, 0.25], [-0.1, 0.3])
        let (lr, mu, wd) = (0.1, 0.9, 0.01)
        for nesterov in [false, true] {
            let p = try Self.parameter(p0.map(Float.init), gradient: g1.map(Float.init))
            var sgd = try SGD(learningRate: Float(lr), momentum: Float(mu), weightDecay: Float(wd), nesterov: nesterov)
            var expected = p0, buffer = [0.0, 0.0]
            for (step, g) in [g1, g2].enumerated() {
                p.gradient = try Tensor(shape: [1, 2], values: g.map(Float.init))
                sgd.update(p)
                for i in 0..<2 {
                    let d = g[i] + wd * expected[i]
                    buffer[i] = step == 0 ? d : mu * buffer[i] + d
                    expected[i] -= lr * (nesterov ? d + mu * buffer[i] : buffer[i])
                }
                Self.expect(p, expected, "nesterov \(nesterov), step \(step + 1)")
            }
        }
        let plain = try Self.parameter([1, 2], gradient: [0.5, -1])
        var sgd = try SGD(learningRate: 0.1)
        sgd.update(plain)
        Self.expect(plain, [0.95, 2.1], "plain SGD")
        #expect(throws: TrainingError.self) { try SGD(learningRate: 0.1, nesterov: true) }
    }

    @Test("Adam (L2) and AdamW (decoupled): the first two steps, bias-corrected")
    func adam() throws {
        let (p0, g1, g2) = ([1.0, -2.0], [0.5, -0.25], [-0.1, 0.3])
        let (lr, b1, b2, eps, wd) = (0.01, 0.9, 0.999, 1e-8, 0.1)
        for decoupled in [false, true] {
            let p = try Self.parameter(p0.map(Float.init), gradient: [0, 0])
            var adam = try Adam(learningRate: Float(lr), weightDecay: Float(wd), decoupledWeightDecay: decoupled)
            var expected = p0, m = [0.0, 0.0], v = [0.0, 0.0]
            for (step, g) in [g1, g2].enumerated() {
                p.gradient = try Tensor(shape: [1, 2], values: g.map(Float.init))
                adam.update(p)
                let t = Double(step + 1)
                for i in 0..<2 {
                    var d = g[i]
                    if decoupled { expected[i] *= 1 - lr * wd } else { d += wd * expected[i] }
                    m[i] = b1 * m[i] + (1 - b1) * d
                    v[i] = b2 * v[i] + (1 - b2) * d * d
                    let mHat = m[i] / (1 - pow(b1, t)), vHat = v[i] / (1 - pow(b2, t))
                    expected[i] -= lr * mHat / (vHat.squareRoot() + eps)
                }
                Self.expect(p, expected, "decoupled \(decoupled), step \(step + 1)")
            }
        }
        #expect(try Adam.adamW().weightDecay == 0.01)
        #expect(throws: TrainingError.self) { try Adam(beta1: 1) }
    }

    @Test("schedules: constant, step (every, gamma) and cosine annealing, against their formulas")
    func schedules() {
        let base: Float = 0.1
        #expect((0..<5).map { LearningRateSchedule.constant.learningRate(base: base, epoch: $0) } == Array(repeating: base, count: 5))
        let step = (0..<7).map { LearningRateSchedule.step(every: 3, gamma: 0.5).learningRate(base: base, epoch: $0) }
        #expect(step == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
        for epoch in 0...10 {
            let expected = 0.001 + (0.1 - 0.001) * (1 + cos(Double.pi * Double(epoch) / 10)) / 2
            let lr = LearningRateSchedule.cosine(epochs: 10, minimum: 0.001).learningRate(base: base, epoch: epoch)
            #expect(abs(Double(lr) - expected) <= 1e-7, "cosine epoch \(epoch): \(lr), expected \(expected)")
        }
    }
}
