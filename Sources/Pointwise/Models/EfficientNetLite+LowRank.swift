// Low-rank compression of EfficientNet-Lite's 1×1 convolutions: every expansion, projection and
// the head factored by truncated SVD, or by PCA of its outputs on calibration pictures, to meet a
// budget of pointwise multiply-adds.

import Foundation

extension EfficientNetLite {
    /// What `compressed(pointwiseBudget:)` did.
    public struct LowRankReport: Sendable {
        /// The requested fraction of the pointwise multiply-adds.
        public var budget: Double
        /// The smallest fraction of its Σσ² that any layer keeps (1 for a layer left whole).
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

    /// The factorizations of every pointwise layer, computed once, from which
    /// `compressed(pointwiseBudget:)` builds models for any number of budgets.
    ///
    /// Without calibration data each layer's weight is factored by its own SVD (data-free). With
    /// `calibration` pictures, each layer is factored by PCA of the outputs it actually computes,
    /// `z = W·x` before bias and activation (data-aware; Zhang et al. 2016's linear case):
    /// `reduce = Uᵀ(W·x − μ_z)`, `restore = U·t + b + μ_z`, the rank-r pair with the least mean
    /// squared error in z on the calibration activations. The ranks then follow the variance of
    /// the activations instead of the weights' own energy.
    /// - Parameters:
    ///   - height: the input size the multiply-adds are counted for.
    ///   - width: likewise.
    ///   - calibration: preprocessed `[N, 3, H, W]` pictures whose activations the PCA is fitted on.
    ///   - options: threads for the calibration passes.
    /// - Throws: `AnalysisError` for a layer that cannot be factored (grouped or strided), or
    ///   calibration data the model cannot run.
    public func lowRankFactorizations(
        height: Int = 224, width: Int = 224, calibration: [Tensor] = [], options: ExecutionOptions = ExecutionOptions()
    ) throws(AnalysisError) -> LowRankFactorizations {
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
        guard !calibration.isEmpty else {
            let factorings = try layers.map { layer throws(AnalysisError) in
                LayerFactoring.weights(try LowRankConv1x1.decompose(layer.conv))
            }
            return LowRankFactorizations(model: self, layers: layers, factorings: factorings, calibration: calibration,
                                         options: options)
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
        return LowRankFactorizations(model: self, layers: layers, factorings: factorings, calibration: calibration,
                                         options: options)
    }
}

/// How one layer is factored: by its weight's SVD, or by PCA of its output activations.
enum LayerFactoring: Sendable {
    case weights(SingularValueDecomposition)
    /// Principal components (rows of length Cout, `values` descending) of the layer's output
    /// `z = W·x` as predicted from its (possibly approximated) inputs x̂ by `map` `[Cout, Cin]`:
    /// ẑ = mean + map·(x̂ − inputMean). Without approximated inputs, `map` is W and `mean` W·μ.
    case outputs(mean: [Double], vectors: [Double], values: [Double], map: [Double], inputMean: [Double])

    /// The factoring of `conv` from the statistics of its inputs: the principal components of its
    /// output `z = W·x` (before bias and activation), which make the rank-r pair the one with the
    /// least mean squared error in z on these inputs.
    static func activations(of conv: Conv1x1, statistics: ChannelStatistics) throws(AnalysisError) -> LayerFactoring {
        let (cin, cout) = (conv.inputChannels, conv.outputChannels)
        let covariance = try statistics.covariance()
        let w = conv.weight.scalars.map(Double.init)
        let outputMean = Matrix.product(w, statistics.mean, rows: cout, inner: cin, columns: 1)
        guard cout > cin else {
            // Cov(z) = W·C·Wᵀ.
            let wc = Matrix.product(w, covariance, rows: cout, inner: cin, columns: cin)
            let eigen = SymmetricEigen(symmetric: Matrix.product(wc, w, rows: cout, inner: cin, columns: cout, transposingB: true),
                                       size: cout)
            return .outputs(mean: outputMean, vectors: eigen.vectors, values: eigen.values, map: w, inputMean: statistics.mean)
        }
        // Cov(z) = (W·S)(W·S)ᵀ with S = C^½.
        let root = SymmetricEigen(symmetric: covariance, size: cin).power(0.5)
        let (vectors, values) = principalColumns(Matrix.product(w, root, rows: cout, inner: cin, columns: cin),
                                                 rows: cout, columns: cin)
        return .outputs(mean: outputMean, vectors: vectors, values: values, map: w, inputMean: statistics.mean)
    }

