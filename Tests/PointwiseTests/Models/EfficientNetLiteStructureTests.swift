import Foundation
import Testing
@testable import Pointwise

/// The model definition, checked without the pretrained weights: a random checkpoint with
/// EfficientNet-Lite0's key names and shapes, against the same network built from unfused layers.
@Suite("EfficientNet-Lite0 structure")
struct EfficientNetLiteStructureTests {
    /// A random state_dict with the checkpoint's names and shapes (BN statistics included).
    static func randomCheckpoint(seed: UInt64 = 7) -> [String: RawArray] {
        var random = SplitMix64(seed: seed)
        var arrays: [String: RawArray] = [:]
        func add(_ key: String, _ shape: [Int], scale: Float = 0.2, offset: Float = 0) {
            let count = shape.reduce(1, *)
            arrays[key] = RawArray(shape: shape, floats: (0..<count).map { _ in offset + random.nextFloat(in: -scale...scale) })
        }
        func batchNorm(_ prefix: String, _ channels: Int) {
            add("\(prefix).weight", [channels], scale: 0.3, offset: 1)
            add("\(prefix).bias", [channels], scale: 0.1)
            add("\(prefix).running_mean", [channels], scale: 0.1)
            add("\(prefix).running_var", [channels], scale: 0.2, offset: 0.8)
            arrays["\(prefix).num_batches_tracked"] = RawArray(elementType: .int64, shape: [], data: Data(count: 8))
        }
        add("_conv_stem.weight", [32, 3, 3, 3])
        batchNorm("_bn0", 32)
        var channels = 32
        for (index, step) in EfficientNetLite.Configuration.lite0.blocks.enumerated() {
            var hidden = channels
            if index > 0 {
                hidden = channels * 6
                add("_blocks.\(index)._expand_conv.weight", [hidden, channels, 1, 1], scale: 0.3)
                batchNorm("_blocks.\(index)._bn0", hidden)
            }
            add("_blocks.\(index)._depthwise_conv.weight", [hidden, 1, step.kernelSize, step.kernelSize], scale: 0.3)
            batchNorm("_blocks.\(index)._bn1", hidden)
            add("_blocks.\(index)._project_conv.weight", [step.outputChannels, hidden, 1, 1], scale: 0.2)
            batchNorm("_blocks.\(index)._bn2", step.outputChannels)
            channels = step.outputChannels
        }
        add("_conv_head.weight", [1280, channels, 1, 1], scale: 0.1)
        batchNorm("_bn1", 1280)
        add("_fc.weight", [1000, 1280], scale: 0.05)
        add("_fc.bias", [1000], scale: 0.05)
        return arrays
    }

    static let checkpoint = randomCheckpoint()
    static let model = Result { try EfficientNetLite(weights: checkpoint, name: "random.safetensors") }

    @Test("the checkpoint's 296 tensors build 16 blocks with the stage table's kernels, strides and residuals")
    func structure() throws {
        #expect(Self.checkpoint.count == 296)
        let model = try Self.model.get()
        #expect(model.blocks.count == 16)
        #expect(model.blocks[0].expand == nil && model.blocks[1].expand != nil)
        #expect(model.blocks.map(\.depthwise.kernelHeight) == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3])
        #expect(model.blocks.map(\.depthwise.stride) == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1])
        #expect(model.blocks.filter(\.hasResidual).count == 9)
        #expect(model.stem.activation == .relu6 && model.head.activation == .relu6)
        #expect(model.blocks.allSatisfy { $0.depthwise.activation == .relu6 && $0.project.activation == .identity })
    }

