import Testing
@testable import Pointwise

/// The forward-only blocks: MobileNetV1's separable block, Inception, the FPN neck, NiN's mlpconv and the
/// FCN/SSD heads — PyTorch's parameter counts and shapes, forward against the layers composed by hand
/// (reference convolutions), bad input.
@Suite struct BlockShapeTests {
    static let reference = ExecutionOptions(algorithm: .reference)

    @Test("MobileNetV1 depthwise-separable: counts, keys, shapes, forward")
    func depthwiseSeparable() throws {
        var random = SplitMix64(seed: 21)
        // 32 → 64 (MobileNetV1's first): depthwise 32·1·3·3 = 288; BN 2·32 = 64; pointwise 32·64 = 2,048; BN 2·64 = 128;
        // total 2,528. The repeated 512 → 512: 512·9 + 2·512 + 512·512 + 2·512 = 4,608 + 1,024 + 262,144 + 1,024 = 268,800.
        #expect(try DepthwiseSeparable(inputChannels: 32, outputChannels: 64).parameterCount == 2_528)
        #expect(try DepthwiseSeparable(inputChannels: 512, outputChannels: 512).parameterCount == 268_800)
        var block = try DepthwiseSeparable(inputChannels: 6, outputChannels: 10, stride: 2, seed: 5)
        #expect(block.parameters.map(\.name) == ["conv_dw.weight", "bn1.weight", "bn1.bias", "conv_pw.weight", "bn2.weight", "bn2.bias"])
        block.depthwiseNorm = try BatchNormTests.randomLayer(channels: 6, using: &random)
        block.pointwiseNorm = try BatchNormTests.randomLayer(channels: 10, using: &random)
        let x = TestSupport.random([2, 6, 7, 8], using: &random)
        let h = Activation.relu(try block.depthwiseNorm(try block.depthwise(x, options: Self.reference)))
        let expected = Activation.relu(try block.pointwiseNorm(try block.pointwise(h, options: Self.reference)))
        #expect(expected.shape == [2, 10, 4, 4])   // ⌊(7 + 2 − 3)/2⌋ + 1 = 4, ⌊(8 + 2 − 3)/2⌋ + 1 = 4
        try TestSupport.expectBothLayouts({ try block($0) }, at: x, equal: expected, "separable")
        #expect(throws: LayerError.self) { try block(Tensor(zeros: [1, 5, 4, 4])) }
    }

