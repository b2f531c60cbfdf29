import Testing
@testable import Pointwise

/// Linear: the definition, bit-identity with Conv1x1, FCN's conversions, gradients, errors.
@Suite struct LinearTests {
    @Test("forward matches y = b + W·x computed in double precision, both layouts")
    func definition() throws {
        var random = SplitMix64(seed: 11)
        let linear = try Linear(inputFeatures: 7, outputFeatures: 5, seed: 3)
        let w = linear.weight.scalars, b = linear.bias!
        for layout in Layout.allCases {
            let x = TestSupport.random([4, 7], layout: layout, using: &random)
            let xs = x.scalars
            var expected: [Float] = []
            for n in 0..<4 {
                for o in 0..<5 {
                    var sum = Double(b[o])
                    for i in 0..<7 { sum += Double(w[o * 7 + i]) * Double(xs[n * 7 + i]) }
                    expected.append(Float(sum))
                }
            }
            let y = try linear(x)
            #expect(y.shape == [4, 5] && y.layout == layout)
            #expect(TestSupport.withinTolerance(TestSupport.difference(y.scalars, expected)), "\(layout)")
        }
        // PyTorch's initialisation, the same values as the convolution's.
        #expect(linear.weight.scalars == (try Conv1x1(inputChannels: 7, outputChannels: 5, seed: 3)).weight.scalars)
    }

    @Test("Linear and Conv1x1 with the same weight give bit-identical outputs and gradients")
    func bitIdenticalToConvolution() throws {
        var random = SplitMix64(seed: 12)
        for (batch, inputs, outputs) in [(5, 37, 19), (1, 64, 10), (33, 8, 130)] {
            let linear = try Linear(inputFeatures: inputs, outputFeatures: outputs, seed: UInt64(inputs))
            let conv = try Conv1x1(weight: linear.weight, bias: linear.bias)
            for layout in Layout.allCases {
                let x = TestSupport.random([batch, inputs], layout: layout, using: &random)
                let dy = TestSupport.random([batch, outputs], layout: layout, using: &random)
                let options = ExecutionOptions(threads: 2)
                #expect(try linear(x, options: options).scalars == conv(x, options: options).scalars, "\(layout) \(inputs)→\(outputs)")
                let ours = try linear.gradients(input: x, outputGradient: dy, options: options)
                let theirs = try conv.gradients(input: x, outputGradient: dy, options: options)
                #expect(ours.input.scalars == theirs.input.scalars && ours.weight.scalars == theirs.weight.scalars
                        && ours.bias! == theirs.bias!, "\(layout) \(inputs)→\(outputs) gradients")
            }
        }
    }

    @Test("conversions keep weight and bias exactly; the convolution applies the layer at every pixel (FCN)")
    func convolutionalization() throws {
        var random = SplitMix64(seed: 13)
        let linear = try Linear(inputFeatures: 6, outputFeatures: 4, seed: 9)
        let conv = Conv1x1(linear)
        #expect(conv.weight.shape == [4, 6] && conv.weight.scalars == linear.weight.scalars && conv.bias! == linear.bias!)
        #expect(conv.groups == 1 && conv.stride == 1 && conv.activation == .identity)
        let back = try Linear(conv)
        #expect(back.weight.scalars == linear.weight.scalars && back.bias! == linear.bias!)
        let fromConv = try Linear(Conv1x1(inputChannels: 3, outputChannels: 2, bias: false, seed: 1))
        #expect(fromConv.bias == nil && fromConv.inputFeatures == 3 && fromConv.outputFeatures == 2)

        // NHWC [N, C, H, W] is the [N·H·W, C] matrix of pixel rows: the same GEMM, bit for bit.
        let image = TestSupport.random([2, 6, 3, 5], layout: .channelsLast, using: &random)
        let rows = try Tensor(shape: [30, 6], layout: .channelsLast, values: image.scalars)
        #expect(try conv(image).scalars == linear(rows).scalars)
        let planes = try conv(image.converted(to: .channelsFirst))
        #expect(TestSupport.withinTolerance(TestSupport.difference(planes.converted(to: .channelsLast).scalars,
                                                                   try linear(rows).scalars), relative: 1e-6))
    }

    @Test("backward equals finite differences for input, weight and bias; accumulation adds")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 14)
        let linear = try Linear(inputFeatures: 5, outputFeatures: 3, seed: 4)
        let x = TestSupport.random([4, 5], using: &random), g = TestSupport.random([4, 3], using: &random)
        let grads = try linear.gradients(input: x, outputGradient: g)
        TestSupport.expectGradient(grads.input.scalars, try TestSupport.numericGradient(of: x) {
            TestSupport.dot(try linear($0), g)
        }, "dx")
        TestSupport.expectGradient(grads.weight.scalars, try TestSupport.numericGradient(of: linear.weight) {
            TestSupport.dot(try Linear(weight: $0, bias: linear.bias)(x), g)
        }, "dW")
        TestSupport.expectGradient(grads.bias!, try TestSupport.numericGradient(of: linear.bias!) {
            TestSupport.dot(try Linear(weight: linear.weight, bias: $0)(x), g)
        }, "db")
        #expect(grads.residual == nil)
        var twice = grads
        try linear.accumulateGradients(input: x, outputGradient: g, into: &twice)
        #expect(twice.bias! == grads.bias!.map { $0 + $0 })
    }

    @Test("bad shapes and conversions throw typed errors")
    func errors() throws {
        let weight = try Tensor(shape: [3, 4, 1, 1], values: Array(repeating: 0, count: 12))
        #expect(throws: LayerError.shape(role: "weight", expected: "[out, in] with out, in ≥ 1", actual: [3, 4, 1, 1])) {
            try Linear(weight: weight)
        }
        let flat = try Tensor(shape: [3, 4], values: Array(repeating: 0, count: 12))
        #expect(throws: LayerError.convolution(.biasCount(expected: 3, actual: 2))) { try Linear(weight: flat, bias: [1, 2]) }
        #expect(throws: LayerError.setting(name: "features", value: "0 → 3", expected: "≥ 1 each")) {
            try Linear(inputFeatures: 0, outputFeatures: 3)
        }
        let linear = try Linear(weight: flat)
        for shape in [[2, 5], [2, 4, 3]] {
            #expect(throws: LayerError.shape(role: "input", expected: "[N, 4]", actual: shape)) { try linear(Tensor(zeros: shape)) }
        }
        #expect(throws: LayerError.convolution(.shapeMismatch(role: "output gradient", expected: [2, 3], actual: [2, 4]))) {
            try linear.gradients(input: Tensor(zeros: [2, 4]), outputGradient: Tensor(zeros: [2, 4]))
        }
        #expect(throws: LayerError.convolution(.threads(0))) { try linear(Tensor(zeros: [2, 4]), options: ExecutionOptions(threads: 0)) }
        #expect(throws: LayerError.conversion("the convolution has 2 groups; Linear needs 1")) {
            try Linear(Conv1x1(inputChannels: 4, outputChannels: 4, groups: 2))
        }
        #expect(throws: LayerError.conversion("the convolution has stride 2; Linear needs 1")) {
            try Linear(Conv1x1(inputChannels: 4, outputChannels: 4, stride: 2))
        }
        #expect(throws: LayerError.conversion("the convolution applies relu; Linear has no activation")) {
            try Linear(Conv1x1(inputChannels: 4, outputChannels: 4, activation: .relu))
        }
    }
}
