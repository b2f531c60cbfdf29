import Testing
@testable import Pointwise

/// Dropout: inference identity, the training mask's values, rate and reproducibility, gradients.
@Suite struct DropoutTests {
    @Test("inference is the identity; training zeroes about p and scales the rest by 1/(1 − p)")
    func masks() throws {
        var random = SplitMix64(seed: 61)
        let x = TestSupport.random([4, 50, 50], using: &random)
        var dropout = try Dropout(probability: 0.2, seed: 9)
        #expect(dropout(x).scalars == x.scalars)
        let (y, mask) = dropout.trainingForward(x)
        #expect(mask.scalars.allSatisfy { $0 == 0 || $0 == 1.25 })
        #expect(y.scalars == zip(x.scalars, mask.scalars).map { $0 * $1 })
        // 10,000 Bernoulli(0.2) draws: the count of zeros is 2,000 ± 40 (one σ); allow 4σ.
        let dropped = mask.scalars.filter { $0 == 0 }.count
        #expect(abs(dropped - 2000) < 160, "\(dropped) of 10000 dropped")
        #expect(dropout.trainingForward(x).mask.scalars != mask.scalars, "each call draws a new mask")
    }

    @Test("the same seed gives the same mask in both layouts; p = 0 keeps and p = 1 zeroes everything")
    func reproducibility() throws {
        var random = SplitMix64(seed: 62)
        let x = TestSupport.random([2, 3, 4, 5], using: &random)
        var first = try Dropout(probability: 0.5, seed: 4), last = first
        let a = first.trainingForward(x).mask, b = last.trainingForward(x.converted(to: .channelsLast)).mask
        #expect(b.layout == .channelsLast && b.converted(to: .channelsFirst).scalars == a.scalars)
        var keep = try Dropout(probability: 0), drop = try Dropout(probability: 1)
        #expect(keep.trainingForward(x).output.scalars == x.scalars)
        #expect(drop.trainingForward(x).output.scalars.allSatisfy { $0 == 0 })
    }

    @Test("backward equals finite differences through the same mask; inference passes dL/dy")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 63)
        for layout in Layout.allCases {
            let x = TestSupport.random([2, 3, 2, 2], layout: layout, using: &random)
            let g = TestSupport.random([2, 3, 2, 2], layout: layout, using: &random)
            let dropout = try Dropout(probability: 0.3, seed: 8)
            var copy = dropout
            let mask = copy.trainingForward(x).mask
            let analytic = try dropout.inputGradient(mask: mask, outputGradient: g)
            TestSupport.expectGradient(analytic.scalars, try TestSupport.numericGradient(of: x) {
                var fresh = dropout
                return TestSupport.dot(fresh.trainingForward($0).output, g)
            }, "dropout \(layout)")
            #expect(try dropout.inputGradient(mask: nil, outputGradient: g).scalars == g.scalars)
        }
    }

    @Test("bad probabilities and mismatched masks throw typed errors")
    func errors() throws {
        #expect(throws: LayerError.setting(name: "probability", value: "1.5", expected: "0…1")) { try Dropout(probability: 1.5) }
        #expect(throws: LayerError.setting(name: "probability", value: "-0.1", expected: "0…1")) { try Dropout(probability: -0.1) }
        let mask = try Tensor(zeros: [2, 3])
        #expect(throws: LayerError.shape(role: "output gradient", expected: "[2, 3]", actual: [3, 2])) {
            try Dropout().inputGradient(mask: mask, outputGradient: Tensor(zeros: [3, 2]))
        }
    }
}
