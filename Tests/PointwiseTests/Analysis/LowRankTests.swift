import Testing
@testable import Pointwise

/// Truncated-SVD factoring of 1×1 convolutions against independent truths: the original
/// convolution at full rank, Eckart–Young's error at lower ranks.
@Suite struct LowRankTests {
    @Test("at full rank the two convolutions compute the original (bias, activation, residual kept)",
          arguments: [(12, 5), (5, 12), (7, 7)])
    func fullRank(cin: Int, cout: Int) throws {
        let conv = try Conv1x1(inputChannels: cin, outputChannels: cout, activation: .relu6, seed: 3)
        let factored = try LowRankConv1x1(conv, rank: min(cin, cout))
        var random = SplitMix64(seed: 4)
        let x = TestSupport.random([2, cin, 5, 6], using: &random), r = TestSupport.random([2, cout, 5, 6], using: &random)
        let options = ExecutionOptions(threads: 1)
        TestSupport.expectClose(try factored(x, residual: r, options: options), try conv(x, residual: r, options: options),
                                relative: 1e-5, "full rank \(cin)→\(cout)")
        #expect(factored.multiplyAddsPerPixel == min(cin, cout) * (cin + cout))
    }

    @Test("the rank-r weight error is Eckart–Young's √(Σ dropped σ²), and the singular values are W's")
    func eckartYoung() throws {
        let conv = try Conv1x1(inputChannels: 9, outputChannels: 14, bias: false, seed: 8)
        let w = conv.weight.scalars.map(Double.init)
        for rank in [1, 4, 8] {
            let factored = try LowRankConv1x1(conv, rank: rank)
            let a = factored.restore.weight.scalars, b = factored.reduce.weight.scalars
            var error = 0.0
            for o in 0..<14 {
                for i in 0..<9 {
                    let approximation = (0..<rank).reduce(0.0) { $0 + Double(a[o * rank + $1]) * Double(b[$1 * 9 + i]) }
                    error += (approximation - w[o * 9 + i]) * (approximation - w[o * 9 + i])
                }
            }
            let expected = factored.singularValues.dropFirst(rank).reduce(0) { $0 + $1 * $1 }
            #expect(abs(error - expected) <= 1e-6 * max(expected, 1e-6), "rank \(rank): \(error) vs \(expected)")
        }
        let total = w.reduce(0) { $0 + $1 * $1 }
        let singular = try LowRankConv1x1(conv, rank: 1).singularValues
        #expect(abs(singular.reduce(0) { $0 + $1 * $1 } - total) <= 1e-9 * total)   // Σσ² = ‖W‖²
        #expect(zip(singular, singular.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test("ranks by energy, and bad settings refused")
    func settings() throws {
        #expect(LowRankConv1x1.rank(keeping: 0.5, of: [3, 2, 1]) == 1)     // 9 / 14 ≥ 0.5
        #expect(LowRankConv1x1.rank(keeping: 0.9, of: [3, 2, 1]) == 2)     // 13 / 14
        #expect(LowRankConv1x1.rank(keeping: 1, of: [3, 2, 1]) == 3)
        let conv = try Conv1x1(inputChannels: 4, outputChannels: 6)
        #expect(throws: AnalysisError.self) { try LowRankConv1x1(conv, rank: 5) }
        #expect(throws: AnalysisError.self) { try LowRankConv1x1(Conv1x1(inputChannels: 4, outputChannels: 6, groups: 2), rank: 1) }
    }

    @Test("a compressed EfficientNet-Lite0 meets its budget; budget 1 leaves it whole")
    func compressedModel() throws {
        let model = try EfficientNetLiteStructureTests.model.get()
        let factorizations = try model.lowRankFactorizations()
        let whole = try factorizations.compressed(pointwiseBudget: 1)
        #expect(whole.report.compressedMultiplyAdds == whole.report.originalMultiplyAdds)
        #expect(whole.report.layers.allSatisfy { $0.rank == nil })
        let half = try factorizations.compressed(pointwiseBudget: 0.5)
        #expect(Double(half.report.compressedMultiplyAdds) <= 0.5 * Double(half.report.originalMultiplyAdds))
        let costs = try half.model.costs(forInput: [1, 3, 224, 224]).filter { $0.kind != .depthwise && $0.kind != .stem }
        let pointwise = costs.reduce(0) { $0 + $1.cost.multiplyAdds } - 1280 * 1000   // without the classifier
        #expect(pointwise == half.report.compressedMultiplyAdds)
        var random = SplitMix64(seed: 5)
        #expect(try half.model.logits(TestSupport.random([1, 3, 64, 64], using: &random)).shape == [1, 1000])
        #expect(throws: AnalysisError.self) { try factorizations.compressed(pointwiseBudget: 0) }
    }

    @Test("data-aware: budget 1 leaves the model whole even where the calibration activations are rank-deficient")
    func dataAwareWholeBudget() throws {
        let model = try EfficientNetLiteStructureTests.model.get()
        var random = SplitMix64(seed: 6)
        // One 64×64 picture: the head sees 2×2 pixels, so its 320-channel input covariance has rank 3.
        let factorizations = try model.lowRankFactorizations(
            calibration: [TestSupport.random([1, 3, 64, 64], using: &random)], options: ExecutionOptions(threads: 1))
        let whole = try factorizations.compressed(pointwiseBudget: 1)
        #expect(whole.report.compressedMultiplyAdds == whole.report.originalMultiplyAdds)
        #expect(whole.report.layers.allSatisfy { $0.rank == nil }, "\(whole.report.layers.filter { $0.rank != nil }.map(\.name))")
        #expect(whole.report.energy == 1)
        let most = try factorizations.compressed(pointwiseBudget: 0.9)
        #expect(Double(most.report.compressedMultiplyAdds) <= 0.9 * Double(most.report.originalMultiplyAdds))
    }

    @Test("activation-PCA pairs reproduce the layer at full rank, on either side, and lose only the dropped variance",
          arguments: [(6, 10), (10, 6)])
    func dataAware(cin: Int, cout: Int) throws {
        let conv = try Conv1x1(inputChannels: cin, outputChannels: cout, activation: .identity, seed: 9)
        var random = SplitMix64(seed: 10)
        // Inputs of rank 3 plus a mean: a pair of rank 3 keeps them exactly.
        let basis = TestSupport.randomValues(3 * cin, using: &random)
        var values = [Float](repeating: 0, count: 2 * cin * 64)
        for n in 0..<2 {
            for s in 0..<64 {
                let code = TestSupport.randomValues(3, using: &random)
                for c in 0..<cin { values[(n * cin + c) * 64 + s] = 0.5 + (0..<3).reduce(0) { $0 + code[$1] * basis[$1 * cin + c] } }
            }
        }
        let x = try Tensor(shape: [2, cin, 8, 8], values: values)
        var statistics = try ChannelStatistics(channels: cin)
        try statistics.add(x)
        let factoring = try LayerFactoring.activations(of: conv, statistics: statistics)
        let options = ExecutionOptions(threads: 1)
        let expected = try conv(x, options: options)
        for rank in [min(cin, cout), 3] {
            TestSupport.expectClose(try factoring.pair(for: conv, rank: rank)(x, options: options), expected, relative: 1e-4,
                                    "\(cin)→\(cout) at rank \(rank)")
        }
        let two = try factoring.pair(for: conv, rank: 2)(x, options: options)
        #expect(!TestSupport.withinTolerance(TestSupport.difference(two, expected), relative: 1e-3))   // rank 2 < 3 loses some
    }
}
