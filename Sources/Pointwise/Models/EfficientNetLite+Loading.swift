// Building EfficientNet-Lite from a checkpoint's own key names (lukemelas/EfficientNet-PyTorch):
//   _conv_stem, _bn0                                         stem
//   _blocks.{i}._expand_conv, _bn0 (absent when t = 1)       expansion
//   _blocks.{i}._depthwise_conv, _bn1                        depthwise
//   _blocks.{i}._project_conv, _bn2                          projection
//   _conv_head, _bn1, _fc                                    head and classifier
// Channels and kernel sizes come from the tensors' shapes; strides, which no tensor records,
// from the configuration's stage table, which the checkpoint is checked against.

extension EfficientNetLite {
    /// The part of the architecture that the weights do not record.
    public struct Configuration: Sendable, Equatable {
        /// One stage of repeated blocks: the first block has `stride`, the others stride 1.
        public struct Stage: Sendable, Equatable {
            /// Blocks in the stage.
            public let repeats: Int
            /// The depthwise kernel size.
            public let kernelSize: Int
            /// The first block's stride.
            public let stride: Int
            /// The stage's output channels.
            public let outputChannels: Int
        }

        /// The stages, in order.
        public let stages: [Stage]
        /// Batch norm's epsilon (1e-3, TensorFlow's default, in every EfficientNet-Lite).
        public let eps: Float

        /// EfficientNet-Lite0: (repeats, kernel, stride, channels) = (1,3,1,16) (2,3,2,24)
        /// (2,5,2,40) (3,3,2,80) (3,5,1,112) (4,5,2,192) (1,3,1,320).
        public static let lite0 = Configuration(
            stages: [(1, 3, 1, 16), (2, 3, 2, 24), (2, 5, 2, 40), (3, 3, 2, 80), (3, 5, 1, 112),
                     (4, 5, 2, 192), (1, 3, 1, 320)]
                .map { Stage(repeats: $0.0, kernelSize: $0.1, stride: $0.2, outputChannels: $0.3) },
            eps: 1e-3)

        /// Each block's (kernel size, stride, output channels), in order.
        var blocks: [(kernelSize: Int, stride: Int, outputChannels: Int)] {
            stages.flatMap { stage in
                (0..<stage.repeats).map { (stage.kernelSize, $0 == 0 ? stage.stride : 1, stage.outputChannels) }
            }
        }
    }

    /// Builds the model from a checkpoint's tensors, folding every batch norm into its convolution.
    ///
    /// The tensors keep the checkpoint's PyTorch names (`_blocks.3._depthwise_conv.weight`, …);
    /// any floating-point type is accepted. Every tensor must be used: a file with tensors the
    /// model has no place for is rejected, like PyTorch's `load_state_dict(strict=True)`.
    /// - Parameters:
    ///   - weights: name → array, e.g. `SafeTensorsFile.dictionary` or an imported checkpoint.
    ///   - name: the file the weights came from, for error messages.
    ///   - configuration: the stage table (strides); `.lite0` by default.
    /// - Throws: `ModelError` naming the file and the missing, misshapen or extra tensor.
    public init(weights: [String: RawArray], name: String, configuration: Configuration = .lite0) throws(ModelError) {
        var reader = WeightReader(arrays: weights, file: name)
        let eps = configuration.eps
        let file = name
        func wrap<T>(_ body: () throws(LayerError) -> T) throws(ModelError) -> T {
            do { return try body() } catch { throw .layer(file: file, error: error) }
        }

        // Stem: [32, 3, 3, 3] stride 2.
        guard let stemShape = reader.shape(of: "_conv_stem.weight") else {
            throw .missingWeight(file: name, key: "_conv_stem.weight", expected: [32, 3, 3, 3])
        }
        guard stemShape.count == 4, stemShape[1] == 3, stemShape[2] == stemShape[3], stemShape[0] >= 1 else {
            throw .weightShape(file: name, key: "_conv_stem.weight", expected: [32, 3, 3, 3], actual: stemShape)
        }
        let stemWeight = try reader.tensor("_conv_stem.weight", shape: stemShape)
        let stemNorm = try reader.batchNorm("_bn0", channels: stemShape[0], eps: eps)
        stem = try wrap { () throws(LayerError) in
            var conv = try stemNorm.folded(into: Conv2d(weight: stemWeight, stride: 2, padding: .same))
            conv.activation = .relu6
            return conv
        }

        // Blocks.
        let plan = configuration.blocks
        // A key can name any block number: one outside the configuration is named as it is.
        if let key = weights.keys.sorted().first(where: { key in
            Self.blockIndex(of: key).map { !(0..<plan.count).contains($0) } ?? false
        }) {
            throw .architecture(file: name, reason: "tensor '\(key)' belongs to no block: EfficientNet-Lite0's "
                                + "configuration has blocks 0–\(plan.count - 1)")
        }
        let found = Set(weights.keys.compactMap { Self.blockIndex(of: $0) })
        guard found == Set(0..<plan.count) else {
            throw .architecture(file: name, reason: "the checkpoint has blocks \(Self.ranges(found)); "
                                + "EfficientNet-Lite0's configuration has blocks 0–\(plan.count - 1)")
        }
        var channels = stemShape[0]
        var blocks: [Block] = []
        for (index, step) in plan.enumerated() {
            let block = try Self.block(index, step: step, inputChannels: channels, eps: eps, reader: &reader)
            blocks.append(block)
            channels = step.outputChannels
        }
        self.blocks = blocks

        // Head and classifier.
        guard let headShape = reader.shape(of: "_conv_head.weight"), headShape.count == 4,
              headShape[1] == channels, headShape[2] == 1, headShape[3] == 1 else {
            throw .weightShape(file: name, key: "_conv_head.weight", expected: [1280, channels, 1, 1],
                               actual: reader.shape(of: "_conv_head.weight") ?? [])
        }
        let headWeight = try reader.tensor("_conv_head.weight", shape: headShape)
        let headNorm = try reader.batchNorm("_bn1", channels: headShape[0], eps: eps)
        head = try wrap { () throws(LayerError) in
            var conv = try headNorm.folded(into: try convolving { () throws(ConvolutionError) in
                try Conv1x1(weight: headWeight, bias: nil)
            })
            conv.activation = .relu6
            return conv
        }
        guard let classifierShape = reader.shape(of: "_fc.weight"), classifierShape.count == 2,
              classifierShape[1] == headShape[0] else {
            throw .weightShape(file: name, key: "_fc.weight", expected: [1000, headShape[0]],
                               actual: reader.shape(of: "_fc.weight") ?? [])
        }
        let classifierWeight = try reader.tensor("_fc.weight", shape: classifierShape)
        let classifierBias = try reader.floats("_fc.bias", shape: [classifierShape[0]])
        classifier = try wrap { () throws(LayerError) in
            try convolving { () throws(ConvolutionError) in try Conv1x1(weight: classifierWeight, bias: classifierBias) }
        }
        try reader.checkAllUsed()
    }

