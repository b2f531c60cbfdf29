import Foundation
import Testing
@testable import Pointwise

@Suite struct LossTests {
    @Test("mean squared error: value in double precision, gradient equals finite differences")
    func meanSquaredError() throws {
        var random = SplitMix64(seed: 1)
        let p = TestSupport.random([2, 3, 4], layout: .channelsLast, using: &random)
        let t = TestSupport.random([2, 3, 4], using: &random)
        let loss = try Loss.meanSquaredError(prediction: p, target: t)
        let expected = zip(p.converted(to: .channelsFirst).scalars, t.scalars)
            .reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / 24
        #expect(abs(Double(loss.value) - expected) <= 1e-6, "value \(loss.value), expected \(expected)")
        let numeric = try TestSupport.numericGradient(of: p) { try Double(Loss.meanSquaredError(prediction: $0, target: t).value) }
        TestSupport.expectGradient(loss.gradient.scalars, numeric, "dL/dp")
        #expect(throws: TrainingError.self) { try Loss.meanSquaredError(prediction: p, target: TestSupport.random([2, 3], using: &random)) }
    }

    @Test("cross-entropy over classes and per pixel, with ignored targets: value and finite differences",
          arguments: [([5, 4], Layout.channelsFirst), ([2, 3, 2, 3], .channelsFirst), ([2, 3, 2, 3], .channelsLast)])
    func crossEntropy(shape: [Int], layout: Layout) throws {
        var random = SplitMix64(seed: 2)
        let z = TestSupport.random(shape, layout: layout, using: &random)
        let (classes, targets) = (shape[1], shape[0] * shape.dropFirst(2).reduce(1, *))
        let labels = (0..<targets).map { $0 % 4 == 1 ? -100 : Int(random.next() % UInt64(classes)) }
        let loss = try Loss.crossEntropy(logits: z, labels: labels)
        // The definition, in double precision: −log softmax at the label, averaged over counted targets.
        let pixels = z.pixelsPerImage
        var sum = 0.0, counted = 0
        for (i, label) in labels.enumerated() where label != -100 {
            let logits = (0..<classes).map { Double(z[batch: i / pixels, channel: $0, position: i % pixels]) }
            sum += log(logits.map(exp).reduce(0, +)) - logits[label]
            counted += 1
        }
        #expect(abs(Double(loss.value) - sum / Double(counted)) <= 1e-5, "value \(loss.value), expected \(sum / Double(counted))")
        let numeric = try TestSupport.numericGradient(of: z) { try Double(Loss.crossEntropy(logits: $0, labels: labels).value) }
        TestSupport.expectGradient(loss.gradient.scalars, numeric, "dL/dz")
    }

    @Test("cross-entropy is stable for huge logits, rejects labels out of range, and is NaN with all ignored")
    func crossEntropyEdges() throws {
        let z = try Tensor(shape: [2, 3], values: [1000, -1000, 0, 500, 500, 500])
        let loss = try Loss.crossEntropy(logits: z, labels: [0, 2])
        #expect(abs(loss.value - Float(log(3.0)) / 2) <= 1e-5, "value \(loss.value), expected log(3)/2")
        #expect(loss.gradient.scalars.allSatisfy { $0.isFinite })
        #expect(throws: TrainingError.label(position: 1, value: 3, classes: 3)) { try Loss.crossEntropy(logits: z, labels: [0, 3]) }
        #expect(throws: TrainingError.self) { try Loss.crossEntropy(logits: z, labels: [0]) }
        #expect(try Loss.crossEntropy(logits: z, labels: [-100, -100]).value.isNaN)
        #expect(Loss.accuracy(logits: z, labels: [0, 1]) == 0.5 && Loss.predictedClasses(z) == [0, 0])
    }
}