    @Test("folded and fused, in any layout split, the model equals the unfused layers run one by one")
    func matchesUnfusedLayers() throws {
        let model = try Self.model.get()
        var random = SplitMix64(seed: 11)
        let x = TestSupport.random([1, 3, 67, 45], using: &random)   // odd sizes: SAME padding on every side
        let expected = try unfusedLogits(x, checkpoint: Self.checkpoint)
        // Layout splits: all channels-first, blocks below 28×28 channels-last, all channels-last (the default).
        for split in [0, 28 * 28, Int.max] {
            var variant = model
            variant.channelsLastBelow = split
            let actual = try variant.logits(x, options: ExecutionOptions(threads: 2))
            #expect(actual.shape == [1, 1000])
            #expect(TestSupport.withinTolerance(TestSupport.difference(actual.scalars, expected), relative: 1e-4),
                    "channels-last below \(split) positions")
        }
    }

    @Test("fusing the stem and the expansions with their depthwise layers changes no bit, on any thread count")
    func fusedExpansionsKeepTheBits() throws {
        let model = try Self.model.get()
        var random = SplitMix64(seed: 13)
        let x = TestSupport.random([1, 3, 67, 45], using: &random)
        var separate = model
        separate.fusedExpansionBytes = Int.max
        separate.fusesStem = false
        let expected = try separate.logits(x, options: ExecutionOptions(threads: 1)).scalars
        var fused = model
        fused.fusedExpansionBytes = 0  // every expansion fused
        for threads in [1, 2, 3] {
            #expect(try fused.logits(x, options: ExecutionOptions(threads: threads)).scalars == expected, "\(threads) threads")
        }
        // The stem fused (the default) and each expansion on its own, and the timed breakdown's names.
        var stemOnly = model
        stemOnly.fusedExpansionBytes = Int.max
        var workspace = EfficientNetLite.Workspace()
        var timings: [EfficientNetLite.LayerTime]? = []
        let logits = try stemOnly.logits(x, options: ExecutionOptions(threads: 2), workspace: &workspace, timings: &timings)
        #expect(logits.scalars == expected)
        #expect(timings!.first.map { $0.name.hasSuffix("(fused)") && $0.kind == .stem } == true)
    }

    @Test("the dense class map's mean over its locations is the logits (pool and classifier are linear)")
    func denseMapAveragesToLogits() throws {
        let model = try Self.model.get()
        var random = SplitMix64(seed: 12)
        let x = TestSupport.random([1, 3, 96, 128], using: &random)
        let dense = try model.denseLogits(x)
        #expect(dense.shape == [1, 1000, 3, 4])
        let logits = try model.logits(x).scalars
        let values = dense.scalars
        let means = (0..<1000).map { c in (0..<12).reduce(Float(0)) { $0 + values[c * 12 + $1] } / 12 }
        #expect(TestSupport.withinTolerance(TestSupport.difference(means, logits), relative: 1e-5))
        let map = DenseClassMap(logits: dense)
        #expect(map.height == 3 && map.width == 4 && map.topClass.count == 12)
        let winners = map.classesByLocations
        #expect(winners.reduce(0) { $0 + $1.locations } == 12)
        #expect(zip(winners, winners.dropFirst()).allSatisfy { $0.locations > $1.locations || ($0.locations == $1.locations && $0.index < $1.index) })
        let sum = (0..<1000).reduce(Float(0)) { $0 + map.probabilities[$1 * 12 + 5] }
        #expect(abs(sum - 1) < 1e-4)
    }

    @Test("a workspace reused across passes gives the same logits as fresh buffers")
    func workspaceReuse() throws {
        let model = try Self.model.get()
        var random = SplitMix64(seed: 13)
        let a = TestSupport.random([1, 3, 64, 64], using: &random), b = TestSupport.random([1, 3, 64, 64], using: &random)
        var workspace = EfficientNetLite.Workspace()
        var timings: [EfficientNetLite.LayerTime]? = []
        let options = ExecutionOptions(threads: 1)
        _ = try model.logits(a, options: options, workspace: &workspace, timings: &timings)
        let storages = workspace.buffers.map { ObjectIdentifier($0.storage) }
        #expect(workspace.buffers.filter { $0.count > 0 }.count == 5)   // no low-rank factors here
        let reused = try model.logits(b, options: options, workspace: &workspace, timings: &timings)
        #expect(workspace.buffers.map { ObjectIdentifier($0.storage) } == storages, "a second pass allocated")
        #expect(reused.scalars == (try model.logits(b, options: options)).scalars)
        #expect(Set(timings!.map(\.kind)) == Set(EfficientNetLite.LayerKind.allCases))
        #expect(timings!.count == 2 * (1 + 16 + 15 + 16 + 1 + 1))   // two passes: every layer, all channels-last
    }

    @Test("missing, misshapen, non-float and extra tensors are refused with the file and key named")
    func badCheckpoints() {
        var missing = Self.checkpoint
        missing["_blocks.4._depthwise_conv.weight"] = nil
        #expect(throws: ModelError.missingWeight(file: "w", key: "_blocks.4._depthwise_conv.weight", expected: [240, 1, 5, 5])) {
            try EfficientNetLite(weights: missing, name: "w")
        }
        var misshapen = Self.checkpoint
        misshapen["_fc.bias"] = RawArray(shape: [999], floats: Array(repeating: 0, count: 999))
        #expect(throws: ModelError.weightShape(file: "w", key: "_fc.bias", expected: [1000], actual: [999])) {
            try EfficientNetLite(weights: misshapen, name: "w")
        }
        var integer = Self.checkpoint
        integer["_bn0.bias"] = RawArray(elementType: .int32, shape: [32], data: Data(count: 128))
        #expect(throws: ModelError.weightType(file: "w", key: "_bn0.bias", type: .int32)) {
            try EfficientNetLite(weights: integer, name: "w")
        }
        var extra = Self.checkpoint
        extra["classifier.1.weight"] = RawArray(shape: [2], floats: [0, 0])
        #expect(throws: ModelError.unexpectedWeights(file: "w", keys: ["classifier.1.weight"])) {
            try EfficientNetLite(weights: extra, name: "w")
        }
        var moreBlocks = Self.checkpoint
        moreBlocks["_blocks.16._depthwise_conv.weight"] = RawArray(shape: [1], floats: [0])
        #expect(throws: ModelError.self) { try EfficientNetLite(weights: moreBlocks, name: "w") }
        #expect(throws: ModelError.self) { try EfficientNetLite(weights: [:], name: "w") }
    }

    // MARK: - The unfused network

    /// The network as the checkpoint describes it, layer by layer: convolutions without bias,
    /// batch norms with running statistics, ReLU6 and the residual add as separate steps.
    func unfusedLogits(_ x: Tensor, checkpoint: [String: RawArray]) throws -> [Float] {
        func tensor(_ key: String) throws -> Tensor { try Tensor(shape: checkpoint[key]!.shape, values: checkpoint[key]!.floats()) }
        func norm(_ prefix: String, _ input: Tensor) throws -> Tensor {
            let bn = try BatchNorm(weight: checkpoint["\(prefix).weight"]!.floats(), bias: checkpoint["\(prefix).bias"]!.floats(),
                                   runningMean: checkpoint["\(prefix).running_mean"]!.floats(),
                                   runningVar: checkpoint["\(prefix).running_var"]!.floats(), eps: 1e-3)
            return try bn(input)
        }
        // The convolution kernels have their own tests against the reference loops; here the
        // point is the wiring, folding and fusion, so the plain fast convolutions do.
        let unfused = ExecutionOptions(threads: 1)
        func conv(_ key: String, _ input: Tensor, stride: Int = 1, groups: Int = 1) throws -> Tensor {
            try Conv2d(weight: tensor(key), stride: stride, padding: .same, groups: groups)(input, options: unfused)
        }
        var h = Activation.relu6.callAsFunction(try norm("_bn0", conv("_conv_stem.weight", x, stride: 2)))
        for (index, step) in EfficientNetLite.Configuration.lite0.blocks.enumerated() {
            let p = "_blocks.\(index)"
            var e = h
            if checkpoint["\(p)._expand_conv.weight"] != nil {
                e = Activation.relu6.callAsFunction(try norm("\(p)._bn0", conv("\(p)._expand_conv.weight", h)))
            }
            let d = Activation.relu6.callAsFunction(try norm("\(p)._bn1", conv("\(p)._depthwise_conv.weight", e, stride: step.stride,
                                                                   groups: e.channels)))
            var y = try norm("\(p)._bn2", conv("\(p)._project_conv.weight", d))
            if step.stride == 1 && h.channels == y.channels { y.add(h) }
            h = y
        }
        let features = Activation.relu6.callAsFunction(try norm("_bn1", conv("_conv_head.weight", h)))
        let pooled = try GlobalAveragePool()(features).scalars
        let weight = checkpoint["_fc.weight"]!.floats(), bias = checkpoint["_fc.bias"]!.floats()
        var logits = [Float](repeating: 0, count: 1000)
        for o in 0..<1000 {
            var sum = Double(bias[o])
            for i in 0..<1280 { sum += Double(weight[o * 1280 + i]) * Double(pooled[i]) }
            logits[o] = Float(sum)
        }
        return logits
    }
}
