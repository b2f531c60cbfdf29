import CPointwiseKernels
import Testing
@testable import Pointwise

/// The GEMM driver and microkernels against a naive triple loop, across tile edges.
@Suite struct GemmTests {
    /// C = A·B (+C) + bias by the definition, in Double.
    static func naive(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: [Float], accumulate: Bool, bias: [Float]?) -> [Float] {
        var result = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = accumulate ? Double(c[i * n + j]) : 0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                result[i * n + j] = Float(sum + Double(bias?[i] ?? 0))
            }
        }
        return result
    }

    @Test("every tile size and edge, both kernel families, packed and in-place operands",
          arguments: KernelConfig.available)
    func tilesAndEdges(kernels: KernelConfig) {
        var random = SplitMix64(seed: 7)
        for m in [1, 2, 3, 4, 5, 6, 7, 12, 13] {
            for n in [1, 7, 8, 9, 15, 16, 17, 24, 32, 33] {
                for k in [1, 5, 256, 257] {
                    for accumulate in [false, true] {
                        let a = TestSupport.randomValues(m * k, using: &random)
                        let b = TestSupport.randomValues(k * n, using: &random)
                        let c0 = TestSupport.randomValues(m * n, using: &random)
                        let bias = TestSupport.randomValues(m, using: &random)
                        let expected = Self.naive(m: m, n: n, k: k, a: a, b: b, c: c0, accumulate: accumulate, bias: bias)
                        for packA in [false, true] {
                            var c = c0
                            a.withUnsafeBufferPointer { a in
                                b.withUnsafeBufferPointer { b in
                                    bias.withUnsafeBufferPointer { bias in
                                        c.withUnsafeMutableBufferPointer { c in
                                            let viewA = MatrixView(base: a.baseAddress!, rowStride: k, columnStride: 1)
                                            let problem = GemmProblem(
                                                m: m, n: n, k: k,
                                                a: packA ? .packed(PackedMatrix(side: .a, rows: m, columns: k, from: viewA)) : .view(viewA),
                                                b: .view(MatrixView(base: b.baseAddress!, rowStride: n, columnStride: 1)),
                                                c: c.baseAddress!, ldc: n, accumulate: accumulate,
                                                epilogue: GemmEpilogue(bias: bias.baseAddress))
                                            Gemm.run([problem], threads: 2, kernels: kernels)
                                        }
                                    }
                                }
                            }
                            let d = TestSupport.difference(c, expected)
                            #expect(d.maxError <= 1e-5 * max(d.scale, 1), "m=\(m) n=\(n) k=\(k) acc=\(accumulate) packA=\(packA): error \(d.maxError), scale \(d.scale)")
                        }
                    }
                }
            }
        }
    }

    /// Runs the plain packing and a vector one of `source`, each into `floats` floats followed by
    /// eight sentinels, and expects them to agree, sentinels included (nothing written past).
    private static func expectSamePacking(
        _ source: [Float], floats: Int, _ context: String,
        plain: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        vector: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) {
        var packed = [[Float]](repeating: [Float](repeating: -12345, count: floats + 8), count: 2)
        source.withUnsafeBufferPointer { src in
            plain(src.baseAddress!, &packed[0])
            vector(src.baseAddress!, &packed[1])
        }
        #expect(packed[0] == packed[1], "\(context)")
    }

    @Test("A panels packed eight columns at a time from contiguous rows: the same floats as the plain packing, nothing written past the panels",
          arguments: KernelConfig.available)
    func vectorPanelPacking(kernels: KernelConfig) {
        var random = SplitMix64(seed: 17)
        for rows in [1, 5, 6, 7, 12, 13] {
            for depth in [1, 7, 8, 9, 16, 23] {
                let rowStride = depth + 3
                Self.expectSamePacking(TestSupport.randomValues(rows * rowStride, using: &random),
                                       floats: (rows + 5) / 6 * 6 * depth, "rows \(rows), depth \(depth)",
                                       plain: { pw_pack_panels($0, rowStride, 1, rows, depth, $1) },
                                       vector: { kernels.table.pointee.pack_panels($0, rowStride, rows, depth, $1) })
            }
        }
    }

    @Test("A panels packed from contiguous columns (a channels-first image as pixels × channels): the same floats as the plain packing, nothing written past the panels",
          arguments: KernelConfig.available)
    func columnPanelPacking(kernels: KernelConfig) {
        var random = SplitMix64(seed: 19)
        for rows in [1, 5, 6, 7, 8, 12, 13, 14, 15, 20, 100] {
            for depth in [1, 2, 7, 23] {
                let columnStride = rows + 3
                Self.expectSamePacking(TestSupport.randomValues(depth * columnStride, using: &random),
                                       floats: (rows + 5) / 6 * 6 * depth, "rows \(rows), depth \(depth)",
                                       plain: { pw_pack_panels($0, 1, columnStride, rows, depth, $1) },
                                       vector: { kernels.table.pointee.pack_columns($0, columnStride, rows, depth, $1) })
            }
        }
    }

    @Test("a transposing store gives the transpose with bias, residual and activation as the epilogue's arithmetic, and writes nothing outside its block",
          arguments: KernelConfig.available)
    func transposingStore(kernels: KernelConfig) {
        var random = SplitMix64(seed: 20)
        let table = kernels.table.pointee
        for (rows, columns) in [(1, 1), (8, 8), (5, 3), (13, 16), (100, 24), (17, 9)] {
            for activation in Activation.allCases {
                for (withBias, withResidual) in [(false, false), (true, false), (true, true)] {
                    let lds = columns + 2, ldd = rows + 5
                    let source = TestSupport.randomValues(rows * lds, using: &random)
                    let bias = TestSupport.randomValues(columns, using: &random)
                    let residual = TestSupport.randomValues(columns * ldd, using: &random)
                    // Expected: (z + bias) + residual in floats, then the kernels' own activation.
                    var expected = [Float](repeating: -777, count: columns * ldd)
                    for c in 0..<columns {
                        var row = (0..<rows).map { r -> Float in
                            var z = source[r * lds + c]
                            if withBias { z += bias[c] }
                            if withResidual { z += residual[c * ldd + r] }
                            return z
                        }
                        table.activate(&row, rows, activation.kernelCode)
                        for r in 0..<rows { expected[c * ldd + r] = row[r] }
                    }
                    var stored = [Float](repeating: -777, count: columns * ldd)
                    bias.withUnsafeBufferPointer { b in
                        residual.withUnsafeBufferPointer { res in
                            var epilogue = pw_epilogue(bias: withBias ? b.baseAddress : nil, bias_per_column: 0,
                                                       activation: activation.kernelCode,
                                                       residual: withResidual ? res.baseAddress : nil, ldr: ldd)
                            table.transpose_out(source, lds, rows, columns, &stored, ldd, &epilogue)
                        }
                    }
                    #expect(stored == expected, "\(rows)×\(columns) \(activation) bias \(withBias) residual \(withResidual)")
                }
            }
        }
    }

    @Test("B strips packed from contiguous rows by vectors: the same floats as the plain packing, nothing written past the strips",
          arguments: KernelConfig.available)
    func vectorStripPacking(kernels: KernelConfig) {
        var random = SplitMix64(seed: 18)
        for width in [1, 8, 15, 16, 17, 49, 64] {
            for depth in [1, 7, 23] {
                let rowStride = width + 5
                Self.expectSamePacking(TestSupport.randomValues(depth * rowStride, using: &random),
                                       floats: (width + 15) / 16 * 16 * depth, "width \(width), depth \(depth)",
                                       plain: { pw_pack_strips($0, rowStride, 1, depth, width, $1) },
                                       vector: { kernels.table.pointee.pack_rows($0, rowStride, depth, width, $1) })
            }
        }
    }

    @Test("the streaming kernel (few rows, a shallow k, or up to 48 rows over a B in cache) over several column blocks, a ragged last one and two k blocks, any thread count")
    func streamingColumnBlocks() {
        var random = SplitMix64(seed: 19)
        // The last two stream only for a B in cache; (44, 530, 400) runs two k blocks of 200, the
        // second accumulating into the first's C.
        for (m, n, k) in [(7, 1000, 13), (12, 600, 300), (13, 530, 16), (96, 777, 16), (20, 520, 24), (44, 530, 400),
                          (29, 301, 100)] {
            #expect(Gemm.streams(m: m, n: n, k: k))
            let a = TestSupport.randomValues(m * k, using: &random)
            let b = TestSupport.randomValues(k * n, using: &random)
            let bias = TestSupport.randomValues(m, using: &random)
            let expected = Self.naive(m: m, n: n, k: k, a: a, b: b, c: [], accumulate: false, bias: bias)
            var outputs: [[Float]] = []
            for threads in [1, 2] {
                var c = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        bias.withUnsafeBufferPointer { bias in
                            c.withUnsafeMutableBufferPointer { c in
                                let viewA = MatrixView(base: a.baseAddress!, rowStride: k, columnStride: 1)
                                Gemm.run([GemmProblem(m: m, n: n, k: k, a: .packed(PackedMatrix(side: .a, rows: m, columns: k, from: viewA)),
                                                      b: .view(MatrixView(base: b.baseAddress!, rowStride: n, columnStride: 1)),
                                                      c: c.baseAddress!, ldc: n, epilogue: GemmEpilogue(bias: bias.baseAddress))],
                                         threads: threads)
                            }
                        }
                    }
                }
                let d = TestSupport.difference(c, expected)
                #expect(d.maxError <= 1e-5 * max(d.scale, 1), "m=\(m) n=\(n) k=\(k) threads=\(threads): error \(d.maxError)")
                outputs.append(c)
            }
            #expect(outputs[0].elementsEqual(outputs[1]), "m=\(m) n=\(n) k=\(k): 1 and 2 threads differ")
        }
    }

    /// C (m×n) of a GEMM with A packed (or read in place), B (k×n, rows `ldb` apart) streamed from
    /// where it lies or packed, and every kind of epilogue; the residual has rows `ldb` apart too.
    private static func packedProduct(
        m: Int, n: Int, k: Int, a: [Float], b: [Float], ldb: Int, c0: [Float], residual: [Float], bias: [Float],
        packA: Bool = true, packB: Bool, accumulate: Bool, epilogue: Int, threads: Int, kernels: KernelConfig = .best
    ) -> [Float] {
        var c = (0..<m).flatMap { c0[$0 * ldb..<$0 * ldb + n] }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                residual.withUnsafeBufferPointer { residual in
                    bias.withUnsafeBufferPointer { bias in
                        c.withUnsafeMutableBufferPointer { c in
                            let viewA = MatrixView(base: a.baseAddress!, rowStride: k, columnStride: 1)
                            let viewB = MatrixView(base: b.baseAddress!, rowStride: ldb, columnStride: 1)
                            let epilogue = switch epilogue {
                            case 0: GemmEpilogue()
                            case 1: GemmEpilogue(bias: bias.baseAddress, residual: residual.baseAddress, residualStride: ldb,
                                                 activation: .relu6)
                            default: GemmEpilogue(bias: bias.baseAddress, biasPerColumn: true, activation: .silu)
                            }
                            let problem = GemmProblem(
                                m: m, n: n, k: k, a: packA ? .packed(PackedMatrix(side: .a, rows: m, columns: k, from: viewA)) : .view(viewA),
                                b: packB ? .packed(PackedMatrix(side: .b, rows: k, columns: n, from: viewB)) : .view(viewB),
                                c: c.baseAddress!, ldc: n, accumulate: accumulate, epilogue: epilogue)
                            Gemm.run([problem], threads: threads, kernels: kernels)
                        }
                    }
                }
            }
        }
        return c
    }

    @Test("the AVX-512 kernels (16-lane tiles, two row panels at once) give the AVX2 kernels' bits on every path")
    func wideKernelsMatchAVX2() throws {
        guard let avx512 = KernelConfig.avx512, let avx2 = KernelConfig.avx2 else { return }
        var random = SplitMix64(seed: 47)
        // The strip path past the fused copy's 64 rows with a 4-column edge tile (256, 100), with the
        // fused copy and the last column (64, 49) and rows ending 4 + 4 (50, 88), an odd panel count
        // (30, 48), the streaming kernel (30, 200, 8), a single row (1, 100) and edges everywhere
        // (13, 33); k within one k block and past it.
        for (m, n, k) in [(256, 100, 300), (64, 49, 40), (50, 88, 40), (30, 48, 70), (30, 200, 8), (1, 100, 50),
                          (13, 33, 5)] {
            let a = TestSupport.randomValues(m * k, using: &random)
            let b = TestSupport.randomValues(k * n, using: &random)
            let c0 = TestSupport.randomValues(m * n, using: &random)
            let residual = TestSupport.randomValues(m * n, using: &random)
            let bias = TestSupport.randomValues(max(m, n), using: &random)
            for (packB, accumulate, epilogue, threads) in [(false, false, 1, 1), (false, true, 2, 2), (true, false, 0, 1),
                                                          (true, true, 1, 2)] {
                let results = [avx512, avx2].map {
                    Self.packedProduct(m: m, n: n, k: k, a: a, b: b, ldb: n, c0: c0, residual: residual, bias: bias,
                                       packB: packB, accumulate: accumulate, epilogue: epilogue, threads: threads,
                                       kernels: $0)
                }
                let differing = TestSupport.differingBits(results[0], results[1])
                #expect(differing == 0, "m=\(m) n=\(n) k=\(k) packB=\(packB) acc=\(accumulate) epilogue \(epilogue) threads \(threads): \(differing) elements differ")
            }
        }
    }

    /// Expects the m×n GEMM whose B and C rows are `wide` floats apart, with A packed or read in
    /// place, to get on 1 and 2 threads the bits its elements get inside the larger `wholeRows` ×
    /// `wide` product on one thread (the same elements inside whole strips or whole row panels),
    /// for each (packB, accumulate, epilogue) variant; and, without an epilogue, to agree with the
    /// definition.
    private static func expectPartMatchesWholeProduct(
        m: Int, n: Int, k: Int, wholeRows: Int? = nil, wide: Int, packA: Bool,
        variants: [(packB: Bool, accumulate: Bool, epilogue: Int)], using random: inout SplitMix64
    ) {
        let rows = wholeRows ?? m
        let a = TestSupport.randomValues(rows * k, using: &random)
        let b = TestSupport.randomValues(k * wide, using: &random)
        let c0 = TestSupport.randomValues(rows * wide, using: &random)
        let residual = TestSupport.randomValues(rows * wide, using: &random)
        let bias = TestSupport.randomValues(max(rows, wide), using: &random)
        for (packB, accumulate, epilogue) in variants {
            func product(rows: Int, columns: Int, threads: Int) -> [Float] {
                Self.packedProduct(m: rows, n: columns, k: k, a: a, b: b, ldb: wide, c0: c0, residual: residual, bias: bias,
                                   packA: packA, packB: packB, accumulate: accumulate, epilogue: epilogue, threads: threads)
            }
            let full = product(rows: rows, columns: wide, threads: 1)
            let expected = (0..<m).flatMap { full[$0 * wide..<$0 * wide + n] }
            for threads in [1, 2] {
                let differing = TestSupport.differingBits(product(rows: m, columns: n, threads: threads), expected)
                #expect(differing == 0, "m=\(m) n=\(n) k=\(k) packA=\(packA) packB=\(packB) acc=\(accumulate) epilogue \(epilogue) threads \(threads): \(differing) elements differ")
            }
            if epilogue == 0 {
                let definition = Self.naive(m: m, n: n, k: k, a: Array(a[0..<m * k]), b: (0..<k).flatMap { b[$0 * wide..<$0 * wide + n] },
                                            c: (0..<m).flatMap { c0[$0 * wide..<$0 * wide + n] },
                                            accumulate: accumulate, bias: nil)
                let d = TestSupport.difference(expected, definition)
                #expect(d.maxError <= 1e-5 * max(d.scale, 1), "m=\(m) n=\(n) k=\(k): error \(d.maxError)")
            }
        }
    }

    @Test("a narrow tail of columns, run down many packed panels at once, gets the bits those columns get inside a full strip")
    func tailColumnsMatchFullStrips() {
        var random = SplitMix64(seed: 23)
        // m past one group of panels with a short last panel; tails of 1, 2 and 3 columns (and 4
        // and 7, which go through edge tiles); k past one k block, so C is reloaded between blocks.
        for (m, n, k) in [(100, 49, 300), (7, 98, 5), (53, 51, 1), (1, 9, 17), (30, 100, 40), (13, 23, 3)] {
            Self.expectPartMatchesWholeProduct(
                m: m, n: n, k: k, wide: (n + 15) / 16 * 16 + 16, packA: true,
                variants: [(false, false, 1), (false, true, 0), (true, false, 2), (true, true, 1)], using: &random)
        }
    }

    @Test("a batch of products sharing one packed A, each leaving 4 to 7 columns after whole strips, runs those columns gathered into one product with the bits each product gets alone")
    func gatheredTailsMatchSingleProducts() {
        var random = SplitMix64(seed: 53)
        // A 14×14 map's 196 = 12·16 + 4 columns; 15 (one 8-column strip and 7) past one k block;
        // 6 columns and nothing else, over more images than one gathered block holds (256 / 6);
        // 100 = 6·16 + 4 with a last panel of 4 rows.
        for (images, m, n, k) in [(3, 64, 196, 40), (5, 50, 15, 330), (45, 54, 6, 36), (2, 100, 100, 33)] {
            let a = TestSupport.randomValues(m * k, using: &random)
            let b = TestSupport.randomValues(images * k * n, using: &random)
            let c0 = TestSupport.randomValues(images * m * n, using: &random)
            let residual = TestSupport.randomValues(images * m * n, using: &random)
            let bias = TestSupport.randomValues(m, using: &random)
            let packed = a.withUnsafeBufferPointer {
                PackedMatrix(side: .a, rows: m, columns: k,
                             from: MatrixView(base: $0.baseAddress!, rowStride: k, columnStride: 1))
            }
            for (accumulate, withEpilogue) in [(false, true), (true, false), (true, true)] {
                // Image q's product: B, C and the residual at q times their size into the arrays.
                func run(threads: Int, alone: Bool) -> [Float] {
                    var c = c0
                    b.withUnsafeBufferPointer { b in
                        residual.withUnsafeBufferPointer { residual in
                            bias.withUnsafeBufferPointer { bias in
                                c.withUnsafeMutableBufferPointer { c in
                                    let problems = (0..<images).map { q in
                                        let epilogue = GemmEpilogue(
                                            bias: bias.baseAddress, residual: residual.baseAddress! + q * m * n,
                                            residualStride: n, activation: .relu6)
                                        let source = MatrixView(base: b.baseAddress! + q * k * n, rowStride: n,
                                                                columnStride: 1)
                                        return GemmProblem(
                                            m: m, n: n, k: k, a: .packed(packed), b: .view(source),
                                            c: c.baseAddress! + q * m * n, ldc: n, accumulate: accumulate,
                                            epilogue: withEpilogue ? epilogue : GemmEpilogue())
                                    }
                                    #expect(Gemm.gatheredTailWidth(problems) == n % 8)
                                    for batch in alone ? problems.map { [$0] } : [problems] {
                                        Gemm.run(batch, threads: threads, disjointOutputs: true)
                                    }
                                }
                            }
                        }
                    }
                    return c
                }
                let expected = run(threads: 1, alone: true)
                for threads in [1, 2] {
                    let differing = TestSupport.differingBits(run(threads: threads, alone: false), expected)
                    #expect(differing == 0, "images=\(images) m=\(m) n=\(n) k=\(k) acc=\(accumulate) epilogue \(withEpilogue) threads \(threads): \(differing) elements differ")
                }
                if !withEpilogue {
                    let definition = (0..<images).flatMap { (q: Int) -> [Float] in
                        let (bq, cq) = (Array(b[q * k * n..<(q + 1) * k * n]), Array(c0[q * m * n..<(q + 1) * m * n]))
                        return Self.naive(m: m, n: n, k: k, a: a, b: bq, c: cq, accumulate: accumulate, bias: nil)
                    }
                    let d = TestSupport.difference(expected, definition)
                    #expect(d.maxError <= 1e-5 * max(d.scale, 1), "images=\(images) m=\(m) n=\(n) k=\(k): error \(d.maxError)")
                }
            }
        }
    }

    @Test("the last 24 columns of a C ending in an 8-column strip (24, 40, 56, 152 wide), A packed or read in place, run 3 rows at a time with the bits they get inside full strips")
    func wideLastTilesMatchFullStrips() {
        var random = SplitMix64(seed: 31)
        // Rows 1…4 and past a row block (271), leaving 1 or 2 rows for the last 3-row tile, and a
        // last packed panel of 1 to 5 rows; k of 1 and past one k block, so C is reloaded.
        for (m, n, k, packA) in [(1, 24, 7, false), (2, 40, 3, false), (4, 24, 300, false), (49, 40, 144, false),
                                 (100, 56, 20, false), (271, 24, 16, false), (13, 24, 1, true), (8, 40, 1, false),
                                 (37, 40, 9, true), (11, 152, 300, true), (4, 24, 5, true)] {
            Self.expectPartMatchesWholeProduct(
                m: m, n: n, k: k, wide: (n + 15) / 16 * 16, packA: packA,
                variants: [(true, false, 1), (true, true, 2), (true, false, 0), (true, true, 0)], using: &random)
        }
    }

    @Test("a block ending in one row is packed and swept as panels of 4 and 3 rows, with the bits those rows get inside whole panels")
    func lastRowsInParts() {
        #expect(Gemm.panelParts(0..<49).map(\.rows) == [0..<42, 42..<46, 46..<49])
        #expect(Gemm.panelParts(0..<49).map(\.panel) == [0, 7, 8])
        #expect(Gemm.panelParts(264..<271).map(\.rows) == [264..<268, 268..<271])
        #expect(Gemm.panelParts(264..<271).map(\.panel) == [0, 1])
        #expect(Gemm.panelParts(0..<48).map(\.rows) == [0..<48])
        #expect(Gemm.panelParts(0..<1).map(\.rows) == [0..<1])
        var random = SplitMix64(seed: 29)
        // m = 271 is a row block of 264 and then one of 7; n ends in an 8-column strip or a 1-column tail;
        // k past one k block, so C is reloaded between blocks.
        for (m, n, k) in [(49, 40, 300), (7, 33, 20), (13, 49, 5), (55, 65, 257), (271, 48, 16)] {
            Self.expectPartMatchesWholeProduct(m: m, n: n, k: k, wholeRows: (m + 5) / 6 * 6, wide: n, packA: false,
                                               variants: [(true, false, 1), (true, true, 2), (true, false, 0)], using: &random)
        }
    }

    @Test("the streaming kernel's last panel of one or two rows, run 32 columns at a time, gets the bits those rows get inside a whole panel")
    func streamedNarrowLastPanel() {
        var random = SplitMix64(seed: 31)
        // One or two rows past the last whole panel; n with a 16-, 8- and 5-column remainder after
        // the 32-column blocks; k shallow, deep (blocks of 32 columns for the sake of the last panel)
        // and past one k block.
        for (m, n, k) in [(7, 112, 13), (8, 77, 40), (26, 101, 200), (44, 530, 400)] {
            #expect(Gemm.streams(m: m, n: n, k: k) && Gemm.streams(m: (m + 5) / 6 * 6, n: n, k: k))
            Self.expectPartMatchesWholeProduct(m: m, n: n, k: k, wholeRows: (m + 5) / 6 * 6, wide: n, packA: true,
                                               variants: [(false, false, 1), (false, false, 2), (false, true, 0)], using: &random)
        }
    }

    @Test("the strip path's first row panel copying B as it reads it, and a last panel of two rows run as two tiles of four, get the bits of whole panels")
    func stripPathCopyAndLastRows() {
        var random = SplitMix64(seed: 37)
        // m = 6q + 2 above the streaming kernel's 48 rows and k above its 32 (the last eight rows run
        // 4 + 4), a second row block ending in 6q + 2 (264 + 14), and m = 6q; n ending in an 8-column
        // strip or a 5-column tail; k within one k block and past it. The whole products have one
        // more whole panel than the part, so that none of their rows end in tiles of four.
        for (m, n, k) in [(50, 88, 40), (56, 101, 33), (54, 40, 330), (278, 45, 36)] {
            #expect(!Gemm.streams(m: m, n: n, k: k))
            Self.expectPartMatchesWholeProduct(m: m, n: n, k: k, wholeRows: (m + 5) / 6 * 6 + 6, wide: n, packA: true,
                                               variants: [(false, false, 1), (false, true, 2), (false, false, 0)], using: &random)
        }
    }

    @Test("one column after whole strips, computed inside the strip path's last strip (its rows left over down the panels), gets the bits of whole strips")
    func lastColumnInLastStrip() {
        var random = SplitMix64(seed: 43)
        // n = 16q + 1 over m above the streaming kernel's 48 rows: rows ending in 4 + 4 (50, 56), in a
        // panel of 4 (64) or of 1 (61), and past the fused copy's 64 rows (100); the last strip also
        // the only one (17) or the first fused copy's (33); k within one k block and past it.
        for (m, n, k) in [(50, 49, 40), (56, 33, 330), (64, 17, 36), (61, 65, 33), (100, 49, 330)] {
            #expect(!Gemm.streams(m: m, n: n, k: k))
            Self.expectPartMatchesWholeProduct(m: m, n: n, k: k, wholeRows: (m + 5) / 6 * 6 + 6, wide: (n + 15) / 16 * 16,
                                               packA: true,
                                               variants: [(false, false, 1), (false, true, 2), (false, false, 0)], using: &random)
        }
    }

    @Test("k is cut into as few blocks as keep each within the depth limit, of equal depth to within one")
    func depthBlocks() {
        #expect(Gemm.depthBlocks(1152) == [0..<288, 288..<576, 576..<864, 864..<1152])
        #expect(Gemm.depthBlocks(320) == [0..<320])
        #expect(Gemm.depthBlocks(321) == [0..<160, 160..<321])
        #expect(Gemm.depthBlocks(0) == [0..<0])
        for k in [1, 16, 255, 256, 640, 641, 960, 2048, 4099] {
            let blocks = Gemm.depthBlocks(k)
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == k, "k=\(k)")
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "k=\(k)")
            #expect(blocks.count == (k + Gemm.depthLimit - 1) / Gemm.depthLimit, "k=\(k)")
            let depths = blocks.map(\.count)
            #expect(depths.max()! <= Gemm.depthLimit && depths.max()! - depths.min()! <= 1, "k=\(k): \(depths)")
        }
    }

    @Test("a single row, run over several strips at once, gets the bits it gets inside a full panel")
    func singleRowMatchesPanels() {
        var random = SplitMix64(seed: 31)
        // n of 1 to 6 whole strips (groups of four and what is left), an 8-column strip and 1- or
        // 4-column tails; k past one k block, so C is reloaded between blocks.
        for (n, k) in [(1000, 300), (16, 7), (40, 257), (113, 33), (96, 1), (52, 64)] {
            let a = TestSupport.randomValues(6 * k, using: &random)
            let b = TestSupport.randomValues(k * n, using: &random)
            let c0 = TestSupport.randomValues(6 * n, using: &random)
            let residual = TestSupport.randomValues(6 * n, using: &random)
            let bias = TestSupport.randomValues(max(6, n), using: &random)
            for (packB, accumulate, epilogue) in [(true, false, 1), (true, true, 2), (false, false, 2), (false, true, 0)] {
                func product(rows: Int) -> [Float] {
                    Self.packedProduct(m: rows, n: n, k: k, a: a, b: b, ldb: n, c0: c0, residual: residual, bias: bias,
                                       packA: false, packB: packB, accumulate: accumulate, epilogue: epilogue, threads: 1)
                }
                let expected = Array(product(rows: 6)[0..<n])
                let differing = TestSupport.differingBits(product(rows: 1), expected)
                #expect(differing == 0, "n=\(n) k=\(k) packed B \(packB) epilogue \(epilogue): \(differing) elements differ")
            }
        }
    }

    @Test("transposed B (packed on the fly) and packed B agree with the definition")
    func transposedAndPackedB() {
        var random = SplitMix64(seed: 11)
        for (m, n, k) in [(5, 19, 300), (13, 40, 7), (20, 3, 64)] {
            let a = TestSupport.randomValues(m * k, using: &random)
            let b = TestSupport.randomValues(k * n, using: &random)
            let bT = (0..<n * k).map { b[($0 % k) * n + $0 / k] }  // bT[j * k + p] = b[p * n + j]
            let expected = Self.naive(m: m, n: n, k: k, a: a, b: b, c: [], accumulate: false, bias: nil)
            for mode in 0..<2 {
                var c = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { a in
                    bT.withUnsafeBufferPointer { bT in
                        c.withUnsafeMutableBufferPointer { c in
                            let view = MatrixView(base: bT.baseAddress!, rowStride: 1, columnStride: k)
                            let operand: GemmOperand = mode == 0 ? .view(view) : .packed(PackedMatrix(side: .b, rows: k, columns: n, from: view))
                            Gemm.run([GemmProblem(m: m, n: n, k: k, a: .view(MatrixView(base: a.baseAddress!, rowStride: k, columnStride: 1)),
                                                  b: operand, c: c.baseAddress!, ldc: n)], threads: 1)
                        }
                    }
                }
                let d = TestSupport.difference(c, expected)
                #expect(d.maxError <= 1e-5 * max(d.scale, 1), "m=\(m) n=\(n) k=\(k) mode=\(mode)")
            }
        }
    }

    @Test("blocks larger than the cache blocks: several row blocks, k blocks and column blocks, A transposed or packed, B streamed or transposed")
    func largeBlocks() {
        var random = SplitMix64(seed: 13)
        let (m, n, k) = (Gemm.rowBlock + 7, Gemm.rowBlock + 61, Gemm.depthLimit + 45)
        let a = TestSupport.randomValues(m * k, using: &random)
        let b = TestSupport.randomValues(k * n, using: &random)
        let c0 = TestSupport.randomValues(m * n, using: &random)
        let aT = (0..<m * k).map { a[($0 % m) * k + $0 / m] }  // aT[p * m + i] = a[i * k + p]
        let bT = (0..<n * k).map { b[($0 % k) * n + $0 / k] }  // bT[j * k + p] = b[p * n + j]
        let expected = Self.naive(m: m, n: n, k: k, a: a, b: b, c: c0, accumulate: true, bias: nil)
        for (aMode, bMode, threads) in [(0, 0, 1), (1, 0, 3), (2, 1, 2)] {
            var c = c0
            a.withUnsafeBufferPointer { a in
                aT.withUnsafeBufferPointer { aT in
                    b.withUnsafeBufferPointer { b in
                        bT.withUnsafeBufferPointer { bT in
                            c.withUnsafeMutableBufferPointer { c in
                                let plainA = MatrixView(base: a.baseAddress!, rowStride: k, columnStride: 1)
                                let transposedA = MatrixView(base: aT.baseAddress!, rowStride: 1, columnStride: m)
                                let operandA: GemmOperand = switch aMode {
                                case 0: .view(plainA)
                                case 1: .view(transposedA)
                                default: .packed(PackedMatrix(side: .a, rows: m, columns: k, from: transposedA))
                                }
                                let operandB: GemmOperand = bMode == 0
                                    ? .view(MatrixView(base: b.baseAddress!, rowStride: n, columnStride: 1))
                                    : .view(MatrixView(base: bT.baseAddress!, rowStride: 1, columnStride: k))
                                Gemm.run([GemmProblem(m: m, n: n, k: k, a: operandA, b: operandB, c: c.baseAddress!,
                                                      ldc: n, accumulate: true)], threads: threads)
                            }
                        }
                    }
                }
            }
            let d = TestSupport.difference(c, expected)
            #expect(d.maxError <= 1e-5 * max(d.scale, 1), "A mode \(aMode), B mode \(bMode): error \(d.maxError)")
        }
    }
}
