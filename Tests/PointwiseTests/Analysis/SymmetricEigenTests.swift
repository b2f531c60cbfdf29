import Testing
@testable import Pointwise

/// The Jacobi eigensolver against the definition: A·v = λ·v, V orthonormal, λ sorted.
@Suite struct SymmetricEigenTests {
    @Test("random symmetric matrices: residual ‖A·v − λ·v‖ and ‖VVᵀ − I‖ near rounding", arguments: [1, 2, 3, 8, 17])
    func randomMatrices(size n: Int) {
        var random = SplitMix64(seed: UInt64(n))
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                a[i * n + j] = Double(random.nextFloat(in: -1...1))
                a[j * n + i] = a[i * n + j]
            }
        }
        check(a, size: n)
    }

    @Test("diagonal, repeated and zero eigenvalues")
    func specialMatrices() {
        check([3, 0, 0, 0, 1, 0, 0, 0, 2], size: 3)
        check([1, 0, 0, 1], size: 2)
        check([0, 0, 0, 0], size: 2)
        check([2, 1, 0, 1, 2, 0, 0, 0, 0], size: 3)   // eigenvalues 3, 1, 0
        let eigen = SymmetricEigen(symmetric: [2, 1, 0, 1, 2, 0, 0, 0, 0], size: 3)
        #expect(zip(eigen.values, [3.0, 1, 0]).allSatisfy { abs($0 - $1) <= 1e-15 }, "\(eigen.values)")
    }

    private func check(_ a: [Double], size n: Int) {
        let eigen = SymmetricEigen(symmetric: a, size: n)
        let scale = max(a.map(abs).max()!, 1)
        #expect(zip(eigen.values, eigen.values.dropFirst()).allSatisfy { $0 >= $1 }, "not sorted: \(eigen.values)")
        for k in 0..<n {
            let v = Array(eigen.vectors[k * n..<(k + 1) * n])
            for i in 0..<n {
                let av = (0..<n).reduce(0.0) { $0 + a[i * n + $1] * v[$1] }
                #expect(abs(av - eigen.values[k] * v[i]) <= 1e-13 * scale, "A·v − λ·v at k \(k), row \(i), n \(n)")
            }
            for l in 0..<n {
                let dot = (0..<n).reduce(0.0) { $0 + v[$1] * eigen.vectors[l * n + $1] }
                #expect(abs(dot - (k == l ? 1 : 0)) <= 1e-13, "vᵀv at \(k), \(l), n \(n)")
            }
        }
    }
}
