/// Dense Float64 matrix products for the analyses (covariances, projections), row-major.
///
/// Raw pointers keep the O(n³) loops fast in debug builds too; the sizes here are channel
/// counts (at most a few thousand), so no blocking is needed.
enum Matrix {
    /// `A·B`, or `A·Bᵀ` when `transposingB`: `a` is `[rows, inner]`, `b` is `[inner, columns]`
    /// (`[columns, inner]` when transposing).
    static func product(_ a: [Double], _ b: [Double], rows: Int, inner: Int, columns: Int,
                        transposingB: Bool = false) -> [Double] {
        // Both operands with `inner` contiguous, so every entry is a contiguous dot product.
        let bRows = transposingB ? b : transposed(b, rows: inner, columns: columns)
        var c = [Double](repeating: 0, count: rows * columns)
        a.withUnsafeBufferPointer { a in
            bRows.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    let (a, b, c) = (a.baseAddress!, b.baseAddress!, c.baseAddress!)
                    for i in 0..<rows {
                        for j in 0..<columns {
                            var sum = 0.0
                            for k in 0..<inner { sum += a[i * inner + k] * b[j * inner + k] }
                            c[i * columns + j] = sum
                        }
                    }
                }
            }
        }
        return c
    }

    /// `Aᵀ` of a `[rows, columns]` matrix.
    static func transposed(_ a: [Double], rows: Int, columns: Int) -> [Double] {
        (0..<rows * columns).map { a[($0 % rows) * columns + $0 / rows] }
    }
}
