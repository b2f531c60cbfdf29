import Foundation
import Testing
@testable import Pointwise

/// Activations as layers: PyTorch's values and slopes (hard-swish's included), finite differences,
/// and hard-swish after a convolution's GEMM.
@Suite struct ActivationLayerTests {
    static let points: [Float] = [-4, -3, -1, 0, 1, 3, 4, 7]

    @Test("PyTorch's values at hand-picked points, kinks included")
    func values() throws {
        let x = try Tensor(shape: [1, 8], values: Self.points)
        #expect(Activation.relu(x).scalars == [0, 0, 0, 0, 1, 3, 4, 7])
        #expect(Activation.relu6(x).scalars == [0, 0, 0, 0, 1, 3, 4, 6])
        #expect(Activation.identity(x).scalars == Self.points)
        // Hardswish: x · relu6(x + 3) / 6.
        let hardSwish = Activation.hardSwish(x).scalars
        #expect(TestSupport.withinTolerance(TestSupport.difference(hardSwish, [0, 0, -1.0 / 3, 0, 2.0 / 3, 3, 4, 7]), relative: 1e-7))
        for activation in [Activation.sigmoid, .tanh, .silu] {
            let expected = Self.points.map { Float(activation.reference(Double($0))) }
            #expect(TestSupport.withinTolerance(TestSupport.difference(activation(x).scalars, expected), relative: 1e-6), "\(activation)")
        }
    }

    @Test("NaN comes through every activation as in PyTorch and the reference: on its own, fused into a 1×1 convolution (both layouts), a depthwise convolution and the stem", arguments: Activation.allCases)
    func nanComesThrough(activation: Activation) throws {
        var random = SplitMix64(seed: 41)
        // Values far past every clamp (relu6's 6, the exponential's ±87) and a NaN every 37th.
        func values(_ count: Int) -> [Float] {
            (0..<count).map { $0 % 37 == 3 ? .nan : random.nextFloat(in: -100...100) }
        }
        func expectSame(_ fast: [Float], _ reference: [Float], _ what: String) {
            #expect(fast.count == reference.count && reference.contains { $0.isNaN }, "\(what)")
            let differing = zip(fast, reference).filter { f, r in
                f.isNaN != r.isNaN || !r.isNaN && abs(f - r) > 1e-5 * max(1, abs(r))
            }
            let count = differing.count
            #expect(count == 0, "\(activation) \(what): of \(fast.count), for example \(differing.prefix(3))")
        }
        let reference = ExecutionOptions(algorithm: .reference)
        let x = try Tensor(shape: [1, 8, 7, 7], values: values(8 * 49))
        expectSame(activation(x).scalars, x.scalars.map { Float(activation.reference(Double($0))) }, "layer")
        // A NaN reaches every output channel of its pixel (0 · NaN is NaN), as in PyTorch.
        let eye = (0..<64).map { Float($0 % 9 == 0 ? 1 : 0) }
        let pointwise = try Conv1x1(weight: Tensor(shape: [8, 8], values: eye), activation: activation)
        let depthwise = try Conv2d(inputChannels: 8, outputChannels: 8, kernelSize: 3, padding: .symmetric(1),
                                   groups: 8, activation: activation, seed: 3)
        let stem = try Conv2d(inputChannels: 3, outputChannels: 16, kernelSize: 3, stride: 2, padding: .symmetric(1),
                              activation: activation, seed: 4)
        let picture = try Tensor(shape: [1, 3, 15, 15], values: values(3 * 225))
        for layout in Layout.allCases {
            let x = x.converted(to: layout), picture = picture.converted(to: layout)
            expectSame(try pointwise(x).converted(to: .channelsFirst).scalars,
                       try pointwise(x, options: reference).converted(to: .channelsFirst).scalars, "1×1 \(layout)")
            expectSame(try depthwise(x).converted(to: .channelsFirst).scalars,
                       try depthwise(x, options: reference).converted(to: .channelsFirst).scalars, "depthwise \(layout)")
            expectSame(try stem(picture).converted(to: .channelsFirst).scalars,
                       try stem(picture, options: reference).converted(to: .channelsFirst).scalars, "stem \(layout)")
        }
    }

