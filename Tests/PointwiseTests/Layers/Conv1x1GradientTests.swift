import Testing
@testable import Pointwise

/// Conv1x1 backward: the reference gradients against central finite differences of the
/// reference forward, and the fast gradients against the reference ones.
@Suite struct Conv1x1GradientTests {
    /// L = Σ y ⊙ g for a fixed random g, so dL/dy = g.
    static func loss(_ conv: Conv1x1, _ x: Tensor, _ residual: Tensor?, _ g: Tensor) throws -> Double {
        let y = try conv(x, residual: residual, options: ExecutionOptions(algorithm: .reference))
        return zip(y.scalars, g.converted(to: y.layout).scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Whether some pre-activation is within `margin` of a kink: 0 or 6 (ReLU, ReLU6), ±3 (hard-swish).
    static func nearKink(_ conv: Conv1x1, _ x: Tensor, _ residual: Tensor, margin: Float) throws -> Bool {
        var linear = conv
        linear.activation = .identity
        let z = try linear(x, residual: residual, options: ExecutionOptions(algorithm: .reference)).scalars
        return z.contains { abs($0) < margin || abs($0 - 6) < margin || abs(abs($0) - 3) < margin }
    }

    @Test("reference gradients equal finite differences, every activation and layout", arguments: Activation.allCases)
    func finiteDifferences(activation: Activation) throws {
        var random = SplitMix64(seed: UInt64(Activation.allCases.firstIndex(of: activation)!) + 40)
        let h: Float = 1e-3
        for layout in Layout.allCases {
            let conv = try Conv1x1(inputChannels: 4, outputChannels: 6, stride: 2, groups: 2, activation: activation, seed: 8)
            var x: Tensor, residual: Tensor
            // Draw until no pre-activation lies within a few steps of a ReLU/ReLU6 kink, where a
            // central difference straddles the corner and measures neither side's slope.
            repeat {
                x = TestSupport.random([2, 4, 3, 5], layout: layout, using: &random)
                residual = TestSupport.random(try conv.outputShape(forInput: x.shape), layout: layout, using: &random)
            } while try Self.nearKink(conv, x, residual, margin: 20 * h)
            let outputShape = try conv.outputShape(forInput: x.shape)
            let g = TestSupport.random(outputShape, layout: layout, using: &random)
            let grads = try conv.gradients(input: x, residual: residual, outputGradient: g,
                                           options: ExecutionOptions(algorithm: .reference))
            // Input: every element (stride 2 leaves some with zero gradient).
            for i in 0..<x.count {
                var plus = x, minus = x
                plus.withUnsafeMutableBufferPointer { $0[i] += h }
                minus.withUnsafeMutableBufferPointer { $0[i] -= h }
                let numeric = (try Self.loss(conv, plus, residual, g) - Self.loss(conv, minus, residual, g)) / Double(2 * h)
                let analytic = Double(grads.input.scalars[i])
                #expect(abs(numeric - analytic) <= 2e-3 * max(1, abs(numeric)), "\(layout) dx[\(i)]: \(analytic) vs \(numeric)")
            }
            // Weight and bias.
            let weights = conv.weight.scalars
            for i in 0..<weights.count {
                var up = weights, down = weights
                up[i] += h
                down[i] -= h
                let plus = try Conv1x1(weight: Tensor(shape: conv.weight.shape, values: up), bias: conv.bias, stride: 2, groups: 2, activation: activation)
                let minus = try Conv1x1(weight: Tensor(shape: conv.weight.shape, values: down), bias: conv.bias, stride: 2, groups: 2, activation: activation)
                let numeric = (try Self.loss(plus, x, residual, g) - Self.loss(minus, x, residual, g)) / Double(2 * h)
                #expect(abs(numeric - Double(grads.weight.scalars[i])) <= 2e-3 * max(1, abs(numeric)), "\(layout) dW[\(i)]")
            }
            for o in 0..<conv.outputChannels {
                var up = conv.bias!, down = conv.bias!
                up[o] += h
                down[o] -= h
                let plus = try Conv1x1(weight: conv.weight, bias: up, stride: 2, groups: 2, activation: activation)
                let minus = try Conv1x1(weight: conv.weight, bias: down, stride: 2, groups: 2, activation: activation)
                let numeric = (try Self.loss(plus, x, residual, g) - Self.loss(minus, x, residual, g)) / Double(2 * h)
                #expect(abs(numeric - Double(grads.bias![o])) <= 2e-3 * max(1, abs(numeric)), "\(layout) db[\(o)]")
            }
        }
    }

    @Test("fast gradients match the reference over random configurations")
    func fastMatchesReference() throws {
        var random = SplitMix64(seed: 77)
        for index in 0..<150 {
            let c = Conv1x1Tests.Case.random(using: &random)
            let conv = try Conv1x1(inputChannels: c.inputChannels, outputChannels: c.outputChannels, bias: c.bias,
                                   stride: c.stride, groups: c.groups, activation: c.activation, seed: UInt64(index))
            let x = TestSupport.random([c.batch, c.inputChannels] + c.spatial, layout: c.layout, using: &random)
            let outputShape = try conv.outputShape(forInput: x.shape)
            let residual = c.residual ? TestSupport.random(outputShape, layout: c.layout, using: &random) : nil
            let dy = TestSupport.random(outputShape, layout: c.layout, using: &random)
            let fast = try conv.gradients(input: x, residual: residual, outputGradient: dy, options: ExecutionOptions(threads: c.threads))
            let reference = try conv.gradients(input: x, residual: residual, outputGradient: dy,
                                               options: ExecutionOptions(algorithm: .reference))
            // Kinks (ReLU, ReLU6, hard-swish): a pre-activation within rounding of one may take either side.
            let tolerance: Float = [.relu, .relu6, .hardSwish].contains(c.activation) ? 1e-3 : 1e-5
            #expect(TestSupport.withinTolerance(TestSupport.difference(fast.input, reference.input), relative: tolerance), "dx \(index) \(c)")
            #expect(TestSupport.withinTolerance(TestSupport.difference(fast.weight, reference.weight), relative: tolerance), "dW \(index) \(c)")
            if c.bias {
                #expect(TestSupport.withinTolerance(TestSupport.difference(fast.bias!, reference.bias!), relative: tolerance), "db \(index) \(c)")
            }
            if c.residual {
                #expect(TestSupport.withinTolerance(TestSupport.difference(fast.residual!, reference.residual!), relative: tolerance), "dr \(index) \(c)")
            }
        }
    }

    @Test("accumulateGradients adds into the buffers; gradients are bit-identical for any thread count")
    func accumulationAndThreads() throws {
        var random = SplitMix64(seed: 3)
        for layout in Layout.allCases {
            let conv = try Conv1x1(inputChannels: 40, outputChannels: 72, activation: .sigmoid)
            let x = TestSupport.random([2, 40, 9, 7], layout: layout, using: &random)
            let dy = TestSupport.random(try conv.outputShape(forInput: x.shape), layout: layout, using: &random)
            let once = try conv.gradients(input: x, outputGradient: dy, options: ExecutionOptions(threads: 1))
            var twice = once
            try conv.accumulateGradients(input: x, outputGradient: dy, into: &twice, options: ExecutionOptions(threads: 3))
            // Adding into a buffer sums in a different order than doubling, so compare closely, not bitwise.
            let doubled = try Tensor(shape: once.weight.shape, values: once.weight.scalars.map { $0 + $0 })
            #expect(TestSupport.withinTolerance(TestSupport.difference(twice.weight, doubled), relative: 1e-6))
            let doubledInput = try Tensor(shape: x.shape, layout: layout, values: once.input.scalars.map { $0 + $0 })
            #expect(TestSupport.withinTolerance(TestSupport.difference(twice.input, doubledInput), relative: 1e-6))
            let threaded = try conv.gradients(input: x, outputGradient: dy, options: ExecutionOptions(threads: 2))
            let bitIdentical = threaded.weight.scalars == once.weight.scalars && threaded.input.scalars == once.input.scalars
            #expect(bitIdentical, "\(layout): gradients differ between 1 and 2 threads")
        }
    }
}
