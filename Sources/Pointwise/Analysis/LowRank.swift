/// Low-rank compression of a 1×1 convolution: `W [Cout×Cin] ≈ (U_r·Σ_r)·V_rᵀ`, the truncated
/// singular value decomposition, run as two 1×1 convolutions `Cin → r → Cout`. By Eckart–Young
/// it is the best rank-r approximation in the Frobenius norm, and it costs `r·(Cin + Cout)`
/// multiply-adds per pixel instead of `Cin·Cout`.
public struct LowRankConv1x1: Sendable {
    /// `Cin → r`: the top r right singular vectors `V_rᵀ`, no bias, no activation.
    public let reduce: Conv1x1
    /// `r → Cout`: `U_r·Σ_r`, with the original bias and activation.
    public let restore: Conv1x1
    /// The singular values of W, largest first (all of them, not only the r kept); for a pair
    /// fitted to activations, the square roots of their principal variances.
    public let singularValues: [Double]

    /// r, the rank kept.
    public var rank: Int { reduce.outputChannels }

    /// Factors `conv` and keeps rank `rank`.
    /// - Parameters:
    ///   - conv: a 1×1 convolution with groups 1 and stride 1.
    ///   - rank: `1…min(Cin, Cout)`.
    /// - Throws: `AnalysisError` for grouped or strided convolutions or a rank out of range.
    public init(_ conv: Conv1x1, rank: Int) throws(AnalysisError) {
        try self.init(conv, decomposition: try Self.decompose(conv), rank: rank)
    }

    /// Factors `conv` with the smallest rank whose singular values keep `energy` of Σσ².
    /// - Throws: as `init(_:rank:)`.
    public init(_ conv: Conv1x1, energy: Double) throws(AnalysisError) {
        let decomposition = try Self.decompose(conv)
        try self.init(conv, decomposition: decomposition, rank: Self.rank(keeping: energy, of: decomposition.singular))
    }

    init(_ conv: Conv1x1, decomposition d: SingularValueDecomposition, rank: Int) throws(AnalysisError) {
        let (rows, columns) = (conv.outputChannels, conv.inputChannels)
        guard (1...min(rows, columns)).contains(rank) else {
            throw .componentCount(requested: rank, channels: min(rows, columns))
        }
        // W ≈ Σ_k u_k σ_k v_kᵀ: reduce = [v_1 … v_r]ᵀ, restore = [u_1 σ_1 … u_r σ_r].
        var reduceWeight = [Float](repeating: 0, count: rank * columns)
        var restoreWeight = [Float](repeating: 0, count: rows * rank)
        for k in 0..<rank {
            for i in 0..<columns { reduceWeight[k * columns + i] = Float(d.v[k * columns + i]) }
            for o in 0..<rows { restoreWeight[o * rank + k] = Float(d.u[k * rows + o] * d.singular[k]) }
        }
        let (reduceTensor, restoreTensor): (Tensor, Tensor)
        do {
            reduceTensor = try Tensor(shape: [rank, columns], values: reduceWeight)
            restoreTensor = try Tensor(shape: [rows, rank], values: restoreWeight)
        } catch { throw .tensor(error) }
        do {
            reduce = try Conv1x1(weight: reduceTensor)
            restore = try Conv1x1(weight: restoreTensor, bias: conv.bias, activation: conv.activation)
        } catch { throw .convolution(error) }
        singularValues = d.singular
    }

    /// A pair from explicit weights `[r, Cin]`, `[Cout, r]` and biases, with `conv`'s activation.
    init(reduce: [Double], reduceBias: [Double], restore: [Double], restoreBias: [Double], rank r: Int, like conv: Conv1x1,
         spectrum: [Double]) throws(AnalysisError) {
        let (reduceTensor, restoreTensor): (Tensor, Tensor)
        do {
            reduceTensor = try Tensor(shape: [r, conv.inputChannels], values: reduce.map(Float.init))
            restoreTensor = try Tensor(shape: [conv.outputChannels, r], values: restore.map(Float.init))
        } catch { throw .tensor(error) }
        do {
            self.reduce = try Conv1x1(weight: reduceTensor, bias: reduceBias.map(Float.init))
            self.restore = try Conv1x1(weight: restoreTensor, bias: restoreBias.map(Float.init), activation: conv.activation)
        } catch { throw .convolution(error) }
        singularValues = spectrum
    }