    /// Block `index`: the expansion (when the checkpoint has one), depthwise and projection.
    private static func block(
        _ index: Int, step: (kernelSize: Int, stride: Int, outputChannels: Int), inputChannels: Int, eps: Float,
        reader: inout WeightReader
    ) throws(ModelError) -> Block {
        let prefix = "_blocks.\(index)"
        let file = reader.file
        func wrap<T>(_ body: () throws(LayerError) -> T) throws(ModelError) -> T {
            do { return try body() } catch { throw .layer(file: file, error: error) }
        }
        var hiddenChannels = inputChannels
        var expand: Conv1x1? = nil
        if reader.contains("\(prefix)._expand_conv.weight") {
            hiddenChannels = reader.shape(of: "\(prefix)._expand_conv.weight")?.first ?? 0
            guard hiddenChannels >= 1 else {
                throw .weightShape(file: file, key: "\(prefix)._expand_conv.weight",
                                   expected: [6 * inputChannels, inputChannels, 1, 1],
                                   actual: reader.shape(of: "\(prefix)._expand_conv.weight") ?? [])
            }
            let weight = try reader.tensor("\(prefix)._expand_conv.weight", shape: [hiddenChannels, inputChannels, 1, 1])
            let norm = try reader.batchNorm("\(prefix)._bn0", channels: hiddenChannels, eps: eps)
            expand = try wrap { () throws(LayerError) in
                var conv = try norm.folded(into: try convolving { () throws(ConvolutionError) in try Conv1x1(weight: weight) })
                conv.activation = .relu6
                return conv
            }
        }
        let k = step.kernelSize
        let depthwiseWeight = try reader.tensor("\(prefix)._depthwise_conv.weight", shape: [hiddenChannels, 1, k, k])
        let depthwiseNorm = try reader.batchNorm("\(prefix)._bn1", channels: hiddenChannels, eps: eps)
        let depthwise = try wrap { () throws(LayerError) in
            var conv = try depthwiseNorm.folded(
                into: Conv2d(weight: depthwiseWeight, stride: step.stride, padding: .same, groups: hiddenChannels))
            conv.activation = .relu6
            return conv
        }
        let projectWeight = try reader.tensor(
            "\(prefix)._project_conv.weight", shape: [step.outputChannels, hiddenChannels, 1, 1])
        let projectNorm = try reader.batchNorm("\(prefix)._bn2", channels: step.outputChannels, eps: eps)
        let project = try wrap { () throws(LayerError) in
            try projectNorm.folded(into: try convolving { () throws(ConvolutionError) in try Conv1x1(weight: projectWeight) })
        }
        return Block(expand: expand, depthwise: depthwise, project: project,
                     hasResidual: step.stride == 1 && inputChannels == step.outputChannels)
    }

    /// The block number in a key `_blocks.{i}.…`, or nil.
    private static func blockIndex(of key: String) -> Int? {
        guard key.hasPrefix("_blocks.") else { return nil }
        return Int(key.dropFirst("_blocks.".count).prefix { $0 != "." })
    }

    /// "0–15" style summary of a set of block numbers.
    private static func ranges(_ indices: Set<Int>) -> String {
        guard let low = indices.min(), let high = indices.max() else { return "none" }
        return indices.count == high - low + 1 ? "\(low)–\(high)" : indices.sorted().map(String.init).joined(separator: ", ")
    }
}
