extension PCA {
    /// Fits PCA to every pixel of `x`, streaming it through `ChannelStatistics` in chunks.
    /// - Parameters:
    ///   - x: `[N, C, *spatial]` in either layout (or rows `[P, C]`), at least two pixels, finite.
    ///   - chunkSize: pixels reduced together (see `ChannelStatistics.add(_:chunkSize:)`).
    /// - Throws: `AnalysisError.tooFewSamples` for fewer than two pixels, `.nonFinite` for a NaN or
    ///   infinite value, `.setting` for zero channels or a chunk size below 1.
    public init(fitting x: Tensor, chunkSize: Int = 4096) throws(AnalysisError) {
        var statistics = try ChannelStatistics(channels: x.channels)
        try statistics.add(x, chunkSize: chunkSize)
        try self.init(statistics: statistics)
    }

    /// Fits PCA to gathered statistics: the eigendecomposition of their covariance (Float64,
    /// cyclic Jacobi: O(C³), fine for C up to about 1024), components sorted by variance and
    /// sign-normalized like scikit-learn's.
    ///
    /// Nothing is divided by a channel's spread, so constant channels are fine: they get
    /// eigenvalue 0 and no NaN.
    /// - Throws: `AnalysisError.tooFewSamples` when fewer than two samples were added.
    public init(statistics: ChannelStatistics) throws(AnalysisError) {
        let covariance = try statistics.covariance()
        let c = statistics.channels
        let eigen = SymmetricEigen(symmetric: covariance, size: c)
        var components = eigen.vectors
        for k in 0..<c {
            // svd_flip(u_based_decision=False): the entry of largest magnitude (the first of
            // equals) is made positive.
            let row = components[k * c..<(k + 1) * c]
            let largest = row.indices.max { abs(row[$0]) < abs(row[$1]) || (abs(row[$0]) == abs(row[$1]) && $0 > $1) }!
            if row[largest] < 0 {
                for i in row.indices { components[i] = -components[i] }
            }
        }
        self.init(channels: c, sampleCount: statistics.count, mean: statistics.mean, components: components,
                  explainedVariance: eigen.values.map { max($0, 0) })
    }
}
