/// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a real symmetric matrix, in Float64, by the cyclic
/// Jacobi method (Golub & Van Loan, *Matrix Computations*, §8.5).
///
/// Each sweep rotates away every off-diagonal entry once, in row order; convergence is quadratic,
/// so 6–10 sweeps are typical. A sweep costs about 8·C³ flops, so C ≤ ~1024 (a channel
/// covariance) takes seconds in a release build; far larger matrices want a tridiagonal QR solver.
/// Jacobi is chosen for being short, dependency-free and accurate: small eigenvalues come out with
/// small relative error, and exactly zero rows (constant channels) are left untouched.
struct SymmetricEigen {
    /// The eigenvalues, largest first.
    let values: [Double]
    /// The eigenvectors as rows, `[C, C]` row-major: row k belongs to `values[k]`.
    let vectors: [Double]

    /// The most sweeps before giving up on further accuracy (never reached in practice).
    static let maximumSweeps = 100

    /// Decomposes `matrix`.
    /// - Parameters:
    ///   - matrix: `[size, size]` row-major, symmetric (only symmetric input gives meaningful results).
    ///   - size: C.
    init(symmetric matrix: [Double], size n: Int) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        // Raw pointers: the rotations are O(C³) element updates, which checked array accesses
        // would slow down many times over in debug builds.
        a.withUnsafeMutableBufferPointer { a in
            v.withUnsafeMutableBufferPointer { v in
                let (a, v) = (a.baseAddress!, v.baseAddress!)
                for sweep in 0..<Self.maximumSweeps {
                    var off = 0.0
                    for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
                    guard off > 0 else { break }
                    for p in 0..<n {
                        for q in (p + 1)..<n {
                            Self.rotate(a, v, size: n, p: p, q: q, settling: sweep >= 3)
                        }
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1) }
        values = order.map { a[$0 * n + $0] }
        var rows = [Double](repeating: 0, count: n * n)
        for (k, column) in order.enumerated() {
            for i in 0..<n { rows[k * n + i] = v[i * n + column] }
        }
        vectors = rows
    }

    /// One Jacobi rotation J in the (p, q) plane: A ← JᵀAJ with A'[p, q] = 0, V ← VJ.
    /// When `settling`, an entry too small to change either diagonal entry is set to zero instead
    /// (Numerical Recipes' test), so the iteration ends even when rounding keeps it non-zero.
    private static func rotate(
        _ a: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>, size n: Int, p: Int, q: Int, settling: Bool
    ) {
        let apq = a[p * n + q]
        guard apq != 0 else { return }
        let app = a[p * n + p], aqq = a[q * n + q], g = 100 * abs(apq)
        if settling, abs(app) + g == abs(app), abs(aqq) + g == abs(aqq) {
            a[p * n + q] = 0
            a[q * n + p] = 0
            return
        }
        // t = tan φ is the smaller root of t² + 2θt − 1 = 0, θ = (a_qq − a_pp) / (2 a_pq).
        let theta = (aqq - app) / (2 * apq)
        let t = abs(theta) > 1e150
            ? 1 / (2 * theta)
            : (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
        let c = 1 / (t * t + 1).squareRoot(), s = t * c
        for k in 0..<n {
            let akp = a[k * n + p], akq = a[k * n + q]
            a[k * n + p] = c * akp - s * akq
            a[k * n + q] = s * akp + c * akq
        }
        for k in 0..<n {
            let apk = a[p * n + k], aqk = a[q * n + k]
            a[p * n + k] = c * apk - s * aqk
            a[q * n + k] = s * apk + c * aqk
        }
        a[p * n + q] = 0
        a[q * n + p] = 0
        for k in 0..<n {
            let vkp = v[k * n + p], vkq = v[k * n + q]
            v[k * n + p] = c * vkp - s * vkq
            v[k * n + q] = s * vkp + c * vkq
        }
    }
}
