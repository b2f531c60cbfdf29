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
