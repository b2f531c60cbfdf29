import Testing
@testable import Pointwise

/// BatchNorm: PyTorch's numbers by hand, layouts, gradients in both modes, folding, errors.
@Suite struct BatchNormTests {
    /// A layer with random parameters and statistics (variances in 0.5…1.5).
    static func randomLayer(channels: Int, using random: inout SplitMix64) throws -> BatchNorm {
        try BatchNorm(
            weight: TestSupport.randomValues(channels, using: &random), bias: TestSupport.randomValues(channels, using: &random),
            runningMean: TestSupport.randomValues(channels, using: &random),
            runningVar: (0..<channels).map { _ in random.nextFloat(in: 0.5...1.5) })
    }

    @Test("PyTorch's numbers: training normalisation, running update, then inference")
    func handComputed() throws {
        // x: [N=2, C=2, L=2]. Channel 0 holds 1, 2 | 3, 4 (mean 2.5, biased variance 1.25, unbiased 5/3);
        // channel 1 holds 0, 0 | 2, −2 (mean 0, biased variance 2, unbiased 8/3).
        let x = try Tensor(shape: [2, 2, 2], values: [1, 2, 0, 0, 3, 4, 2, -2])
        var bn = try BatchNorm(weight: [2, 1], bias: [0.5, -1], runningMean: [0, 0], runningVar: [1, 1])
        for layout in Layout.allCases {
            var copy = bn
            let y = try copy.trainingForward(x.converted(to: layout)).converted(to: .channelsFirst)
            // (x − mean) / √(var + 1e-5) · weight + bias
            let expected: [Float] = [-2.183271, -0.394424, -1, -1, 1.394424, 3.183271, 0.41421, -2.41421]
            #expect(TestSupport.withinTolerance(TestSupport.difference(y.scalars, expected)), "\(layout) \(y.scalars)")
        }
        _ = try bn.trainingForward(x)
        // running = 0.9 · running + 0.1 · batch, with the unbiased variance.
        #expect(TestSupport.withinTolerance(TestSupport.difference(bn.runningMean, [0.25, 0])))
        #expect(TestSupport.withinTolerance(TestSupport.difference(bn.runningVar, [1.0666667, 1.1666667])))
        #expect(bn.numBatchesTracked == 1)
        let inference = try bn(x)
        let expected: [Float] = [1.95236, 3.88884, -1, -1, 5.82533, 7.76181, 0.85163, -2.85163]
        #expect(TestSupport.withinTolerance(TestSupport.difference(inference.scalars, expected)), "\(inference.scalars)")
    }

    @Test("every rank and both layouts give the same normalisation")
    func layoutsAndRanks() throws {
        var random = SplitMix64(seed: 31)
        let bn = try Self.randomLayer(channels: 3, using: &random)
        for shape in [[6, 3], [2, 3, 5], [2, 3, 4, 3], [2, 3, 2, 2, 3]] {
            let x = TestSupport.random(shape, using: &random)
            for statistics in [BatchNorm.Statistics.batch, .running] {
                let first = try bn(x, statistics: statistics), last = try bn(x.converted(to: .channelsLast), statistics: statistics)
                #expect(last.layout == .channelsLast && first.shape == shape)
                #expect(TestSupport.withinTolerance(TestSupport.difference(last, first), relative: 1e-6), "\(shape) \(statistics)")
            }
        }
    }

