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
    ///   - height: the input size the multiply-adds are counted for, ≥ 1.
    ///   - width: likewise; an input `[1, 3, height, width]` must be a valid tensor.
    /// - Throws: `AnalysisError.setting` for a size or budget out of range, or a budget no ranks can meet.
    public func compressed(pointwiseBudget: Double, height: Int = 224, width: Int = 224)
        throws(AnalysisError) -> (model: EfficientNetLite, report: LowRankReport) {
        try lowRankFactorizations(height: height, width: width).compressed(pointwiseBudget: pointwiseBudget)
    }

    /// The factorizations of every pointwise layer, computed once, from which
    /// `compressed(pointwiseBudget:)` builds models for any number of budgets.
    ///
    /// Without calibration data each layer's weight is factored by its own SVD (data-free). With
    /// `calibration` pictures, each layer is factored by PCA of the activations it actually sees
    /// (data-aware): the principal components of its input when Cin ≤ Cout — `x ≈ μ + V·Vᵀ(x − μ)`,
    /// so `reduce = Vᵀ(x − μ)`, `restore = W·V·t + b + W·μ` — and of its output `z = W·x` otherwise —
    /// `reduce = Uᵀ(W·x − μ_z)`, `restore = U·t + b + μ_z`. The ranks then follow the variance of
    /// the activations instead of the weights' own energy.
    /// - Parameters:
    ///   - height: the input size the multiply-adds are counted for, ≥ 1.
    ///   - width: likewise; an input `[1, 3, height, width]` must be a valid tensor.
    ///   - calibration: preprocessed `[N, 3, H, W]` pictures whose activations the PCA is fitted on.
    ///   - options: threads for the calibration passes.
    /// - Throws: `AnalysisError` for a size out of range, a layer that cannot be factored (grouped or
    ///   strided), or calibration data the model cannot run.
    public func lowRankFactorizations(
        height: Int = 224, width: Int = 224, calibration: [Tensor] = [], options: ExecutionOptions = ExecutionOptions()
    ) throws(AnalysisError) -> LowRankFactorizations {
        // Every pointwise layer with the pixels it runs on.
        // The multiply-adds are products of channels and pixels: a picture's size bounds them.
        guard height >= 1, width >= 1, (try? Tensor.validatedCount(of: [1, 3, height, width])) != nil else {
            throw .setting(name: "height, width", value: "\(height), \(width)",
                           expected: "≥ 1 each, and a picture [1, 3, H, W] no larger than a tensor can be")
        }
        var layers: [(name: String, conv: Conv1x1, pixels: Int)] = []  // every pointwise layer and its pixels
        var size = ((height + 1) / 2, (width + 1) / 2)
        for (index, block) in blocks.enumerated() {
            if let expand = block.expand { layers.append(("blocks.\(index).expand", expand, size.0 * size.1)) }
            let s = block.depthwise.stride
            size = ((size.0 - 1) / s + 1, (size.1 - 1) / s + 1)
            layers.append(("blocks.\(index).project", block.project, size.0 * size.1))
        }
        layers.append(("head", head, size.0 * size.1))
        guard !calibration.isEmpty else {
            let factorings = try layers.map { layer throws(AnalysisError) in
                LayerFactoring.weights(try LowRankConv1x1.decompose(layer.conv))
            }
            return LowRankFactorizations(model: self, layers: layers, factorings: factorings)
        }
        var statistics = try layers.map { layer throws(AnalysisError) in try ChannelStatistics(channels: layer.conv.inputChannels) }
        for picture in calibration {
            var index = 0, failure: AnalysisError? = nil
            do throws(LayerError) {
                try observePointwiseInputs(picture, options: options) { x in
                    do throws(AnalysisError) { try statistics[index].add(x) } catch { failure = failure ?? error }
                    index += 1
                }
            } catch { throw .setting(name: "calibration", value: "\(picture.shape)", expected: error.description) }
            if let failure { throw failure }
        }
        let factorings = try zip(layers, statistics).map { layer, statistics throws(AnalysisError) in
            try LayerFactoring.activations(of: layer.conv, statistics: statistics)
        }
        return LowRankFactorizations(model: self, layers: layers, factorings: factorings)
    }
}

/// How one layer is factored: by its weight's SVD, or by PCA of its input or output activations.
enum LayerFactoring: Sendable {
    case weights(SingularValueDecomposition)
    /// Principal components (rows of `vectors`, `values` descending) of the input, and its mean.
    case inputs(mean: [Double], vectors: [Double], values: [Double])
    /// Principal components of the output `z = W·x`, and its mean `W·μ`.
    case outputs(mean: [Double], vectors: [Double], values: [Double])

