import Testing
@testable import Pointwise

/// The cost model against numbers worked out by hand.
@Suite struct CostTests {
    @Test("bottleneck 512→64→3×3→512 vs a plain 3×3 on 512: 102,400 vs 2,359,296 parameters, 23×")
    func bottleneck() {
        let comparison = CostComparison.bottleneck
        let plain = comparison.alternatives[0].cost, bottleneck = comparison.alternatives[1].cost
        #expect(plain.parameters == 512 * 512 * 9 && plain.parameters == 2_359_296)
        #expect(bottleneck.parameters == 512 * 64 + 64 * 64 * 9 + 64 * 512 && bottleneck.parameters == 102_400)
        #expect(plain.multiplyAdds == 2_359_296 * 28 * 28)
        let savings = comparison.savings(of: comparison.alternatives[1])
        #expect(abs(savings.parameters - 23.04) < 0.01 && abs(savings.multiplyAdds - 23.04) < 0.01)
    }

    @Test("Inception 5×5 branch: 192·32·25 = 153,600 weights without the reduction, 3,072 + 12,800 with")
    func inception() {
        let comparison = CostComparison.inception
        #expect(comparison.alternatives[0].cost.parameters == 153_600)
        #expect(comparison.alternatives[1].cost.parameters == 192 * 16 + 16 * 32 * 25)
        #expect(comparison.alternatives[0].cost.multiplyAdds == 153_600 * 784)
        #expect(comparison.alternatives[1].cost.multiplyAdds == (3_072 + 12_800) * 784)
    }

    @Test("FPN laterals: Cin·256 weights per level, each deeper level half the multiply-adds of the one before")
    func featurePyramid() {
        let laterals = CostComparison.featurePyramid.alternatives[1].layers.map(\.cost)
        #expect(laterals.map(\.parameters) == [65_536, 131_072, 262_144, 524_288])
        #expect(laterals.map(\.multiplyAdds) == [65_536 * 6_400, 131_072 * 1_600, 262_144 * 400, 524_288 * 100])
        #expect(laterals.map(\.multiplyAdds) == [419_430_400, 209_715_200, 104_857_600, 52_428_800])
        let threeByThree = CostComparison.featurePyramid.alternatives[0].cost
        #expect(threeByThree.multiplyAdds == 9 * CostComparison.featurePyramid.alternatives[1].cost.multiplyAdds)
    }

    @Test("depthwise-separable / standard 3×3 = 1/Cout + 1/9")
    func depthwiseSeparable() {
        let comparison = CostComparison.depthwiseSeparable
        let ratio = Double(comparison.alternatives[1].cost.multiplyAdds) / Double(comparison.alternatives[0].cost.multiplyAdds)
        #expect(abs(ratio - (1.0 / 512 + 1.0 / 9)) < 1e-12)
        #expect(comparison.alternatives[1].layers[0].cost.name.contains("depthwise"))
    }

    @Test("bytes, intensity and roofline: a 1×1 256→256 on 56×56")
    func roofline() throws {
        let conv = try Conv1x1(inputChannels: 256, outputChannels: 256)
        let cost = try conv.cost(forInput: [1, 256, 56, 56])
        #expect(cost.parameters == 65_536 + 256)
        #expect(cost.multiplyAdds == 65_536 * 3_136)
        #expect(cost.bytesMoved == 4 * (2 * 256 * 3_136 + 65_792))
        #expect(abs(cost.arithmeticIntensity - Double(cost.flops) / Double(cost.bytesMoved)) < 1e-12)
        // 411 MFLOP at 100 GFLOP/s = 4.11 ms; 6.7 MB at 16 GB/s = 0.42 ms: compute-bound.
        #expect(abs(cost.rooflineMilliseconds(peakGflops: 100, bandwidthGBps: 16) - 4.110_418) < 1e-5)
        #expect(!cost.isMemoryBound(peakGflops: 100, bandwidthGBps: 16))
        let bands = try Conv1x1(inputChannels: 13, outputChannels: 8).cost(forInput: [1, 13, 512, 512])
        #expect(bands.isMemoryBound(peakGflops: 100, bandwidthGBps: 16))
    }

    @Test("the whole EfficientNet-Lite0: 385,187,552 multiply-adds, 83% in the blocks' 1×1 convolutions")
    func model() throws {
        let model = try EfficientNetLiteStructureTests.model.get()
        let costs = try model.costs(forInput: [1, 3, 224, 224])
        func multiplyAdds(_ kind: EfficientNetLite.LayerKind) -> Int {
            costs.filter { $0.kind == kind }.reduce(0) { $0 + $1.cost.multiplyAdds }
        }
        // Worked out from the stage table: see the README.
        #expect(multiplyAdds(.stem) == 32 * 27 * 112 * 112)
        #expect(multiplyAdds(.pointwise) == 318_467_072)
        #expect(multiplyAdds(.depthwise) == 34_532_064)
        #expect(multiplyAdds(.head) == 49 * 320 * 1280 + 1280 * 1000)
        #expect(LayerCost.sequence("lite0", costs.map(\.cost)).multiplyAdds == 385_187_552)
        // The checkpoint's convolution weights, a folded bias per output channel, the classifier.
        #expect(LayerCost.sequence("lite0", costs.map(\.cost)).parameters == 4_631_000)
    }
}