    @Test("Inception 3a: 163,696 parameters, 256 channels, keys, forward")
    func inception() throws {
        var random = SplitMix64(seed: 22)
        // 3a: 192 → 64 | 96 → 128 | 16 → 32 | pool → 32. With biases: 1×1 192·64 + 64 = 12,352; reduce 192·96 + 96 = 18,528;
        // 3×3 96·128·9 + 128 = 110,720; reduce 192·16 + 16 = 3,088; 5×5 16·32·25 + 32 = 12,832; pool proj 192·32 + 32 = 6,176;
        // total 163,696; channels 64 + 128 + 32 + 32 = 256.
        let inception3a = try Inception(inputChannels: 192, ones: 64, reduce3x3: 96, out3x3: 128, reduce5x5: 16, out5x5: 32,
                                        poolProjection: 32)
        #expect(inception3a.parameterCount == 163_696)
        #expect(inception3a.outputChannels == 256)
        #expect(inception3a.parameters.map(\.name) == [
            "branch1.weight", "branch1.bias", "branch2.0.weight", "branch2.0.bias", "branch2.1.weight", "branch2.1.bias",
            "branch3.0.weight", "branch3.0.bias", "branch3.1.weight", "branch3.1.bias", "branch4.1.weight", "branch4.1.bias"])
        #expect(try inception3a(TestSupport.random([1, 192, 4, 4], using: &random)).shape == [1, 256, 4, 4])

        let small = try Inception(inputChannels: 5, ones: 2, reduce3x3: 3, out3x3: 4, reduce5x5: 2, out5x5: 3,
                                  poolProjection: 2, seed: 9)
        let x = TestSupport.random([2, 5, 6, 7], using: &random)
        let pooled = try MaxPool2d(kernelSize: 3, stride: 1, padding: 1)(x)
        let expected = try Concat()([
            try small.branch1(x, options: Self.reference),
            try small.conv3x3(try small.reduce3x3(x, options: Self.reference), options: Self.reference),
            try small.conv5x5(try small.reduce5x5(x, options: Self.reference), options: Self.reference),
            try small.poolProjection(pooled, options: Self.reference)])
        #expect(expected.shape == [2, 11, 6, 7])
        try TestSupport.expectBothLayouts({ try small($0) }, at: x, equal: expected, "inception")
        #expect(throws: LayerError.self) { try small(Tensor(zeros: [1, 4, 6, 6])) }
    }

    @Test("FPN: torchvision's count and keys, P3–P6 at 80/40/20/10, the top-down sum, bad sizes")
    func featurePyramid() throws {
        var random = SplitMix64(seed: 23)
        // C3–C6 of 512, 1024, 2048, 2048 channels to 256: laterals 256·(512 + 1024 + 2048 + 2048) + 4·256 = 1,441,792 + 1,024
        // = 1,442,816; smoothing 4·(256·256·9 + 256) = 4·590,080 = 2,360,320; total 3,803,136.
        let full = try FeaturePyramid(inputChannels: [512, 1024, 2048, 2048], outputChannels: 256)
        #expect(full.parameterCount == 3_803_136)
        #expect(full.parameters.map(\.name).prefix(2) == ["inner_blocks.0.0.weight", "inner_blocks.0.0.bias"])
        #expect(full.parameters.map(\.name).last == "layer_blocks.3.0.bias")
        #expect(full.namedParameters.first { $0.name == "inner_blocks.3.0.weight" }?.shape == [256, 2048, 1, 1])

        let fpn = try FeaturePyramid(inputChannels: [3, 4, 5, 5], outputChannels: 4, seed: 3)
        let sizes = [80, 40, 20, 10]
        let features = zip([3, 4, 5, 5], sizes).map { TestSupport.random([1, $0, $1, $1], using: &random) }
        let outputs = try fpn(features)
        #expect(outputs.map(\.shape) == sizes.map { [1, 4, $0, $0] })

        // Small levels against the definition: inner_top = lateral(C_top); inner_i = lateral(C_i) + up(inner_{i+1}).
        let levels = zip([3, 4, 5], [12, 6, 3]).map { TestSupport.random([2, $0, $1, 2 * $1], using: &random) }
        let three = try FeaturePyramid(inputChannels: [3, 4, 5], outputChannels: 4, seed: 4)
        let inner2 = try three.lateral[2](levels[2], options: Self.reference)
        let inner1 = try Add()(try three.lateral[1](levels[1], options: Self.reference), try Upsample()(inner2))
        let inner0 = try Add()(try three.lateral[0](levels[0], options: Self.reference), try Upsample()(inner1))
        let expected = try zip(three.smooth, [inner0, inner1, inner2]).map { try $0($1, options: Self.reference) }
        for layout in Layout.allCases {
            let observed = try three(levels.map { $0.converted(to: layout) })
            for (level, (p, e)) in zip(observed, expected).enumerated() {
                #expect(p.layout == layout)
                TestSupport.expectClose(p, e, relative: 1e-5, "P\(level + 3) \(layout)")
            }
        }

        // Odd sizes (41 is not 80 / 2), a missing level, wrong channels.
        var odd = features
        odd[1] = TestSupport.random([1, 4, 41, 41], using: &random)
        #expect(throws: LayerError.self) { try fpn(odd) }
        do {
            _ = try fpn(odd)
        } catch {
            #expect(error.description.contains("half the finer level"), "\(error)")
        }
        #expect(throws: LayerError.self) { try fpn(Array(features.prefix(3))) }
        var wrong = features
        wrong[0] = TestSupport.random([1, 2, 80, 80], using: &random)
        #expect(throws: LayerError.shape(role: "level 0 features", expected: "[N, 3, H, W]", actual: [1, 2, 80, 80])) {
            try fpn(wrong)
        }
    }

    @Test("NiN mlpconv: count, keys, shape, forward")
    func mlpConv() throws {
        var random = SplitMix64(seed: 24)
        // NiN's first block, d2l's nin_block(3, 96, 11, 4, 0): 96·3·11·11 + 96 = 34,944; two 1×1: 2·(96·96 + 96) = 18,624;
        // total 53,568. On 35×35: ⌊(35 − 11)/4⌋ + 1 = 7.
        let nin = try MLPConv(inputChannels: 3, channels: [96, 96, 96], kernelSize: 11, stride: 4)
        #expect(nin.parameterCount == 53_568)
        #expect(nin.parameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        #expect(try nin(TestSupport.random([1, 3, 35, 35], using: &random)).shape == [1, 96, 7, 7])

        let small = try MLPConv(inputChannels: 3, channels: [5, 4, 2], kernelSize: 3, padding: .symmetric(1), seed: 2)
        let x = TestSupport.random([2, 3, 5, 6], using: &random)
        let h = try small.pointwise[0](try small.spatial(x, options: Self.reference), options: Self.reference)
        let expected = try small.pointwise[1](h, options: Self.reference)
        #expect(expected.scalars.allSatisfy { $0 >= 0 })
        try TestSupport.expectBothLayouts({ try small($0) }, at: x, equal: expected, "mlpconv")
        #expect(throws: LayerError.self) { try MLPConv(inputChannels: 3, channels: [], kernelSize: 3) }
        #expect(throws: LayerError.self) { try small(Tensor(zeros: [1, 2, 5, 5])) }
    }

    @Test("FCN and SSD heads: counts, per-pixel scores, the 1×1 head is Conv1x1")
    func pixelClassifier() throws {
        var random = SplitMix64(seed: 25)
        // FCN-32s's score_fr: 4096·21 + 21 = 86,037. SSD300 on conv4_3 (512 channels, 4 anchors, 21 classes): one 3×3
        // convolution to 4·(21 + 4) = 100 channels, 512·100·9 + 100 = 460,900 (SSD's separate conf and loc layers,
        // 512·84·9 + 84 and 512·16·9 + 16, sum to the same).
        #expect(try PixelClassifier.fcn(inputChannels: 4096, classes: 21).parameterCount == 86_037)
        let ssd = try PixelClassifier.ssd(inputChannels: 512, classes: 21, anchors: 4)
        #expect(ssd.parameterCount == 460_900)
        #expect(try ssd(TestSupport.random([1, 512, 3, 3], using: &random)).shape == [1, 100, 3, 3])

        let fcn = try PixelClassifier.fcn(inputChannels: 6, classes: 3, seed: 8)
        #expect(fcn.parameters.map(\.name) == ["conv.weight", "conv.bias"])
        let pointwise = try Conv1x1(weight: fcn.conv.weight, bias: fcn.conv.bias)
        let x = TestSupport.random([2, 6, 4, 5], using: &random)
        try TestSupport.expectBothLayouts({ try fcn($0) }, at: x, equal: try pointwise(x, options: Self.reference), "fcn")
        #expect(throws: LayerError.self) { try PixelClassifier(inputChannels: 6, outputChannels: 3, kernelSize: 2) }
        #expect(throws: LayerError.self) { try fcn(Tensor(zeros: [1, 5, 4, 4])) }
    }
}