    /// The factoring of `conv` from the statistics of its inputs, on its narrower side.
    static func activations(of conv: Conv1x1, statistics: ChannelStatistics) throws(AnalysisError) -> LayerFactoring {
        let (cin, cout) = (conv.inputChannels, conv.outputChannels)
        let covariance = try statistics.covariance(), mean = statistics.mean
        guard cout < cin else {
            let eigen = SymmetricEigen(symmetric: covariance, size: cin)
            return .inputs(mean: mean, vectors: eigen.vectors, values: eigen.values)
        }
        // Cov(z) = W·C·Wᵀ, mean(z) = W·μ.
        let w = conv.weight.scalars.map(Double.init)
        var wc = [Double](repeating: 0, count: cout * cin)
        for o in 0..<cout {
            for j in 0..<cin {
                var sum = 0.0
                for i in 0..<cin { sum += w[o * cin + i] * covariance[i * cin + j] }
                wc[o * cin + j] = sum
            }
        }
        var outputCovariance = [Double](repeating: 0, count: cout * cout)
        for a in 0..<cout {
            for b in 0..<cout {
                var sum = 0.0
                for j in 0..<cin { sum += wc[a * cin + j] * w[b * cin + j] }
                outputCovariance[a * cout + b] = sum
            }
        }
        let outputMean = (0..<cout).map { o in (0..<cin).reduce(0.0) { $0 + w[o * cin + $1] * mean[$1] } }
        let eigen = SymmetricEigen(symmetric: outputCovariance, size: cout)
        return .outputs(mean: outputMean, vectors: eigen.vectors, values: eigen.values)
    }

    /// Square roots of the energies ranks are chosen by (`LowRankConv1x1.rank(keeping:of:)` squares them).
    var spectrum: [Double] {
        switch self {
        case .weights(let d): d.singular
        case .inputs(_, _, let values), .outputs(_, _, let values): values.map { max($0, 0).squareRoot() }
        }
    }

    /// The pair `Cin → rank → Cout` replacing `conv`.
    func pair(for conv: Conv1x1, rank r: Int) throws(AnalysisError) -> LowRankConv1x1 {
        let (cin, cout) = (conv.inputChannels, conv.outputChannels)
        let w = conv.weight.scalars.map(Double.init), bias = (conv.bias ?? Array(repeating: 0, count: cout)).map(Double.init)
        switch self {
        case .weights(let d):
            return try LowRankConv1x1(conv, decomposition: d, rank: r)
        case .inputs(let mean, let v, _):
            // reduce = V_r (x − μ); restore = W V_rᵀ t + b + W μ.
            let reduce = (0..<r * cin).map { v[$0] }
            let reduceBias = (0..<r).map { k in -(0..<cin).reduce(0.0) { $0 + v[k * cin + $1] * mean[$1] } }
            var restore = [Double](repeating: 0, count: cout * r)
            for o in 0..<cout {
                for k in 0..<r { restore[o * r + k] = (0..<cin).reduce(0.0) { $0 + w[o * cin + $1] * v[k * cin + $1] } }
            }
            let restoreBias = (0..<cout).map { o in bias[o] + (0..<cin).reduce(0.0) { $0 + w[o * cin + $1] * mean[$1] } }
            return try LowRankConv1x1(reduce: reduce, reduceBias: reduceBias, restore: restore, restoreBias: restoreBias,
                                      rank: r, like: conv, spectrum: spectrum)
        case .outputs(let mean, let u, _):
            // reduce = U_r (W x − μ_z); restore = U_rᵀ t + b + μ_z.
            var reduce = [Double](repeating: 0, count: r * cin)
            for k in 0..<r {
                for i in 0..<cin { reduce[k * cin + i] = (0..<cout).reduce(0.0) { $0 + u[k * cout + $1] * w[$1 * cin + i] } }
            }
            let reduceBias = (0..<r).map { k in -(0..<cout).reduce(0.0) { $0 + u[k * cout + $1] * mean[$1] } }
            let restore = (0..<cout * r).map { u[($0 % r) * cout + $0 / r] }
            let restoreBias = (0..<cout).map { bias[$0] + mean[$0] }
            return try LowRankConv1x1(reduce: reduce, reduceBias: reduceBias, restore: restore, restoreBias: restoreBias,
                                      rank: r, like: conv, spectrum: spectrum)
        }
    }
}

/// The factorizations of a model's pointwise layers (`lowRankFactorizations()`).
public struct LowRankFactorizations: Sendable {
    let model: EfficientNetLite
    let layers: [(name: String, conv: Conv1x1, pixels: Int)]
    let factorings: [LayerFactoring]

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
            let ranks = zip(layers, factorings).map { layer, factoring -> Int? in
                let (cin, cout) = (layer.conv.inputChannels, layer.conv.outputChannels)
                // Energy 1 keeps every direction, also those the calibration pictures never vary along
                // (dead channels, a rank-deficient covariance): other pictures do, so budget 1 is the model itself.
                let r = energy >= 1 ? min(cin, cout) : LowRankConv1x1.rank(keeping: energy, of: factoring.spectrum)
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
        for ((layer, factoring), rank) in zip(zip(layers, factorings), ranks) {
            factors.append(try rank.map { r throws(AnalysisError) in try factoring.pair(for: layer.conv, rank: r) })
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
