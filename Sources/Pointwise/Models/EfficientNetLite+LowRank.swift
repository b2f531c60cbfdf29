// Low-rank compression of EfficientNet-Lite's 1×1 convolutions: every expansion, projection and
// the head factored by truncated SVD to meet a budget of pointwise multiply-adds.

extension EfficientNetLite {
    /// What `compressed(pointwiseBudget:)` did.
    public struct LowRankReport: Sendable {
        /// The requested fraction of the pointwise multiply-adds.
        public var budget: Double
        /// The fraction of each layer's Σσ² that the chosen ranks keep (one threshold for all layers).
        public var energy: Double
        /// Pointwise multiply-adds of one 224×224 image before and after.
        public var originalMultiplyAdds: Int, compressedMultiplyAdds: Int
        /// Each pointwise layer: its name, shape and the rank kept (nil: left whole, as factoring
        /// would not save anything at the chosen energy).
        public var layers: [(name: String, inputs: Int, outputs: Int, rank: Int?)]
    }

    /// This model with its 1×1 convolutions (block expansions and projections, and the head)
    /// replaced by low-rank pairs `Cin → r → Cout` so that the pointwise multiply-adds are at most
    /// `pointwiseBudget` of the original. One energy threshold serves all layers: each keeps the
    /// fewest singular values that hold that fraction of its Σσ², and the threshold is the
    /// largest that meets the budget (found by bisection). A layer is factored only where the pair
    /// is cheaper than the original.
    /// - Parameters:
    ///   - pointwiseBudget: in (0, 1]; 1 returns an equivalent model.
    ///   - height: the input size the multiply-adds are counted for.
    ///   - width: likewise.
    /// - Throws: `AnalysisError.setting` for a budget out of range, or one no ranks can meet.
    public func compressed(pointwiseBudget: Double, height: Int = 224, width: Int = 224)
        throws(AnalysisError) -> (model: EfficientNetLite, report: LowRankReport) {
        try lowRankFactorizations(height: height, width: width).compressed(pointwiseBudget: pointwiseBudget)
    }

    /// The SVD of every pointwise layer, computed once, from which `compressed(pointwiseBudget:)`
    /// builds models for any number of budgets.
    /// - Parameters:
    ///   - height: the input size the multiply-adds are counted for.
    ///   - width: likewise.
    /// - Throws: `AnalysisError` for a layer that cannot be factored (grouped or strided).
    public func lowRankFactorizations(height: Int = 224, width: Int = 224) throws(AnalysisError) -> LowRankFactorizations {
        // Every pointwise layer with the pixels it runs on.
        var layers: [(name: String, conv: Conv1x1, pixels: Int)] = []  // every pointwise layer and its pixels
        var size = ((height + 1) / 2, (width + 1) / 2)
        for (index, block) in blocks.enumerated() {
            if let expand = block.expand { layers.append(("blocks.\(index).expand", expand, size.0 * size.1)) }
            let s = block.depthwise.stride
            size = ((size.0 - 1) / s + 1, (size.1 - 1) / s + 1)
            layers.append(("blocks.\(index).project", block.project, size.0 * size.1))
        }
        layers.append(("head", head, size.0 * size.1))
        let decompositions = try layers.map { layer throws(AnalysisError) in try LowRankConv1x1.decompose(layer.conv) }
        return LowRankFactorizations(model: self, layers: layers, decompositions: decompositions)
    }
}

/// The singular value decompositions of a model's pointwise layers (`lowRankFactorizations()`).
public struct LowRankFactorizations: Sendable {
    let model: EfficientNetLite
    let layers: [(name: String, conv: Conv1x1, pixels: Int)]
    let decompositions: [SingularValueDecomposition]

    /// The model compressed to `pointwiseBudget` of its pointwise multiply-adds; see
    /// `EfficientNetLite.compressed(pointwiseBudget:)`.
    /// - Throws: `AnalysisError.setting` for a budget out of range, or one no ranks can meet.
    public func compressed(pointwiseBudget: Double) throws(AnalysisError)
        -> (model: EfficientNetLite, report: EfficientNetLite.LowRankReport) {
        guard pointwiseBudget > 0, pointwiseBudget <= 1 else {
            throw .setting(name: "pointwise budget", value: "\(pointwiseBudget)", expected: "in (0, 1]")
        }
        let original = layers.reduce(0) { $0 + $1.conv.inputChannels * $1.conv.outputChannels * $1.pixels }
        func plan(_ energy: Double) -> (ranks: [Int?], multiplyAdds: Int) {
            var total = 0
            let ranks = zip(layers, decompositions).map { layer, d -> Int? in
                let (cin, cout) = (layer.conv.inputChannels, layer.conv.outputChannels)
                let r = LowRankConv1x1.rank(keeping: energy, of: d.singular)
                let factored = r * (cin + cout) < cin * cout
                total += (factored ? r * (cin + cout) : cin * cout) * layer.pixels
                return factored ? r : nil
            }
            return (ranks, total)
        }
        var (low, high) = (0.0, 1.0)
        if Double(plan(1).multiplyAdds) <= pointwiseBudget * Double(original) {
            low = 1
        } else {
            for _ in 0..<50 {
                let middle = (low + high) / 2
                if Double(plan(middle).multiplyAdds) <= pointwiseBudget * Double(original) { low = middle } else { high = middle }
            }
        }
        let (ranks, compressedMultiplyAdds) = plan(low)
        guard Double(compressedMultiplyAdds) <= pointwiseBudget * Double(original) else {
            throw .setting(name: "pointwise budget", value: "\(pointwiseBudget)", expected: "a budget rank-1 layers can meet")
        }
        var model = self.model
        var factors: [LowRankConv1x1?] = []
        for ((layer, d), rank) in zip(zip(layers, decompositions), ranks) {
            factors.append(try rank.map { r throws(AnalysisError) in try LowRankConv1x1(layer.conv, decomposition: d, rank: r) })
        }
        var next = 0
        func take(_ conv: Conv1x1) -> (factor: Conv1x1?, conv: Conv1x1) {
            defer { next += 1 }
            return factors[next].map { ($0.reduce, $0.restore) } ?? (nil, conv)
        }
        model.blocks = model.blocks.map { block in
            var (expandFactor, expand): (Conv1x1?, Conv1x1?) = (nil, nil)
            if let original = block.expand { (expandFactor, expand) = take(original) }
            let (projectFactor, project) = take(block.project)
            var compressed = EfficientNetLite.Block(expand: expand, depthwise: block.depthwise, project: project, hasResidual: block.hasResidual)
            (compressed.expandFactor, compressed.projectFactor) = (expandFactor, projectFactor)
            return compressed
        }
        (model.headFactor, model.head) = take(model.head)
        let report = EfficientNetLite.LowRankReport(
            budget: pointwiseBudget, energy: low, originalMultiplyAdds: original, compressedMultiplyAdds: compressedMultiplyAdds,
            layers: zip(layers, ranks).map { ($0.name, $0.conv.inputChannels, $0.conv.outputChannels, $1) })
        return (model, report)
    }
}