    /// The factoring of `conv` that predicts its output on the original inputs x from the inputs
    /// x̂ it receives once the layers before it are approximated — Zhang et al.'s asymmetric
    /// reconstruction: the rank-r linear map with the least mean squared error E‖W·x − ẑ(x̂)‖²,
    /// by reduced-rank regression. The regressor is x̂ itself when Cin < Cout, else W·x̂, so that
    /// it has min(Cin, Cout) dimensions.
    /// - Parameter joint: statistics of the stacked input `[x; x̂]` (2·Cin channels).
    static func compensating(of conv: Conv1x1, joint: ChannelStatistics) throws(AnalysisError) -> LayerFactoring {
        let (cin, cout) = (conv.inputChannels, conv.outputChannels)
        let covariance = try joint.covariance(), n = 2 * cin
        let w = conv.weight.scalars.map(Double.init)
        // Blocks of the joint covariance: C(x, x̂) and C(x̂, x̂).
        let cross = (0..<cin * cin).map { covariance[($0 / cin) * n + cin + $0 % cin] }
        let inputs = (0..<cin * cin).map { covariance[(cin + $0 / cin) * n + cin + $0 % cin] }
        let mean = Array(joint.mean[0..<cin]), inputMean = Array(joint.mean[cin...])
        // The regressor y = A·x̂: C(y, y) = A·C(x̂, x̂)·Aᵀ and C(z, y) = W·C(x, x̂)·Aᵀ.
        let (k, regressorCovariance, outputCross): (Int, [Double], [Double])
        if cout > cin {
            (k, regressorCovariance, outputCross) = (cin, inputs, Matrix.product(w, cross, rows: cout, inner: cin, columns: cin))
        } else {
            let wi = Matrix.product(w, inputs, rows: cout, inner: cin, columns: cin)
            let wc = Matrix.product(w, cross, rows: cout, inner: cin, columns: cin)
            (k, regressorCovariance, outputCross) = (cout, Matrix.product(wi, w, rows: cout, inner: cin, columns: cout, transposingB: true),
                                                    Matrix.product(wc, w, rows: cout, inner: cin, columns: cout, transposingB: true))
        }
        // The least-squares fit C(z, y)·C(y, y)⁺·y has covariance G·Gᵀ with G = C(z, y)·C(y, y)^(−½);
        // the best rank r keeps its top r principal components.
        let inverseRoot = SymmetricEigen(symmetric: regressorCovariance, size: k).power(-0.5)
        let g = Matrix.product(outputCross, inverseRoot, rows: cout, inner: k, columns: k)
        let (vectors, values) = principalColumns(g, rows: cout, columns: k)
        // map = C(z, y)·C(y, y)⁺·A = G·C(y, y)^(−½)·A.
        let regression = Matrix.product(g, inverseRoot, rows: cout, inner: k, columns: k)
        let map = cout > cin ? regression : Matrix.product(regression, w, rows: cout, inner: cout, columns: cin)
        return .outputs(mean: Matrix.product(w, mean, rows: cout, inner: cin, columns: 1), vectors: vectors, values: values,
                        map: map, inputMean: inputMean)
    }

