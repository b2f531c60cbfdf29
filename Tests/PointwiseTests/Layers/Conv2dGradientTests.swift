import Testing
@testable import Pointwise

/// Conv2d backward: the reference gradients against central finite differences of the reference
/// forward, the fast gradients against the reference ones, accumulation and thread-count identity.
@Suite struct Conv2dGradientTests {
    static let reference = ExecutionOptions(algorithm: .reference)

    /// L = Σ conv(x) ⊙ g through the reference loops.
    static func loss(_ conv: Conv2d, _ x: Tensor, _ g: Tensor) throws -> Double {
        try TestSupport.dot(conv(x, options: reference), g)
    }

    /// The same convolution with other weights and bias.
    static func rebuilt(_ conv: Conv2d, weight: [Float], bias: [Float]?) throws -> Conv2d {
        try Conv2d(weight: Tensor(shape: conv.weight.shape, values: weight), bias: bias, stride: conv.stride,
                   padding: conv.padding, dilation: conv.dilation, groups: conv.groups, activation: conv.activation)
    }

    @Test("reference gradients equal finite differences (smooth activations, SAME, stride, dilation, groups)")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 91)
        let convs = [
            try Conv2d(inputChannels: 2, outputChannels: 3, kernelHeight: 3, kernelWidth: 2, stride: 2, padding: .same,
                       activation: .tanh, seed: 1),
            try Conv2d(inputChannels: 4, outputChannels: 2, kernelSize: 3, padding: .symmetric(2), dilation: 2, groups: 2,
                       activation: .sigmoid, seed: 2),
            try Conv2d(inputChannels: 3, outputChannels: 3, kernelSize: 3, stride: 2,
                       padding: .explicit(top: 0, bottom: 1, left: 2, right: 0), groups: 3, activation: .silu, seed: 3),
        ]
        for (conv, layout) in zip(convs, [Layout.channelsFirst, .channelsLast, .channelsFirst]) {
            let x = TestSupport.random([2, conv.inputChannels, 5, 4], layout: layout, using: &random)
            let g = TestSupport.random(try conv.outputShape(forInput: x.shape), layout: layout, using: &random)
            let grads = try conv.gradients(input: x, outputGradient: g, options: Self.reference)
            let label = "\(conv.kernelHeight)×\(conv.kernelWidth) groups \(conv.groups) \(layout)"
            TestSupport.expectGradient(grads.input.scalars, try TestSupport.numericGradient(of: x) {
                try Self.loss(conv, $0, g)
            }, "dx \(label)")
            TestSupport.expectGradient(grads.weight.scalars, try TestSupport.numericGradient(of: conv.weight.scalars) {
                try Self.loss(Self.rebuilt(conv, weight: $0, bias: conv.bias), x, g)
            }, "dW \(label)")
            TestSupport.expectGradient(grads.bias!, try TestSupport.numericGradient(of: conv.bias!) {
                try Self.loss(Self.rebuilt(conv, weight: conv.weight.scalars, bias: $0), x, g)
            }, "db \(label)")
        }
    }

    @Test("fast gradients equal the reference ones over random configurations, and accumulate")
    func fastMatchesReference() throws {
        var random = SplitMix64(seed: 5)
        let smooth: [Activation] = [.identity, .sigmoid, .tanh, .silu]
        for index in 0..<80 {
            let config = Conv2dConfiguration.random(depthwise: index % 4 == 0, activations: smooth, using: &random)
            let x = TestSupport.random(config.inputShape, layout: config.layout, using: &random)
            let g = TestSupport.random(try config.conv.outputShape(forInput: x.shape), using: &random)
            let expected = try config.conv.gradients(input: x, outputGradient: g, options: Self.reference)
            var fast = try config.conv.gradients(input: x, outputGradient: g, options: ExecutionOptions(threads: 1 + index % 2))
            TestSupport.expectClose(fast.input, expected.input, "dx \(config)")
            TestSupport.expectClose(fast.weight, expected.weight, "dW \(config)")
            if let db = expected.bias {
                #expect(TestSupport.withinTolerance(TestSupport.difference(fast.bias!, db)), "db \(config)")
            }
            // A second pass adds the same again.
            try config.conv.accumulateGradients(input: x, outputGradient: g, into: &fast, options: ExecutionOptions(threads: 2))
            let doubled = try Tensor(shape: expected.weight.shape, values: expected.weight.scalars.map { 2 * $0 })
            TestSupport.expectClose(fast.weight, doubled, relative: 2e-5, "accumulated dW \(config)")
        }
    }

    @Test("fast gradients are bit-identical for any thread count")
    func threads() throws {
        var random = SplitMix64(seed: 17)
        for groups in [1, 8] {
            let conv = try Conv2d(inputChannels: 8, outputChannels: 8, kernelSize: 3, stride: 2, padding: .same,
                                  groups: groups, activation: .tanh)
            for layout in Layout.allCases {
                let x = TestSupport.random([2, 8, 11, 9], layout: layout, using: &random)
                let g = TestSupport.random(try conv.outputShape(forInput: x.shape), layout: layout, using: &random)
                let one = try conv.gradients(input: x, outputGradient: g, options: ExecutionOptions(threads: 1))
                let three = try conv.gradients(input: x, outputGradient: g, options: ExecutionOptions(threads: 3))
                #expect(one.input.scalars == three.input.scalars && one.weight.scalars == three.weight.scalars
                        && one.bias == three.bias, "groups \(groups) \(layout)")
            }
        }
    }

    @Test("gradient buffers of the wrong shape throw")
    func bufferErrors() throws {
        let conv = try Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: .same)
        let x = try Tensor(zeros: [1, 2, 4, 4])
        #expect(throws: LayerError.self) { try conv.gradients(input: x, outputGradient: Tensor(zeros: [1, 2, 3, 3])) }
        var grads = try conv.gradients(input: x, outputGradient: Tensor(zeros: [1, 2, 4, 4]))
        grads.bias = [0]
        #expect(throws: LayerError.self) {
            try conv.accumulateGradients(input: x, outputGradient: Tensor(zeros: [1, 2, 4, 4]), into: &grads)
        }
    }
}
