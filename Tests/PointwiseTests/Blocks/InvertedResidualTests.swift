import Testing
@testable import Pointwise

/// InvertedResidual and SqueezeExcitation: torchvision's counts and keys, forward against the layers
/// composed by hand, the residual rule, gates in (0, 1), backward against finite differences, bad input.
@Suite struct InvertedResidualTests {
    /// A block whose batch norms have random parameters and statistics.
    static func randomBlock(
        _ cin: Int, _ cout: Int, expansion: Int, kernelSize: Int = 3, stride: Int = 1, activation: Activation = .relu6,
        squeezeRatio: Double? = nil, using random: inout SplitMix64
    ) throws -> InvertedResidual {
        var block = try InvertedResidual(inputChannels: cin, outputChannels: cout, expansion: expansion, kernelSize: kernelSize,
                                         stride: stride, activation: activation, squeezeRatio: squeezeRatio, seed: random.next())
        let hidden = cin * expansion
        if expansion != 1 { block.expandNorm = try BatchNormTests.randomLayer(channels: hidden, using: &random) }
        block.depthwiseNorm = try BatchNormTests.randomLayer(channels: hidden, using: &random)
        block.projectNorm = try BatchNormTests.randomLayer(channels: cout, using: &random)
        return block
    }

    @Test("MobileNetV2 and EfficientNet parameter counts, torchvision keys and output shapes")
    func torchvisionCounts() throws {
        var random = SplitMix64(seed: 11)
        let x24 = TestSupport.random([1, 24, 8, 8], using: &random)
        // MobileNetV2 features[3], 24 → 144 → 24, t = 6, s = 1: expand 24·144 = 3,456; BN 2·144 = 288;
        // depthwise 144·1·3·3 = 1,296; BN 288; project 144·24 = 3,456; BN 2·24 = 48; total 8,832.
        let mobile = try InvertedResidual(inputChannels: 24, outputChannels: 24, expansion: 6)
        #expect(mobile.parameterCount == 8_832)
        #expect(mobile.hasResidual)
        #expect(mobile.parameters.map(\.name) == [
            "conv.0.0.weight", "conv.0.1.weight", "conv.0.1.bias", "conv.1.0.weight", "conv.1.1.weight", "conv.1.1.bias",
            "conv.2.weight", "conv.3.weight", "conv.3.bias"])
        #expect(mobile.parameters.map(\.shape)[0...3] == [[144, 24, 1, 1], [144], [144], [144, 1, 3, 3]])
        #expect(try mobile(x24).shape == [1, 24, 8, 8])
        // MobileNetV2 features[1], 32 → 16, t = 1: depthwise 32·9 = 288; BN 64; project 32·16 = 512; BN 32; 896.
        let first = try InvertedResidual(inputChannels: 32, outputChannels: 16, expansion: 1)
        #expect(first.parameterCount == 896 && !first.hasResidual)
        #expect(first.parameters.map(\.name) == [
            "conv.0.0.weight", "conv.0.1.weight", "conv.0.1.bias", "conv.1.weight", "conv.2.weight", "conv.2.bias"])
        // EfficientNet-Lite0 has no squeeze-and-excitation and ReLU6: its 24 → 144 → 24 block is MobileNetV2's, 8,832.
        let lite = try InvertedResidual(inputChannels: 24, outputChannels: 24, expansion: 6, activation: .relu6)
        #expect(lite.parameterCount == 8_832)
        // EfficientNet-B0 features[2][1], 24 → 144 → 24, k3, SE of max(1, 24 // 4) = 6 channels: the 8,832 above
        // plus fc1 144·6 + 6 = 870 and fc2 6·144 + 144 = 1,008; total 10,710.
        let b0 = try InvertedResidual(inputChannels: 24, outputChannels: 24, expansion: 6, activation: .silu,
                                      squeezeRatio: 0.25)
        #expect(b0.parameterCount == 10_710)
        #expect(b0.squeezeExcitation?.squeezeChannels == 6)
        #expect(b0.parameters.map(\.name) == [
            "block.0.0.weight", "block.0.1.weight", "block.0.1.bias", "block.1.0.weight", "block.1.1.weight",
            "block.1.1.bias", "block.2.fc1.weight", "block.2.fc1.bias", "block.2.fc2.weight", "block.2.fc2.bias",
            "block.3.0.weight", "block.3.1.weight", "block.3.1.bias"])
        #expect(try b0(x24).shape == [1, 24, 8, 8])
        // EfficientNet-B0 features[1][0], 32 → 16, t = 1, SE of 32 // 4 = 8: depthwise 288; BN 64; fc1 32·8 + 8 = 264;
        // fc2 8·32 + 32 = 288; project 512; BN 32; total 1,448.
        #expect(try InvertedResidual(inputChannels: 32, outputChannels: 16, expansion: 1, activation: .silu,
                                     squeezeRatio: 0.25).parameterCount == 1_448)
        // EfficientNet-B0 features[3][0], 24 → 144 → 40, k5, s2: expand 3,456; BN 288; depthwise 144·25 = 3,600; BN 288;
        // SE 870 + 1,008; project 144·40 = 5,760; BN 80; total 15,350. Output ⌊(8 + 2·2 − 5)/2⌋ + 1 = 4.
        let reducing = try InvertedResidual(inputChannels: 24, outputChannels: 40, expansion: 6, kernelSize: 5, stride: 2,
                                            activation: .silu, squeezeRatio: 0.25)
        #expect(reducing.parameterCount == 15_350 && !reducing.hasResidual)
        #expect(try reducing(x24).shape == [1, 40, 4, 4])
    }

    @Test("forward equals the layers composed by hand (reference convolutions), both layouts")
    func forwardMatchesComposition() throws {
        var random = SplitMix64(seed: 12)
        let reference = ExecutionOptions(algorithm: .reference)
        let cases: [(Int, Int, Int, Int, Int, Activation, Double?)] = [
            (4, 4, 6, 3, 1, .relu6, nil), (4, 6, 1, 5, 2, .relu6, nil), (8, 8, 3, 5, 1, .silu, 0.25), (8, 4, 2, 3, 2, .silu, 0.25)]
        for (cin, cout, t, k, s, act, ratio) in cases {
            let block = try Self.randomBlock(cin, cout, expansion: t, kernelSize: k, stride: s, activation: act,
                                             squeezeRatio: ratio, using: &random)
            let x = TestSupport.random([2, cin, 7, 6], using: &random)
            var h = x
            if let conv = block.expandConv, let norm = block.expandNorm { h = act(try norm(try conv(h, options: reference))) }
            h = act(try block.depthwiseNorm(try block.depthwise(h, options: reference)))
            if let se = block.squeezeExcitation {
                let gates = try se.fc2(try se.fc1(try GlobalAveragePool()(h), options: reference), options: reference)
                h = h.scaledPerChannel(by: gates)
            }
            var expected = try block.projectNorm(try block.project(h, options: reference))
            if s == 1 && cin == cout { expected = try Add()(expected, x) }
            try TestSupport.expectBothLayouts({ try block($0) }, at: x, equal: expected, "\(cin)→\(cout) t\(t) k\(k) s\(s) \(act)")
        }
    }

    @Test("the input is added only at stride 1 with Cin = Cout")
    func residualRule() throws {
        var random = SplitMix64(seed: 13)
        for (stride, cout) in [(1, 4), (2, 4), (1, 8)] {
            var block = try Self.randomBlock(4, cout, expansion: 6, stride: stride, using: &random)
            block.projectNorm = try TestSupport.zeroNorm(cout)
            let x = TestSupport.random([1, 4, 6, 6], using: &random)
            let y = try block(x)
            let expected = block.hasResidual ? x : Tensor.zeros(like: y)
            #expect(block.hasResidual == (stride == 1 && cout == 4))
            TestSupport.expectClose(y, expected, relative: 0, "stride \(stride) Cout \(cout)")
        }
    }

    @Test("squeeze-and-excitation: gates in (0, 1), count, and the channel scaling by hand")
    func squeezeExcitation() throws {
        var random = SplitMix64(seed: 14)
        // SE-ResNet-50 on 256 channels with reduction 16: fc1 256·16 + 16 = 4,112; fc2 16·256 + 256 = 4,352; 8,464.
        #expect(try SqueezeExcitation(channels: 256, squeezeChannels: 16).parameterCount == 8_464)
        let se = try SqueezeExcitation(channels: 6, squeezeChannels: 2, seed: 3)
        let x = try Tensor(shape: [2, 6, 3, 3], values: TestSupport.randomValues(108, using: &random).map { $0 * 20 })
        let gates = try se.gates(x)
        #expect(gates.shape == [2, 6, 1, 1])
        #expect(gates.scalars.allSatisfy { $0 > 0 && $0 < 1 }, "\(gates.scalars)")
        for layout in Layout.allCases {
            let y = try se(x.converted(to: layout)).converted(to: .channelsFirst)
            for n in 0..<2 {
                for c in 0..<6 {
                    let gate = gates[batch: n, channel: c, position: 0]
                    for s in 0..<9 where y[batch: n, channel: c, position: s] != x[batch: n, channel: c, position: s] * gate {
                        Issue.record("\(layout) y[\(n), \(c), \(s)] is not x · gate \(gate)")
                    }
                }
            }
        }
    }

    @Test("backward equals finite differences: MBConv with SE and SiLU, MobileNetV2 blocks with ReLU6")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 15)
        let cases: [(Int, Int, Int, Int, Activation, Double?, Layout)] = [
            (4, 4, 2, 1, .silu, 0.5, .channelsFirst), (4, 6, 1, 2, .relu6, nil, .channelsLast), (3, 3, 2, 1, .relu6, nil, .channelsFirst)]
        for (cin, cout, t, s, act, ratio, layout) in cases {
            let block = try Self.randomBlock(cin, cout, expansion: t, stride: s, activation: act, squeezeRatio: ratio, using: &random)
            let x = TestSupport.random([1, cin, 4, 4], layout: layout, using: &random)
            let g = TestSupport.random(try block(x).shape, using: &random)
            let grads = try block.gradients(input: x, outputGradient: g)
            let label = "\(cin)→\(cout) t\(t) s\(s) \(act)"
            #expect(grads.parameters.map(\.name) == block.parameters.map(\.name))
            TestSupport.expectGradient(
                grads.input.scalars, try TestSupport.numericGradient(of: x) { try TestSupport.dot(block($0), g) }, "\(label) dx")
            let keys = block.parameters.map(\.name)
            let depthwise = try TestSupport.numericGradient(of: block.depthwise.weight.scalars) { values in
                var b = block
                b.depthwise = try Conv2d(weight: Tensor(shape: block.depthwise.weight.shape, values: values), stride: s,
                                         padding: .symmetric(1), groups: block.hiddenChannels)
                return TestSupport.dot(try b(x), g)
            }
            TestSupport.expectGradient(grads[keys[t == 1 ? 0 : 3]] ?? [], depthwise, "\(label) depthwise")
            let project = try TestSupport.numericGradient(of: block.project.weight.scalars) { values in
                var b = block
                b.project = try Conv1x1(weight: Tensor(shape: block.project.weight.shape, values: values))
                return TestSupport.dot(try b(x), g)
            }
            let projectKey = keys[keys.count - 3]  // then the projection norm's weight and bias
            TestSupport.expectGradient(grads[projectKey] ?? [], project, "\(label) \(projectKey)")
            if let se = block.squeezeExcitation {
                let fc1 = try TestSupport.numericGradient(of: se.fc1.weight.scalars) { values in
                    var b = block
                    b.squeezeExcitation!.fc1 = try Conv1x1(weight: Tensor(shape: se.fc1.weight.shape, values: values),
                                                            bias: se.fc1.bias, activation: act)
                    return TestSupport.dot(try b(x), g)
                }
                TestSupport.expectGradient(grads["block.2.fc1.weight"] ?? [], fc1, "\(label) fc1")
            }
            if let conv = block.expandConv {
                let expand = try TestSupport.numericGradient(of: conv.weight.scalars) { values in
                    var b = block
                    b.expandConv = try Conv1x1(weight: Tensor(shape: conv.weight.shape, values: values))
                    return TestSupport.dot(try b(x), g)
                }
                TestSupport.expectGradient(grads[keys[0]] ?? [], expand, "\(label) \(keys[0])")
            }
        }
    }

    @Test("wrong channels, even kernels and t < 1 throw LayerError")
    func badInput() throws {
        let block = try InvertedResidual(inputChannels: 4, outputChannels: 4, expansion: 2)
        #expect(throws: LayerError.shape(role: "input", expected: "[N, 4, H, W]", actual: [1, 3, 5, 5])) {
            try block(Tensor(zeros: [1, 3, 5, 5]))
        }
        #expect(throws: LayerError.self) { try InvertedResidual(inputChannels: 4, outputChannels: 4, kernelSize: 4) }
        #expect(throws: LayerError.self) { try InvertedResidual(inputChannels: 4, outputChannels: 4, expansion: 0) }
        #expect(throws: LayerError.self) { try SqueezeExcitation(channels: 4, squeezeChannels: 1)(Tensor(zeros: [1, 5, 2, 2])) }
    }
}
