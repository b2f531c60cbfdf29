import Foundation
import Testing
@testable import Pointwise

@Suite struct TrainerTests {
    static let options = ExecutionOptions(threads: 1)

    @Test("a NaN or infinite loss stops training with an error naming the epoch and step")
    func divergence() throws {
        var random = SplitMix64(seed: 1)
        let x = TestSupport.random([64, 4], layout: .channelsLast, using: &random)
        let y = TestSupport.random([64, 1], layout: .channelsLast, using: &random)
        var sgd = try SGD(learningRate: 1e18)
        let result = Result { () throws(TrainingError) in
            try Trainer(epochs: 3, batchSize: 16, options: Self.options)
                .train(try PixelNetwork(widths: [4, 1]), inputs: x, targets: .values(y), optimizer: &sgd)
        }
        guard case .failure(.nonFiniteLoss(let epoch, let step, let value)) = result else {
            Issue.record("training with lr 1e18 should stop with nonFiniteLoss, got \(result)")
            return
        }
        #expect(epoch == 1 && step >= 2 && !value.isFinite, "epoch \(epoch) step \(step) value \(value)")
    }

    @Test("targets that do not fit the inputs are rejected before training")
    func badTargets() throws {
        var random = SplitMix64(seed: 2)
        let x = TestSupport.random([2, 3, 4, 4], using: &random)
        let net = try PixelNetwork(widths: [3, 2])
        var sgd = try SGD(learningRate: 0.1)
        let trainer = Trainer(epochs: 1, options: Self.options)
        #expect(throws: TrainingError.label(position: 5, value: 2, classes: 2)) {
            try trainer.train(net, inputs: x, targets: .classes((0..<32).map { $0 == 5 ? 2 : 0 }), optimizer: &sgd)
        }
        #expect(throws: TrainingError.self) { try trainer.train(net, inputs: x, targets: .classes([0, 1]), optimizer: &sgd) }
        #expect(throws: TrainingError.self) {
            try trainer.train(net, inputs: x, targets: .values(TestSupport.random([2, 3, 4, 4], using: &random)), optimizer: &sgd)
        }
        #expect(throws: TrainingError.self) {
            try trainer.train(try PixelNetwork(widths: [5, 2]), inputs: x, targets: .classes(Array(repeating: 0, count: 32)), optimizer: &sgd)
        }
    }

    @Test("the same seed gives the same losses; ignored labels leave the loss defined")
    func reproducible() throws {
        var random = SplitMix64(seed: 3)
        let x = TestSupport.random([40, 3], layout: .channelsLast, using: &random)
        let labels = (0..<40).map { $0 % 5 == 0 ? -100 : $0 % 3 }
        func run() throws -> [Float] {
            var adam = try Adam(learningRate: 0.01)
            return try Trainer(epochs: 3, batchSize: 8, seed: 9, schedule: .cosine(epochs: 3), options: Self.options)
                .train(try PixelNetwork(widths: [3, 4, 3]), inputs: x, targets: .classes(labels), optimizer: &adam)
                .stepLosses
        }
        let first = try run()
        #expect(first.count == 15 && first.allSatisfy { $0.isFinite })
        #expect(first == (try run()))
    }
}