    /// Runs both convolutions: `restore(reduce(x)) (+ residual)`.
    /// - Throws: `ConvolutionError` when the input or residual does not fit.
    public func callAsFunction(_ x: Tensor, residual: Tensor? = nil, options: ExecutionOptions = ExecutionOptions())
        throws(ConvolutionError) -> Tensor {
        try restore(reduce(x, options: options), residual: residual, options: options)
    }

    /// Multiply-adds per pixel: `r·(Cin + Cout)`.
    public var multiplyAddsPerPixel: Int { rank * (reduce.inputChannels + restore.outputChannels) }

    /// The smallest rank whose singular values keep at least `energy` (0…1) of Σσ².
    public static func rank(keeping energy: Double, of singular: [Double]) -> Int {
        let total = singular.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return 1 }
        var kept = 0.0
        for (k, s) in singular.enumerated() {
            kept += s * s
            if kept >= energy * total * (1 - 1e-12) { return k + 1 }
        }
        return singular.count
    }

    /// The thin SVD of a convolution's weight, from the eigendecomposition of the smaller Gram
    /// matrix (WᵀW or WWᵀ) in Float64; the other side's vectors follow as W·v/σ or Wᵀ·u/σ.
    static func decompose(_ conv: Conv1x1) throws(AnalysisError) -> SingularValueDecomposition {
        guard conv.groups == 1, conv.stride == 1 else {
            throw .setting(name: "convolution", value: "groups \(conv.groups), stride \(conv.stride)",
                           expected: "groups 1 and stride 1")
        }
        return SingularValueDecomposition(conv.weight.scalars.map(Double.init), rows: conv.outputChannels,
                                          columns: conv.inputChannels)
    }
}

/// `W = U·diag(σ)·Vᵀ` for a `rows × columns` matrix, thin (k = min(rows, columns) triplets), σ
/// descending; `u` holds the k left vectors as rows of length `rows`, `v` the right ones as rows
/// of length `columns`.
struct SingularValueDecomposition: Sendable {
    let singular: [Double]
    let u: [Double]
    let v: [Double]

    init(_ w: [Double], rows: Int, columns: Int) {
        let k = min(rows, columns)
        // The Gram matrix of the shorter side: G = WᵀW (columns ≤ rows) or WWᵀ.
        let byColumns = columns <= rows
        // Raw pointers keep the O(rows·columns·k) loops fast in debug builds too.
        var gram = [Double](repeating: 0, count: k * k)
        w.withUnsafeBufferPointer { w in
            gram.withUnsafeMutableBufferPointer { gram in
                let (w, gram) = (w.baseAddress!, gram.baseAddress!)
                for a in 0..<k {
                    for b in a..<k {
                        var sum = 0.0
                        if byColumns {
                            for o in 0..<rows { sum += w[o * columns + a] * w[o * columns + b] }
                        } else {
                            for i in 0..<columns { sum += w[a * columns + i] * w[b * columns + i] }
                        }
                        (gram[a * k + b], gram[b * k + a]) = (sum, sum)
                    }
                }
            }
        }
        let eigen = SymmetricEigen(symmetric: gram, size: k)
        let singular = eigen.values.map { max($0, 0).squareRoot() }
        // The other side: u_j = W v_j / σ_j (or v_j = Wᵀ u_j / σ_j); zero for σ_j = 0.
        let (otherLength, known) = byColumns ? (rows, columns) : (columns, rows)
        var other = [Double](repeating: 0, count: k * otherLength)
        w.withUnsafeBufferPointer { w in
            eigen.vectors.withUnsafeBufferPointer { vectors in
                other.withUnsafeMutableBufferPointer { other in
                    let (w, vectors, other) = (w.baseAddress!, vectors.baseAddress!, other.baseAddress!)
                    for j in 0..<k where singular[j] > 0 {
                        for t in 0..<otherLength {
                            var sum = 0.0
                            for s in 0..<known {
                                let entry = byColumns ? w[t * columns + s] : w[s * columns + t]
                                sum += entry * vectors[j * known + s]
                            }
                            other[j * otherLength + t] = sum / singular[j]
                        }
                    }
                }
            }
        }
        self.singular = singular
        (u, v) = byColumns ? (other, eigen.vectors) : (eigen.vectors, other)
    }
}
