import Testing
@testable import Pointwise

/// Random tensors, comparisons and tolerances shared by the tests.
enum TestSupport {
    /// The kernel family for random case `index`: the portable kernels every `portableEvery`-th
    /// case, the others in turn among the fast families this CPU runs (AVX-512 and AVX2 on a CPU
    /// with both), so that a suite of random cases covers each of them.
    static func kernels(forCase index: Int, portableEvery: Int) -> KernelConfig {
        let fast = fmaFamilies
        if index % portableEvery == 0 || fast.isEmpty { return .portable }
        return fast[index / portableEvery % fast.count]
    }

    /// The FMA kernel families this CPU runs (AVX-512 and AVX2 on a CPU with both), which give
    /// each other's bits; the portable kernels on x86-64 round each product and do not.
    static var fmaFamilies: [KernelConfig] { KernelConfig.available.filter { $0.shortName != "portable" } }

    /// How many elements of `a` and `b` (paired in order) differ in their bits.
    static func differingBits<A: Sequence<Float>, B: Sequence<Float>>(_ a: A, _ b: B) -> Int {
        zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }

    /// A tensor of `shape` in `layout` with values uniform in -1…1.
    static func random(_ shape: [Int], layout: Layout = .channelsFirst, using random: inout SplitMix64) -> Tensor {
        let count = shape.reduce(1, *)
        return try! Tensor(shape: shape, layout: layout, values: (0..<count).map { _ in random.nextFloat(in: -1...1) })
    }

    /// Values uniform in -1…1.
    static func randomValues(_ count: Int, using random: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in random.nextFloat(in: -1...1) }
    }

    /// max |a − b| over logical elements, and max |b| (the scale of the expected values).
    static func difference(_ a: Tensor, _ b: Tensor) -> (maxError: Float, scale: Float) {
        precondition(a.shape == b.shape)
        let b = b.converted(to: a.layout)
        var maxError: Float = 0, scale: Float = 0
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for i in 0..<x.count {
                    maxError = max(maxError, abs(x[i] - y[i]))
                    scale = max(scale, abs(y[i]))
                }
            }
        }
        return (maxError, scale)
    }

    /// max |a − b| and max |b| over two arrays.
    static func difference(_ a: [Float], _ b: [Float]) -> (maxError: Float, scale: Float) {
        zip(a, b).reduce((Float(0), Float(0))) { acc, pair in
            (max(acc.0, abs(pair.0 - pair.1)), max(acc.1, abs(pair.1)))
        }
    }

    /// The bar: max |error| ≤ 1e-5 × max |expected| (with a floor for all-zero outputs).
    static func withinTolerance(_ d: (maxError: Float, scale: Float), relative: Float = 1e-5) -> Bool {
        d.maxError <= relative * max(d.scale, 1e-3)
    }
}
