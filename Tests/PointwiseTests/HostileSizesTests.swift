import Foundation
import Testing
@testable import Pointwise

/// Sizes, counts and settings far beyond anything real — thread counts, shapes whose product
/// overflows, strides and paddings of `Int.max` — each answered with a typed error before any
/// arithmetic overflows or anything is allocated. None may trap.
@Suite("hostile sizes")
struct HostileSizesTests {
    static let huge = Int.max

    // MARK: - Threads

    @Test("thread counts above the maximum are refused by every layer that runs on threads")
    func threads() throws {
        let x = try Tensor(zeros: [1, 3, 8, 8])
        let conv = try Conv1x1(inputChannels: 3, outputChannels: 4)
        #expect(throws: ConvolutionError.threads(Self.huge)) { try conv(x, options: ExecutionOptions(threads: Self.huge)) }
        #expect(throws: ConvolutionError.threads(Self.huge)) {
            try conv.explanation(forInput: x.shape, layout: .channelsFirst, options: ExecutionOptions(threads: Self.huge))
        }
        let stem = try Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2, padding: .symmetric(1))
        #expect(throws: LayerError.convolution(.threads(1 << 40))) { try stem(x, options: ExecutionOptions(threads: 1 << 40)) }
        #expect(throws: ConvolutionError.threads(3_000_000_000)) { try MachineProfile.measure(threads: 3_000_000_000) }
        let most = ExecutionOptions(threads: ExecutionOptions.maximumThreads)
        #expect(try conv(x, options: most).scalars == conv(x, options: ExecutionOptions(threads: 1)).scalars)
        #expect(try stem(x, options: most).scalars == stem(x, options: ExecutionOptions(threads: 1)).scalars)
    }

    // MARK: - Tensors

    @Test("an empty tensor's other dimensions are bounded too")
    func emptyTensors() throws {
        let shape = [0, 1 << 40, 1 << 40]
        #expect(throws: TensorError.invalidShape(shape: shape)) { try Tensor(zeros: shape) }
        #expect(throws: TensorError.invalidShape(shape: [0, 3, 1 << 40, 1 << 40])) {
            try Tensor(shape: [0, 3, 1 << 40, 1 << 40], values: [])
        }
        #expect(try Tensor(zeros: [0, 3, 4, 4]).count == 0)
        let rows = try Tensor(zeros: [6, 3])
        #expect(throws: TensorError.invalidShape(shape: [Self.huge, 3, Self.huge])) {
            try rows.images(batchSize: Self.huge, spatialShape: [Self.huge])
        }
    }

    // MARK: - Layers

    @Test("1×1 convolution settings and shapes that would overflow are typed errors")
    func conv1x1() throws {
        let weight = try Tensor(zeros: [4, 3])
        #expect(throws: ConvolutionError.groups(Self.huge, inputChannels: 3, outputChannels: 4)) {
            try Conv1x1(weight: weight, groups: Self.huge)
        }
        #expect(throws: ConvolutionError.tensor(.invalidShape(shape: [1 << 32, 1 << 32]))) {
            try Conv1x1(inputChannels: 1 << 32, outputChannels: 1 << 32)
        }
        let conv = try Conv1x1(weight: weight)
        #expect(throws: ConvolutionError.tensor(.unsupportedRank(shape: []))) { try conv.outputShape(forInput: []) }
        #expect(throws: ConvolutionError.tensor(.unsupportedRank(shape: [1]))) { try conv.cost(forInput: [1]) }
    }

    @Test("2-D convolution paddings, dilations, strides and kernels beyond any tensor are refused")
    func conv2d() throws {
        let largest = Tensor.maximumCount
        #expect(throws: LayerError.setting(name: "padding", value: "\(Self.huge)", expected: "every side at most \(largest)")) {
            try Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 3, padding: .symmetric(Self.huge))
        }
        #expect(throws: LayerError.setting(name: "dilation", value: "\(Self.huge)",
                                           expected: "dilation × (kernel size − 1) at most \(largest)")) {
            try Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 3, dilation: Self.huge)
        }
        #expect(throws: LayerError.setting(name: "stride", value: "\(Self.huge)", expected: "at most \(largest)")) {
            try Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 3, stride: Self.huge, padding: .same)
        }
        #expect(throws: LayerError.tensor(.invalidShape(shape: [1, 1, 1 << 32, 1 << 32]))) {
            try Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 1 << 32)
        }
        let padded = try Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 3, padding: .symmetric(1))
        #expect(throws: LayerError.tensor(.invalidShape(shape: [1, 1, Self.huge, Self.huge]))) {
            try padded.outputShape(forInput: [1, 1, Self.huge, Self.huge])
        }
    }

    @Test("upsampling and pooling sizes that overflow or would not fit in memory are refused")
    func upsampleAndPooling() throws {
        let x = try Tensor(zeros: [1, 1, 4, 4])
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, H, W] with \(Self.huge)·H and \(Self.huge)·W "
                                         + "fitting in a tensor", actual: [1, 1, 4, 4])) {
            try Upsample(scaleFactor: Self.huge)(x)
        }
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, H, W] with \(1 << 20)·H and \(1 << 20)·W "
                                         + "fitting in a tensor", actual: [1, 1, 4, 4])) {
            try Upsample(scaleFactor: 1 << 20)(x)
        }
        let tooLarge = LayerError.setting(name: "kernelSize", value: "\(Self.huge)", expected: "at most \(Tensor.maximumCount)")
        #expect(throws: tooLarge) { try MaxPool2d(kernelSize: Self.huge, padding: Self.huge / 2) }
        #expect(throws: tooLarge) { try AvgPool2d(kernelSize: Self.huge, padding: Self.huge / 2) }
        #expect(throws: LayerError.tensor(.invalidShape(shape: [1, 1, Self.huge, Self.huge]))) {
            try MaxPool2d(kernelSize: 3, padding: 1).outputShape(forInput: [1, 1, Self.huge, Self.huge])
        }
    }

    // MARK: - Training and analysis

    @Test("a batch size of Int.max trains the whole data in one step")
    func hugeBatch() throws {
        let x = PCAFixtures.correlated([1, 3, 2, 2], latent: 1, seed: 4)
        let network = try PixelNetwork(widths: [3, 3])
        var sgd = try SGD(learningRate: 0.01)
        let history = try Trainer(epochs: 1, batchSize: Self.huge, options: ExecutionOptions(threads: 1))
            .train(network, inputs: x, targets: .values(x), optimizer: &sgd)
        #expect(history.stepLosses.count == 1)
    }

    @Test("the PCA comparison checks its steps and batch size before dividing by them")
    func pcaComparison() throws {
        let x = PCAFixtures.correlated([1, 3, 2, 3], latent: 1, seed: 2)
        #expect(throws: AnalysisError.setting(name: "steps", value: "\(Self.huge)",
                                              expected: "at most \(PCAComparison.maximumSteps)")) {
            try PCAComparison(x, components: 1, steps: Self.huge)
        }
        #expect(throws: AnalysisError.setting(name: "batchSize", value: "-5", expected: "≥ 1")) {
            try PCAComparison(x, components: 1, batchSize: -5)
        }
    }

    @Test("low-rank compression refuses input sizes whose multiply-adds overflow")
    func lowRankSizes() throws {
        let model = try EfficientNetLiteStructureTests.model.get()
        for (height, width) in [(Self.huge, 224), (1 << 31, 1 << 31), (0, 224)] {
            let error = AnalysisError.setting(name: "height, width", value: "\(height), \(width)",
                                              expected: "≥ 1 each, and a picture [1, 3, H, W] no larger than a tensor can be")
            #expect(throws: error) { try model.lowRankFactorizations(height: height, width: width) }
            #expect(throws: error) { try model.compressed(pointwiseBudget: 0.5, height: height, width: width) }
        }
    }

    // MARK: - Files

    @Test("a checkpoint naming a block far outside the configuration is refused, the key named")
    func absurdBlockIndex() {
        var weights = EfficientNetLiteStructureTests.checkpoint
        weights["_blocks.9223372036854775807.x"] = RawArray(shape: [1], floats: [0])
        weights["_blocks.-9223372036854775808.x"] = RawArray(shape: [1], floats: [0])
        #expect(throws: ModelError.architecture(
            file: "w", reason: "tensor '_blocks.-9223372036854775808.x' belongs to no block: EfficientNet-Lite0's "
                + "configuration has blocks 0–15")) {
            try EfficientNetLite(weights: weights, name: "w")
        }
    }

    @Test("streaming refuses an empty .npy whose other sizes overflow, and merging a part that claims such a shape")
    func hostileStreamingFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pointwise-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("x.npy")
        try NPY.write(NPYArray(shape: [0, 3, 1 << 40, 1 << 40], values: []), to: input)
        let conv = try Conv1x1(inputChannels: 3, outputChannels: 2)
        let output = directory.appendingPathComponent("y.npy").path
        #expect(throws: StreamingError.shape(path: input.path, problem: "has sizes [0, 3, \(1 << 40), \(1 << 40)] "
                                             + "whose product is more than an Int counts")) {
            try conv.stream(input: input.path, output: output)
        }
        for imagePixels in ["0", "1"] {
            let part = directory.appendingPathComponent("part\(imagePixels).safetensors").path
            let metadata = ["pointwise.shard": "0/1", "pointwise.job": "j", "pointwise.output_shape": "4294967296,4294967296,4294967296",
                            "pointwise.output_dtype": "F32", "pointwise.channels": "1", "pointwise.channels_last": "false",
                            "pointwise.image_pixels": imagePixels, "pointwise.first_pixel": "0", "pointwise.pixel_count": "0"]
            try SafeTensors.write([(name: "output", array: RawArray(shape: [1, 0], floats: []))], metadata: metadata, to: part)
            #expect(throws: StreamingError.part(path: part, problem: "metadata describes an impossible part")) {
                try ShardMerge.merge(parts: [part], to: output)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    // MARK: - Pictures and benchmarks

    @Test("a feature grid that would exceed the largest picture is an error, not a trap")
    func hugeFeatureGrid() throws {
        let x = try Tensor(zeros: [1, 1, 1, 1])
        #expect(throws: PictureError.tooLarge(channels: 60_000, height: 1, width: 1)) {
            try FeatureGrid.render(x, channels: Array(repeating: 0, count: 60_000), title: "t")
        }
        #expect(!Canvas.fits(width: Self.huge, height: 2) && Canvas.fits(width: 1 << 14, height: 1 << 14))
    }

    @Test("benchmark shapes too large to allocate are refused when parsed; their flops are still numbers")
    func hugeBenchmarkShape() throws {
        let shape = BenchmarkShape(name: "huge", n: 1, cin: 1, cout: 1, h: 1 << 32, w: 1 << 32)
        #expect(throws: BenchmarkError.tooLarge("huge")) { try shape.validate() }
        #expect(shape.flops == 2 * 0x1p64 && shape.bytes > 0 && !shape.isComputeBound)
        let json = Data(#"{"shapes": [{"name": "huge", "n": 1, "cin": 1, "cout": 1, "h": 4294967296, "w": 4294967296}]}"#.utf8)
        #expect(throws: BenchmarkError.tooLarge("huge")) { try BenchmarkSuite(json: json) }
        var random = SplitMix64(seed: 1)
        #expect(throws: TensorError.invalidShape(shape: [1, 1, 1 << 32, 1 << 32])) {
            try Benchmark.randomTensor([1, 1, 1 << 32, 1 << 32], using: &random)
        }
    }
}