    /// The eigenpairs of G·Gᵀ (`g` is `[rows, columns]`, columns ≤ rows) from the smaller GᵀG:
    /// GᵀG·e = β·e gives the unit eigenvector u = G·e / √β of G·Gᵀ, eigenvalue β. Returns the u as
    /// rows of length `rows` (zero where β = 0), and the β, descending.
    private static func principalColumns(_ g: [Double], rows: Int, columns: Int) -> (vectors: [Double], values: [Double]) {
        let gT = Matrix.transposed(g, rows: rows, columns: columns)
        let eigen = SymmetricEigen(symmetric: Matrix.product(gT, gT, rows: columns, inner: rows, columns: columns, transposingB: true),
                                   size: columns)
        var vectors = Matrix.product(eigen.vectors, g, rows: columns, inner: columns, columns: rows, transposingB: true)
        for k in 0..<columns {
            let scale = eigen.values[k] > 0 ? 1 / eigen.values[k].squareRoot() : 0
            for o in 0..<rows { vectors[k * rows + o] *= scale }
        }
        return (vectors, eigen.values)
    }

    /// Square roots of the energies ranks are chosen by (`LowRankConv1x1.rank(keeping:of:)` squares them).
    var spectrum: [Double] {
        switch self {
        case .weights(let d): d.singular
        case .outputs(_, _, let values, _, _): values.map { max($0, 0).squareRoot() }
        }
    }