    @Test("slopes at the kinks follow PyTorch: relu'(0) = 0, relu6'(6) = 0, hardswish'(±3) = x/3 + 1/2")
    func kinks() throws {
        let x = try Tensor(shape: [1, 9], values: Self.points + [6])
        let ones = try Tensor(shape: [1, 9], values: Array(repeating: 1, count: 9))
        #expect(try Activation.relu.inputGradient(input: x, outputGradient: ones).scalars == [0, 0, 0, 0, 1, 1, 1, 1, 1])
        #expect(try Activation.relu6.inputGradient(input: x, outputGradient: ones).scalars == [0, 0, 0, 0, 1, 1, 1, 0, 0])
        let slopes = try Activation.hardSwish.inputGradient(input: x, outputGradient: ones).scalars
        let expected: [Float] = [0, -0.5, 1.0 / 6, 0.5, 5.0 / 6, 1.5, 1, 1, 1]
        #expect(TestSupport.withinTolerance(TestSupport.difference(slopes, expected), relative: 1e-7), "\(slopes)")
        #expect(expected.enumerated().allSatisfy { Float(Activation.hardSwish.referenceDerivative(Double(x.scalars[$0]))) == $1 })
    }

    @Test("backward equals finite differences away from kinks, every activation, both layouts", arguments: Activation.allCases)
    func finiteDifferences(activation: Activation) throws {
        var random = SplitMix64(seed: 21)
        for layout in Layout.allCases {
            // Values in −8…8 cover every piece (below −3, between the kinks, above 6), kept 0.05 from any kink.
            let values = (0..<24).map { _ in random.nextFloat(in: -8...8) }
                .map { v in [-3, 0, 3, 6].contains { abs(v - $0) < 0.05 } ? v + 0.1 : v }
            let x = try Tensor(shape: [2, 3, 4], layout: layout, values: values)
            try TestSupport.checkInputGradient(of: activation, at: x, "\(activation) \(layout)", using: &random)
        }
    }

    @Test("a convolution with hard-swish: the GEMM, then the separate pass, matches the reference")
    func convolutionWithHardSwish() throws {
        var random = SplitMix64(seed: 22)
        let conv = try Conv1x1(inputChannels: 12, outputChannels: 20, groups: 2, activation: .hardSwish, seed: 5)
        var linear = conv
        linear.activation = .identity
        for layout in Layout.allCases {
            let x = TestSupport.random([2, 12, 5, 3], layout: layout, using: &random)
            let residual = TestSupport.random([2, 20, 5, 3], layout: layout, using: &random)
            let fast = try conv(x, residual: residual)
            let reference = try conv(x, residual: residual, options: ExecutionOptions(algorithm: .reference))
            #expect(TestSupport.withinTolerance(TestSupport.difference(fast, reference)), "\(layout)")
            #expect(fast.scalars == Activation.hardSwish(try linear(x, residual: residual)).scalars, "\(layout)")
        }
    }

    @Test("a gradient of the wrong shape or buffer layout throws")
    func errors() throws {
        let x = try Tensor(zeros: [2, 3, 4])
        #expect(throws: LayerError.shape(role: "output gradient", expected: "[2, 3, 4]", actual: [2, 3, 5])) {
            try Activation.tanh.inputGradient(input: x, outputGradient: Tensor(zeros: [2, 3, 5]))
        }
        var buffer = try Tensor(zeros: [2, 3, 4], layout: .channelsLast)
        #expect(throws: LayerError.shape(role: "input gradient", expected: "[2, 3, 4] in nchw", actual: [2, 3, 4])) {
            try Activation.tanh.accumulateInputGradient(input: x, outputGradient: x, into: &buffer)
        }
    }
}