    @Test("backward equals finite differences with batch and with running statistics, both layouts")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 32)
        let bn = try Self.randomLayer(channels: 2, using: &random)
        for statistics in [BatchNorm.Statistics.batch, .running] {
            for layout in Layout.allCases {
                let x = TestSupport.random([3, 2, 2, 3], layout: layout, using: &random)
                let g = TestSupport.random([3, 2, 2, 3], layout: layout, using: &random)
                let grads = try bn.gradients(input: x, outputGradient: g, statistics: statistics)
                let label = "\(statistics) \(layout)"
                TestSupport.expectGradient(grads.input.scalars, try TestSupport.numericGradient(of: x) {
                    TestSupport.dot(try bn($0, statistics: statistics), g)
                }, "dx \(label)")
                TestSupport.expectGradient(grads.weight, try TestSupport.numericGradient(of: bn.weight) {
                    let changed = try BatchNorm(weight: $0, bias: bn.bias, runningMean: bn.runningMean, runningVar: bn.runningVar)
                    return TestSupport.dot(try changed(x, statistics: statistics), g)
                }, "dweight \(label)")
                TestSupport.expectGradient(grads.bias, try TestSupport.numericGradient(of: bn.bias) {
                    let changed = try BatchNorm(weight: bn.weight, bias: $0, runningMean: bn.runningMean, runningVar: bn.runningVar)
                    return TestSupport.dot(try changed(x, statistics: statistics), g)
                }, "dbias \(label)")
                var twice = grads
                try bn.accumulateGradients(input: x, outputGradient: g, statistics: statistics, into: &twice)
                #expect(twice.bias == grads.bias.map { $0 + $0 } && twice.weight == grads.weight.map { $0 + $0 }, "\(label)")
            }
        }
    }

    @Test("folding into a convolution equals the convolution followed by the batch norm (inference)")
    func folding() throws {
        var random = SplitMix64(seed: 33)
        for (bias, stride, groups) in [(true, 1, 1), (false, 2, 2)] {
            let conv = try Conv1x1(inputChannels: 6, outputChannels: 8, bias: bias, stride: stride, groups: groups, seed: 7)
            let bn = try Self.randomLayer(channels: 8, using: &random)
            var folded = try bn.folded(into: conv)
            #expect(folded.stride == stride && folded.groups == groups && folded.bias != nil)
            for layout in Layout.allCases {
                let x = TestSupport.random([2, 6, 5, 4], layout: layout, using: &random)
                let separate = try bn(try conv(x))
                let d = TestSupport.difference(try folded(x), separate)
                #expect(TestSupport.withinTolerance(d), "bias \(bias) stride \(stride) \(layout): \(d)")
                // Conv → BN → ReLU is the folded convolution with ReLU fused.
                folded.activation = .relu
                #expect(TestSupport.withinTolerance(TestSupport.difference(try folded(x), Activation.relu(separate))))
                folded.activation = .identity
            }
        }
        let bn = try BatchNorm(channels: 4)
        #expect(throws: LayerError.conversion("the convolution has 5 output channels; the batch norm has 4")) {
            try bn.folded(into: Conv1x1(inputChannels: 3, outputChannels: 5))
        }
        #expect(throws: LayerError.conversion("the convolution applies silu before the batch norm; "
                                              + "only a convolution without activation folds")) {
            try bn.folded(into: Conv1x1(inputChannels: 3, outputChannels: 4, activation: .silu))
        }
    }

    @Test("bad settings and shapes throw typed errors")
    func errors() throws {
        #expect(throws: LayerError.setting(name: "channels", value: "0", expected: "≥ 1")) { try BatchNorm(channels: 0) }
        #expect(throws: LayerError.setting(name: "momentum", value: "1.5", expected: "0…1")) { try BatchNorm(channels: 2, momentum: 1.5) }
        #expect(throws: LayerError.setting(name: "runningVar.count", value: "1", expected: "2 (weight.count)")) {
            try BatchNorm(weight: [1, 1], bias: [0, 0], runningMean: [0, 0], runningVar: [1])
        }
        #expect(throws: LayerError.setting(name: "runningVar", value: "-1.0", expected: "≥ 0")) {
            try BatchNorm(weight: [1], bias: [0], runningMean: [0], runningVar: [-1])
        }
        var bn = try BatchNorm(channels: 3)
        #expect(throws: LayerError.shape(role: "input", expected: "[N, 3, *spatial]", actual: [2, 4, 5])) {
            try bn(Tensor(zeros: [2, 4, 5]))
        }
        let single = try Tensor(zeros: [1, 3, 1, 1])
        #expect(throws: LayerError.shape(role: "input", expected: "more than one value per channel (N · spatial size ≥ 2) "
                                         + "for batch statistics", actual: [1, 3, 1, 1])) { try bn.trainingForward(single) }
        #expect(try bn(single).shape == [1, 3, 1, 1])
        #expect(bn.numBatchesTracked == 0)
        let x = try Tensor(zeros: [2, 3, 2])
        #expect(throws: LayerError.shape(role: "output gradient", expected: "[2, 3, 2]", actual: [2, 3, 3])) {
            try bn.gradients(input: x, outputGradient: Tensor(zeros: [2, 3, 3]))
        }
    }
}
