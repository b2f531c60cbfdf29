/// Principal component analysis of the channel vectors of feature maps, and its exact form as a
/// pair of 1×1 convolutions.
///
/// Every pixel of every image is one sample `x ∈ ℝᶜ`. The components are the eigenvectors of the
/// channel covariance, largest eigenvalue first, with scikit-learn's signs (each component's
/// largest-magnitude entry positive, as `svd_flip(u_based_decision=False)` makes them), so they
/// agree with `sklearn.decomposition.PCA().components_` up to rounding. Projecting onto the top K
/// is the 1×1 convolution `y = W·(x − mean)` with `W` = the top K components `[K, C]`, i.e.
/// weight `W` and bias `−W·mean`; reconstructing is the 1×1 convolution with weight `Wᵀ` and
/// bias `mean`. Among all rank-K linear maps (and so among all linear C→K→C 1×1 autoencoders),
/// this pair has the least mean squared reconstruction error on the data it was fitted to.
///
/// ```swift
/// let pca = try PCA(fitting: features)              // [N, 64, H, W]
/// let encode = try pca.encoder(components: 8)       // 64 → 8 channels
/// let decode = try pca.decoder(components: 8)       // 8 → 64 channels
/// let error = try pca.reconstructionError(of: features, components: 8)
/// ```
public struct PCA: Sendable {
    /// C, the channels of the data.
    public let channels: Int
    /// n, the samples (pixels) the fit saw.
    public let sampleCount: Int
    /// The mean channel vector, `[C]`.
    public let mean: [Double]
    /// All C components as rows, `[C, C]` row-major, in the order of `explainedVariance`.
    public let components: [Double]
    /// The variance along each component (the covariance's eigenvalues with denominator n − 1, as
    /// scikit-learn's `explained_variance_`), largest first; rounding's tiny negatives are 0.
    public let explainedVariance: [Double]

    /// Each component's share of the total variance (all 0 when every channel is constant).
    public var explainedVarianceRatio: [Double] {
        let total = explainedVariance.reduce(0, +)
        return explainedVariance.map { total > 0 ? $0 / total : 0 }
    }

    /// Component `k` (0 = the largest variance), `[C]`.
    public func component(_ k: Int) -> [Double] {
        Array(components[k * channels..<(k + 1) * channels])
    }

    // MARK: - As 1×1 convolutions

    /// The projection onto the top `k` components as a 1×1 convolution:
    /// `y = W·x − W·mean`, weight `W` `[K, C]`, bias `−W·mean` `[K]` (computed in Float64).
    /// - Throws: `AnalysisError.componentCount` when `k` is outside `1…C`.
    public func encoder(components k: Int) throws(AnalysisError) -> Conv1x1 {
        // x: [N, C, *S]  →  y: [N, K, *S]
        try checkComponents(k)
        let weight = (0..<k * channels).map { Float(components[$0]) }
        let bias = (0..<k).map { row in
            -Float(zip(component(row), mean).reduce(0) { $0 + $1.0 * $1.1 })
        }
        return try convolution(weight: weight, shape: [k, channels], bias: bias)
    }

    /// The reconstruction from the top `k` components as a 1×1 convolution:
    /// `x̂ = Wᵀ·y + mean`, weight `Wᵀ` `[C, K]`, bias `mean` `[C]`.
    /// - Throws: `AnalysisError.componentCount` when `k` is outside `1…C`.
    public func decoder(components k: Int) throws(AnalysisError) -> Conv1x1 {
        // y: [N, K, *S]  →  x̂: [N, C, *S]
        try checkComponents(k)
        let weight = (0..<channels * k).map { i in Float(components[(i % k) * channels + i / k]) }
        return try convolution(weight: weight, shape: [channels, k], bias: mean.map(Float.init))
    }

    /// The mean squared error `mean((x − decoder(encoder(x)))²)` over every element of `x`, running
    /// the exported convolutions (Float32) image by image and summing in Float64.
    /// - Parameters:
    ///   - x: `[N, C, *spatial]` in either layout.
    ///   - k: the components kept, `1…C`.
    ///   - options: threads and implementation of the convolutions.
    /// - Returns: the error (NaN when `x` has no elements).
    /// - Throws: `AnalysisError.componentCount` for `k`, `.shape` when `x` has other than C channels.
    public func reconstructionError(
        of x: Tensor, components k: Int, options: ExecutionOptions = ExecutionOptions()
    ) throws(AnalysisError) -> Double {
        guard x.channels == channels else {
            throw .shape(role: "input", expected: "[N, \(channels), *spatial]", actual: x.shape)
        }
        let encoder = try encoder(components: k), decoder = try decoder(components: k)
        var sum = 0.0
        for n in 0..<x.batchSize {
            let image: Tensor, reconstructed: Tensor
            do { image = try x.batch(n) } catch { throw .tensor(error) }
            do {
                reconstructed = try decoder(encoder(image, options: options), options: options)
            } catch { throw .convolution(error) }
            image.withUnsafeBufferPointer { original in
                reconstructed.withUnsafeBufferPointer { result in
                    for i in 0..<original.count {
                        let difference = Double(original[i]) - Double(result[i])
                        sum += difference * difference
                    }
                }
            }
        }
        return x.count == 0 ? .nan : sum / Double(x.count)
    }

    /// The reconstruction error that keeping `k` components gives on the fitted data, from the
    /// eigenvalues alone: `(n − 1)/(n·C) · Σ_{j ≥ k} λ_j` (the discarded variance, per element,
    /// with the biased denominator n that a mean over the samples has).
    /// - Throws: `AnalysisError.componentCount` when `k` is outside `1…C`.
    public func expectedReconstructionError(components k: Int) throws(AnalysisError) -> Double {
        try checkComponents(k)
        let discarded = explainedVariance[k...].reduce(0, +)
        return discarded * Double(sampleCount - 1) / (Double(sampleCount) * Double(channels))
    }

    // MARK: - Helpers

    private func checkComponents(_ k: Int) throws(AnalysisError) {
        guard (1...channels).contains(k) else { throw .componentCount(requested: k, channels: channels) }
    }

    private func convolution(weight: [Float], shape: [Int], bias: [Float]) throws(AnalysisError) -> Conv1x1 {
        let tensor: Tensor
        do { tensor = try Tensor(shape: shape, values: weight) } catch { throw .tensor(error) }
        do { return try Conv1x1(weight: tensor, bias: bias) } catch { throw .convolution(error) }
    }
}
