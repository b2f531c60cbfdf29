/// The running count, mean and co-moment of the channel vectors of feature maps, in Float64:
/// what PCA needs, gathered chunk by chunk so that no input ever has to be held as one `[C, P]`
/// matrix.
///
/// Every pixel of every image is one sample `x ∈ ℝᶜ`. Each chunk of pixels is reduced to its own
/// mean and mean-centred co-moment `Σ (x − x̄)(x − x̄)ᵀ` (two passes over the chunk), then merged
/// with Chan, Golub and LeVeque's pairwise update, which stays accurate when the mean is large
/// compared with the spread (the one-pass `Σxxᵀ − n·x̄x̄ᵀ` cancels catastrophically there).
/// Memory is O(C²); adding P pixels costs about P·C²/2 multiply-adds.
///
/// ```swift
/// var statistics = try ChannelStatistics(channels: 64)
/// for batch in batches { try statistics.add(batch) }    // each [N, 64, H, W], either layout
/// let pca = try PCA(statistics: statistics)
/// ```
public struct ChannelStatistics: Sendable, Equatable {
    /// C, the length of each sample.
    public let channels: Int
    /// n, the samples (pixels) added so far.
    public private(set) var count: Int = 0
    /// The mean sample, `[C]`.
    public private(set) var mean: [Double]
    /// `Σ (x − mean)(x − mean)ᵀ` over the samples, `[C, C]` row-major (symmetric).
    public private(set) var comoment: [Double]

    /// Empty statistics for samples of `channels` values.
    /// - Parameter channels: C, ≥ 1.
    /// - Throws: `AnalysisError.setting` when `channels` is below 1.
    public init(channels: Int) throws(AnalysisError) {
        guard channels >= 1 else { throw .setting(name: "channels", value: "\(channels)", expected: "≥ 1") }
        self.channels = channels
        mean = Array(repeating: 0, count: channels)
        comoment = Array(repeating: 0, count: channels * channels)
    }

    /// Adds every pixel of `x` as a sample.
    /// - Parameters:
    ///   - x: `[N, C, *spatial]` in either layout (or rows `[P, C]`).
    ///   - chunkSize: pixels reduced together before merging (bounds the scratch memory to
    ///     `chunkSize × C` Float64); ≥ 1.
    /// - Throws: `AnalysisError.shape` when `x` does not have `channels` channels,
    ///   `.nonFinite` for a NaN or infinite value (the statistics are then unchanged), `.setting`
    ///   for a chunk size below 1.
    public mutating func add(_ x: Tensor, chunkSize: Int = 4096) throws(AnalysisError) {
        guard x.channels == channels else {
            throw .shape(role: "input", expected: "[N, \(channels), *spatial]", actual: x.shape)
        }
        guard chunkSize >= 1 else { throw .setting(name: "chunk size", value: "\(chunkSize)", expected: "≥ 1") }
        let pixels = x.batchSize * x.pixelsPerImage
        var result = self
        var rows = [Double](repeating: 0, count: min(chunkSize, max(pixels, 1)) * channels)
        for start in stride(from: 0, to: pixels, by: chunkSize) {
            let end = min(start + chunkSize, pixels)
            try Self.gather(x, pixels: start..<end, into: &rows)
            result.merge(chunkOf: &rows, count: end - start)
        }
        self = result
    }

    /// Adds the samples of `other` (statistics of other pixels, e.g. from another thread or file).
    /// - Throws: `AnalysisError.shape` when the channel counts differ.
    public mutating func merge(_ other: ChannelStatistics) throws(AnalysisError) {
        guard other.channels == channels else {
            throw .shape(role: "statistics", expected: "\(channels) channels", actual: [other.channels])
        }
        merge(count: other.count, mean: other.mean, comoment: other.comoment)
    }

    /// The unbiased covariance `comoment / (n − 1)`, `[C, C]` row-major.
    /// - Throws: `AnalysisError.tooFewSamples` when fewer than two samples were added.
    public func covariance() throws(AnalysisError) -> [Double] {
        guard count >= 2 else { throw .tooFewSamples(count: count) }
        let scale = 1 / Double(count - 1)
        return comoment.map { $0 * scale }
    }

    // MARK: - Chunks

    /// Copies pixels `range` of `x` (in `[N, *spatial]` order) into `rows` as `[range.count, C]`.
    private static func gather(_ x: Tensor, pixels range: Range<Int>, into rows: inout [Double]) throws(AnalysisError) {
        // x: [N, C, *S]  →  rows: [pixels, C]
        let perImage = x.pixelsPerImage, channels = x.channels, source = x.pointer
        for (row, pixel) in range.enumerated() {
            let n = pixel / perImage, s = pixel % perImage
            for c in 0..<channels {
                let value = source[x.memoryIndex(batch: n, channel: c, position: s)]
                guard value.isFinite else { throw .nonFinite(image: n, channel: c, position: s, value: value) }
                rows[row * channels + c] = Double(value)
            }
        }
    }

    /// Merges the first `count` rows of `rows` (`[count, C]`, overwritten): their mean, then the
    /// co-moment of the rows centred on it.
    private mutating func merge(chunkOf rows: inout [Double], count: Int) {
        var chunkMean = [Double](repeating: 0, count: channels)
        for r in 0..<count {
            for c in 0..<channels { chunkMean[c] += rows[r * channels + c] }
        }
        for c in 0..<channels { chunkMean[c] /= Double(count) }
        var chunkComoment = [Double](repeating: 0, count: channels * channels)
        for r in 0..<count {
            for c in 0..<channels { rows[r * channels + c] -= chunkMean[c] }
            for i in 0..<channels {
                let di = rows[r * channels + i]
                for j in i..<channels { chunkComoment[i * channels + j] += di * rows[r * channels + j] }
            }
        }
        for i in 0..<channels {
            for j in 0..<i { chunkComoment[i * channels + j] = chunkComoment[j * channels + i] }
        }
        merge(count: count, mean: chunkMean, comoment: chunkComoment)
    }

    /// Chan et al.'s update: n = a + b, δ = mean_b − mean_a, mean = mean_a + δ·b/n,
    /// M = M_a + M_b + δδᵀ·a·b/n.
    private mutating func merge(count other: Int, mean otherMean: [Double], comoment otherComoment: [Double]) {
        guard other > 0 else { return }
        let total = count + other
        let delta = (0..<channels).map { otherMean[$0] - mean[$0] }
        let weight = Double(count) * Double(other) / Double(total)
        for i in 0..<channels {
            mean[i] += delta[i] * Double(other) / Double(total)
            for j in 0..<channels {
                comoment[i * channels + j] += otherComoment[i * channels + j] + delta[i] * delta[j] * weight
            }
        }
        count = total
    }
}
