import Testing
@testable import Pointwise

@Suite struct TensorTests {
    @Test("layout conversion round-trips and keeps logical elements in place")
    func layoutRoundTrip() throws {
        var random = SplitMix64(seed: 4)
        // Channels and pixels below, at and past the kernels' 8×8 blocks and 64-column bands.
        for shape in [[2, 3], [2, 5, 7], [1, 3, 33, 35], [2, 4, 3, 2, 5], [2, 16, 8, 8], [1, 20, 9, 15], [1, 9, 70]] {
            let x = TestSupport.random(shape, using: &random)
            let last = x.converted(to: .channelsLast)
            #expect(last.memoryShape == [shape[0]] + shape.dropFirst(2) + [shape[1]])
            for n in 0..<x.batchSize {
                for c in 0..<x.channels {
                    for s in 0..<x.pixelsPerImage { #expect(last[batch: n, channel: c, position: s] == x[batch: n, channel: c, position: s]) }
                }
            }
            #expect(last.converted(to: .channelsFirst).scalars == x.scalars)
        }
    }

    @Test("the kernels' transpose, both families, against the definition",
          arguments: KernelConfig.available)
    func transpose(kernels: KernelConfig) {
        var random = SplitMix64(seed: 5)
        for (rows, columns) in [(1, 1), (3, 7), (8, 8), (9, 17), (16, 64), (23, 130), (130, 23)] {
            let source = TestSupport.randomValues(rows * columns, using: &random)
            var target = [Float](repeating: .nan, count: rows * columns)
            source.withUnsafeBufferPointer { source in
                target.withUnsafeMutableBufferPointer { target in
                    kernels.table.pointee.transpose(source.baseAddress!, rows, columns, target.baseAddress!)
                }
            }
            let expected = (0..<columns).flatMap { c in (0..<rows).map { r in source[r * columns + c] } }
            #expect(target == expected, "\(rows)×\(columns)")
        }
    }

    @Test("batch views share storage until written; writes never leak into other values")
    func batchViews() throws {
        let x = try Tensor(shape: [3, 2, 2], values: (0..<12).map(Float.init))
        var view = try x.batch(1)
        #expect(view.shape == [1, 2, 2] && view.scalars == [4, 5, 6, 7])
        #expect(view.storage === x.storage)
        view.withUnsafeMutableBufferPointer { $0[0] = -1 }
        #expect(view.scalars == [-1, 5, 6, 7] && x.scalars[4] == 4)
        #expect(try x.batches(1..<3).scalars == (4..<12).map(Float.init))
        #expect(throws: TensorError.batchOutOfRange(requested: "3", batchSize: 3)) { try x.batch(3) }
        #expect(throws: TensorError.valueCountMismatch(shape: [1, 2], expected: 2, actual: 3)) {
            try Tensor(shape: [1, 2], values: [1, 2, 3])
        }
    }
}