    /// The pair `Cin → rank → Cout` replacing `conv`.
    func pair(for conv: Conv1x1, rank r: Int) throws(AnalysisError) -> LowRankConv1x1 {
        switch self {
        case .weights(let d):
            return try LowRankConv1x1(conv, decomposition: d, rank: r)
        case .outputs(let mean, let u, _, let map, let inputMean):
            // reduce = U_r·map·(x̂ − μ̂); restore = U_rᵀ·t + b + μ_z.
            let (cin, cout) = (conv.inputChannels, conv.outputChannels)
            let bias = (conv.bias ?? Array(repeating: 0, count: cout)).map(Double.init)
            let reduce = Matrix.product(Array(u[0..<r * cout]), map, rows: r, inner: cout, columns: cin)
            let reduceBias = Matrix.product(reduce, inputMean, rows: r, inner: cin, columns: 1).map { -$0 }
            let restore = Matrix.transposed(Array(u[0..<r * cout]), rows: r, columns: cout)
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
    /// The preprocessed calibration pictures (empty for data-free factoring) and the threads to run them.
    let calibration: [Tensor]
    let options: ExecutionOptions

    /// How `compressed(pointwiseBudget:allocation:)` shares the budget among the layers.
    public enum RankAllocation: String, Sendable, CaseIterable {
        /// One energy threshold for all layers: each keeps the fewest components that hold that
        /// fraction of its Σσ², with the largest threshold that meets the budget (bisection).
        case sameEnergy = "same-energy"
        /// Zhang et al.'s greedy rule ("Accelerating Very Deep Convolutional Networks for
        /// Classification and Detection", 2016, §3.5): maximise the product of the layers' kept
        /// energies by dropping, one component at a time, the one that loses the least
        /// log-energy per multiply-add saved, until the budget is met.
        case energyPerMultiplyAdd = "energy-per-multiply-add"
    }

    /// The model compressed to `pointwiseBudget` of its pointwise multiply-adds; see
    /// `EfficientNetLite.compressed(pointwiseBudget:)`.
    /// - Parameters:
    ///   - pointwiseBudget: in (0, 1]; 1 returns an equivalent model.
    ///   - allocation: how the ranks are chosen (from the calibration spectra, before any refitting).
    ///   - compensating: refit the factored layers one after another, in network order, each to
    ///     predict its original output from the inputs the approximated layers before it produce
    ///     (`LayerFactoring.compensating`), so that errors do not simply accumulate; needs calibration
    ///     pictures, and runs them through both models once per factored layer.
    /// - Throws: `AnalysisError.setting` for a budget out of range, or one no ranks can meet, or
    ///   `compensating` without calibration pictures.
    public func compressed(pointwiseBudget: Double, allocation: RankAllocation = .sameEnergy, compensating: Bool = false)
        throws(AnalysisError)
        -> (model: EfficientNetLite, report: EfficientNetLite.LowRankReport) {
        guard pointwiseBudget > 0, pointwiseBudget <= 1 else {
            throw .setting(name: "pointwise budget", value: "\(pointwiseBudget)", expected: "in (0, 1]")
        }
        let original = layers.reduce(0) { $0 + $1.conv.inputChannels * $1.conv.outputChannels * $1.pixels }
        let budget = pointwiseBudget * Double(original)
        // energies[l][r]: the Σσ² of layer l's first r components.
        let energies = factorings.map { factoring in
            factoring.spectrum.reduce(into: [0.0]) { $0.append($0.last! + $1 * $1) }
        }
        let ranks = allocation == .sameEnergy ? sameEnergyRanks(budget: budget) : greedyRanks(budget: budget, energies: energies)
        let compressedMultiplyAdds = multiplyAdds(ranks)
        guard Double(compressedMultiplyAdds) <= budget else {
            throw .setting(name: "pointwise budget", value: "\(pointwiseBudget)", expected: "a budget rank-1 layers can meet")
        }
        let energy = zip(ranks, energies).map { rank, energy in rank.map { energy[$0] / max(energy.last!, .leastNonzeroMagnitude) } ?? 1 }
        var factors: [LowRankConv1x1?] = []
        for ((layer, factoring), rank) in zip(zip(layers, factorings), ranks) {
            factors.append(try rank.map { r throws(AnalysisError) in try factoring.pair(for: layer.conv, rank: r) })
        }
        if compensating {
            guard !calibration.isEmpty else {
                throw .setting(name: "compensating", value: "true", expected: "calibration pictures")
            }
            // In network order, refit each factored layer to the inputs the layers before it now produce.
            for (l, layer) in layers.enumerated() {
                guard let rank = ranks[l] else { continue }
                let joint = try jointInputStatistics(layer: l, original: self.model, approximated: assembled(factors))
                factors[l] = try LayerFactoring.compensating(of: layer.conv, joint: joint).pair(for: layer.conv, rank: rank)
            }
        }
        let model = assembled(factors)
        let report = EfficientNetLite.LowRankReport(
            budget: pointwiseBudget, energy: energy.min() ?? 1, originalMultiplyAdds: original, compressedMultiplyAdds: compressedMultiplyAdds,
            layers: zip(layers, ranks).map { ($0.name, $0.conv.inputChannels, $0.conv.outputChannels, $1) })
        return (model, report)
    }

    /// The model with each layer replaced by its pair where there is one.
    private func assembled(_ factors: [LowRankConv1x1?]) -> EfficientNetLite {
        var model = self.model, next = 0
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
        return model
    }

    /// Statistics of layer `layer`'s input in both models, stacked as `[x; x̂]` (2·Cin channels),
    /// over every calibration picture.
    private func jointInputStatistics(layer: Int, original: EfficientNetLite, approximated: EfficientNetLite)
        throws(AnalysisError) -> ChannelStatistics {
        var joint = try ChannelStatistics(channels: 2 * layers[layer].conv.inputChannels)
        for picture in calibration {
            // The layer's input in one model.
            func input(_ model: EfficientNetLite) throws(AnalysisError) -> Tensor {
                var index = 0, seen: Tensor? = nil
                do throws(LayerError) {
                    try model.observePointwiseInputs(picture, options: options) { x in
                        if index == layer { seen = x }
                        index += 1
                    }
                } catch { throw .setting(name: "calibration", value: "\(picture.shape)", expected: error.description) }
                return seen!
            }
            try joint.add(stacking: try input(original), on: try input(approximated))
        }
        return joint
    }

    // MARK: - Rank allocation

    /// The pointwise multiply-adds with these ranks (nil: the layer left whole).
    private func multiplyAdds(_ ranks: [Int?]) -> Int {
        zip(layers, ranks).reduce(0) { total, item in
            let (cin, cout) = (item.0.conv.inputChannels, item.0.conv.outputChannels)
            return total + (item.1.map { $0 * (cin + cout) } ?? cin * cout) * item.0.pixels
        }
    }

    /// The rank below which a pair `Cin → r → Cout` is cheaper than the layer.
    private func largestSavingRank(_ conv: Conv1x1) -> Int {
        let (cin, cout) = (conv.inputChannels, conv.outputChannels)
        return (cin * cout - 1) / (cin + cout)
    }

    /// One energy threshold for every layer, the largest that meets the budget.
    private func sameEnergyRanks(budget: Double) -> [Int?] {
        func plan(_ energy: Double) -> [Int?] {
            zip(layers, factorings).map { layer, factoring -> Int? in
                let r = LowRankConv1x1.rank(keeping: energy, of: factoring.spectrum)
                return r <= largestSavingRank(layer.conv) ? r : nil
            }
        }
        guard Double(multiplyAdds(plan(1))) > budget else { return plan(1) }
        var (low, high) = (0.0, 1.0)
        for _ in 0..<50 {
            let middle = (low + high) / 2
            if Double(multiplyAdds(plan(middle))) <= budget { low = middle } else { high = middle }
        }
        return plan(low)
    }

    /// Zhang et al.'s greedy rule. A whole layer's first step goes straight to the largest rank
    /// that saves anything (the ranks in between cost more than the layer).
    private func greedyRanks(budget: Double, energies: [[Double]]) -> [Int?] {
        var ranks = [Int?](repeating: nil, count: layers.count)
        var total = Double(multiplyAdds(ranks))
        while total > budget {
            var best: (layer: Int, rank: Int, saving: Double, ratio: Double)? = nil
            for (l, layer) in layers.enumerated() {
                let (cin, cout) = (layer.conv.inputChannels, layer.conv.outputChannels)
                let from = ranks[l] ?? energies[l].count - 1
                let to = ranks[l] == nil ? largestSavingRank(layer.conv) : from - 1
                guard to >= 1 else { continue }
                let saving = Double(((ranks[l] == nil ? cin * cout : from * (cin + cout)) - to * (cin + cout)) * layer.pixels)
                let (kept, lost) = (energies[l][to], energies[l][from])
                let loss = lost == kept ? 0 : kept > 0 ? log(lost / kept) : .infinity
                if best == nil || loss / saving < best!.ratio { best = (l, to, saving, loss / saving) }
            }
            guard let best else { break }
            ranks[best.layer] = best.rank
            total -= best.saving
        }
        return ranks
    }
}

extension ChannelStatistics {
    /// Adds every pixel of `x` and `y` (the same `[N, C, H, W]` shape, either layout) as one sample
    /// `[x; y]` of 2·C channels.
    /// - Throws: `AnalysisError.shape` when the shapes differ or do not make `channels`, as `add(_:)`.
    mutating func add(stacking x: Tensor, on y: Tensor) throws(AnalysisError) {
        guard x.shape == y.shape, x.shape.count == 4 else {
            throw .shape(role: "stacked input", expected: "\(x.shape)", actual: y.shape)
        }
        let (a, b) = (x.converted(to: .channelsFirst).scalars, y.converted(to: .channelsFirst).scalars)
        let image = x.shape[1] * x.shape[2] * x.shape[3]
        var values = [Float]()
        values.reserveCapacity(2 * a.count)
        for n in 0..<x.shape[0] {
            values.append(contentsOf: a[n * image..<(n + 1) * image])
            values.append(contentsOf: b[n * image..<(n + 1) * image])
        }
        let stacked: Tensor
        do { stacked = try Tensor(shape: [x.shape[0], 2 * x.shape[1], x.shape[2], x.shape[3]], values: values) } catch {
            throw .tensor(error)
        }
        try add(stacked)
    }
}
