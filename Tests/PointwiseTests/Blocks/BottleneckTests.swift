import Testing
@testable import Pointwise

/// Bottleneck: torchvision's parameter counts and keys, forward against the layers composed by hand,
/// both shortcuts, backward against finite differences, bad input.
@Suite struct BottleneckTests {
    /// A block whose batch norms have random parameters and statistics, so none of them is the identity.
    static func randomBlock(inputChannels: Int, planes: Int, stride: Int, using random: inout SplitMix64) throws -> Bottleneck {
        var block = try Bottleneck(inputChannels: inputChannels, planes: planes, stride: stride, seed: random.next())
        block.bn1 = try BatchNormTests.randomLayer(channels: planes, using: &random)
        block.bn2 = try BatchNormTests.randomLayer(channels: planes, using: &random)
        block.bn3 = try BatchNormTests.randomLayer(channels: 4 * planes, using: &random)
        if block.downsampleNorm != nil {
            block.downsampleNorm = try BatchNormTests.randomLayer(channels: 4 * planes, using: &random)
        }
        return block
    }

    @Test("ResNet-50's parameter counts, keys and output shapes")
    func torchvisionCounts() throws {
        var random = SplitMix64(seed: 1)
        // layer1.1: 256 → 64 → 256, identity shortcut. Convolutions 256·64 + 64·64·9 + 64·256 = 16,384 +
        // 36,864 + 16,384 = 69,632; batch norms 2·(64 + 64 + 256) = 768; sum(p.numel() for p in parameters()) = 70,400.
        let identity = try Bottleneck(inputChannels: 256, planes: 64)
        #expect(identity.parameterCount == 70_400)
        #expect(identity.downsampleConv == nil)
        #expect(identity.namedParameters.map(\.name) == [
            "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked",
            "conv3.weight", "bn3.weight", "bn3.bias", "bn3.running_mean", "bn3.running_var", "bn3.num_batches_tracked"])
        #expect(identity.namedParameters.first { $0.name == "conv1.weight" }?.shape == [64, 256, 1, 1])
        #expect(identity.namedParameters.first { $0.name == "conv2.weight" }?.shape == [64, 64, 3, 3])
        let x = TestSupport.random([1, 256, 8, 8], using: &random)
        #expect(try identity(x).shape == [1, 256, 8, 8])

        // layer2.0: 256 → 128 → 512, stride 2, projection. Convolutions 256·128 + 128·128·9 + 128·512 + 256·512
        // = 32,768 + 147,456 + 65,536 + 131,072 = 376,832; batch norms 2·(128 + 128 + 512 + 512) = 2,560; 379,392.
        let projection = try Bottleneck(inputChannels: 256, planes: 128, stride: 2)
        #expect(projection.parameterCount == 379_392)
        #expect(projection.namedParameters.suffix(6).map(\.name) == [
            "downsample.0.weight", "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean",
            "downsample.1.running_var", "downsample.1.num_batches_tracked"])
        #expect(projection.namedParameters.first { $0.name == "downsample.0.weight" }?.shape == [512, 256, 1, 1])
        // PyTorch: ⌊(8 + 2·1 − 3)/2⌋ + 1 = 4 on the 3×3 path, ⌊(8 − 1)/2⌋ + 1 = 4 on the projection.
        #expect(try projection(x).shape == [1, 512, 4, 4])
        let odd = TestSupport.random([1, 256, 7, 7], using: &random)
        #expect(try projection(odd).shape == [1, 512, 4, 4])
        // Same seed, same block.
        #expect(try Bottleneck(inputChannels: 256, planes: 64).namedParameters == identity.namedParameters)
    }

    @Test("forward equals the layers composed by hand (reference convolutions), both layouts")
    func forwardMatchesComposition() throws {
        var random = SplitMix64(seed: 2)
        let reference = ExecutionOptions(algorithm: .reference)
        for (cin, planes, stride) in [(8, 2, 1), (6, 2, 2), (4, 3, 1)] {
            let block = try Self.randomBlock(inputChannels: cin, planes: planes, stride: stride, using: &random)
            let x = TestSupport.random([2, cin, 7, 6], using: &random)
            let r1 = Activation.relu(try block.bn1(try block.conv1(x, options: reference)))
            let r2 = Activation.relu(try block.bn2(try block.conv2(r1, options: reference)))
            let main = try block.bn3(try block.conv3(r2, options: reference))
            var shortcut = x
            if let conv = block.downsampleConv, let norm = block.downsampleNorm {
                shortcut = try norm(try conv(x, options: reference))
            }
            let expected = Activation.relu(try Add()(main, shortcut))
            try TestSupport.expectBothLayouts({ try block($0) }, at: x, equal: expected, "\(cin)→\(planes) stride \(stride)")
        }
    }

    @Test("with bn3 zeroed the block is ReLU of its shortcut: x itself, or the projection")
    func shortcuts() throws {
        var random = SplitMix64(seed: 3)
        for stride in [1, 2] {
            var block = try Self.randomBlock(inputChannels: 8, planes: 2, stride: stride, using: &random)
            block.bn3 = try TestSupport.zeroNorm(8)
            let x = TestSupport.random([1, 8, 5, 5], using: &random)
            var shortcut = x
            if let conv = block.downsampleConv, let norm = block.downsampleNorm { shortcut = try norm(try conv(x)) }
            #expect((block.downsampleConv != nil) == (stride == 2))
            TestSupport.expectClose(try block(x), Activation.relu(shortcut), relative: 1e-6, "stride \(stride)")
        }
    }

    @Test("backward equals finite differences for the input and the parameters, both shortcuts")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 4)
        for (cin, stride, layout) in [(8, 1, Layout.channelsFirst), (4, 2, .channelsLast)] {
            let block = try Self.randomBlock(inputChannels: cin, planes: 2, stride: stride, using: &random)
            let x = TestSupport.random([1, cin, 4, 4], layout: layout, using: &random)
            let g = TestSupport.random(try block(x).shape, using: &random)
            let grads = try block.gradients(input: x, outputGradient: g)
            let label = "cin \(cin) stride \(stride)"
            #expect(grads.parameters.map(\.name) == block.parameters.map(\.name))
            TestSupport.expectGradient(
                grads.input.scalars, try TestSupport.numericGradient(of: x) { try TestSupport.dot(block($0), g) },
                "\(label) dx")
            let conv1 = try TestSupport.numericGradient(of: block.conv1.weight.scalars) { values in
                var b = block
                b.conv1 = try Conv1x1(weight: Tensor(shape: block.conv1.weight.shape, values: values))
                return TestSupport.dot(try b(x), g)
            }
            TestSupport.expectGradient(grads["conv1.weight"] ?? [], conv1, "\(label) conv1.weight")
            let conv2 = try TestSupport.numericGradient(of: block.conv2.weight.scalars) { values in
                var b = block
                b.conv2 = try Conv2d(weight: Tensor(shape: block.conv2.weight.shape, values: values), stride: stride,
                                     padding: .symmetric(1))
                return TestSupport.dot(try b(x), g)
            }
            TestSupport.expectGradient(grads["conv2.weight"] ?? [], conv2, "\(label) conv2.weight")
            let bn2 = try TestSupport.numericGradient(of: block.bn2.weight) { values in
                var b = block
                b.bn2.weight = values
                return TestSupport.dot(try b(x), g)
            }
            TestSupport.expectGradient(grads["bn2.weight"] ?? [], bn2, "\(label) bn2.weight")
            let bn3 = try TestSupport.numericGradient(of: block.bn3.bias) { values in
                var b = block
                b.bn3.bias = values
                return TestSupport.dot(try b(x), g)
            }
            TestSupport.expectGradient(grads["bn3.bias"] ?? [], bn3, "\(label) bn3.bias")
            if let conv = block.downsampleConv {
                let numeric = try TestSupport.numericGradient(of: conv.weight.scalars) { values in
                    var b = block
                    b.downsampleConv = try Conv1x1(weight: Tensor(shape: conv.weight.shape, values: values), stride: stride)
                    return TestSupport.dot(try b(x), g)
                }
                TestSupport.expectGradient(grads["downsample.0.weight"] ?? [], numeric, "\(label) downsample.0.weight")
            }
        }
    }

    @Test("wrong channels or rank throw LayerError.shape")
    func badInput() throws {
        let block = try Bottleneck(inputChannels: 8, planes: 2)
        #expect(throws: LayerError.shape(role: "input", expected: "[N, 8, H, W]", actual: [1, 4, 5, 5])) {
            try block(Tensor(zeros: [1, 4, 5, 5]))
        }
        #expect(throws: LayerError.self) { try block(Tensor(zeros: [1, 8, 5])) }
        #expect(throws: LayerError.self) {
            try block.gradients(input: Tensor(zeros: [1, 8, 5, 5]), outputGradient: Tensor(zeros: [1, 8, 4, 4]))
        }
    }
}
