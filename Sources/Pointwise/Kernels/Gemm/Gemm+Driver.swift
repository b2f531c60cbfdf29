import CPointwiseKernels

extension Gemm {
    /// Runs `problems` in order, with their output tiles split across `threads` workers.
    ///
    /// All problems must have the same m and n (they are the images or groups of one convolution):
    /// each worker owns the same tiles of each, so problems that accumulate into one C (a weight
    /// gradient summed over images) never race, and sum in the same order for any thread count.
    static func run(_ problems: [GemmProblem], threads: Int, kernels: KernelConfig = .best) {
        guard let first = problems.first, first.m > 0, first.n > 0 else { return }
        let plan = Plan(m: first.m, n: first.n, threads: threads)
        Parallel.forEach(plan.workers) { worker in
            let range = plan.outerRange(worker: worker)
            guard !range.isEmpty else { return }
            var runner = TileRunner(kernels: kernels)
            defer { runner.release() }
            for problem in problems where problem.k > 0 || !problem.accumulate {
                precondition(problem.m == first.m && problem.n == first.n, "GEMM batch with mixed shapes")
                if plan.rowsOuter {
                    runner.compute(problem, rows: range, columns: 0..<problem.n, rowsOuter: true)
                } else {
                    runner.compute(problem, rows: 0..<problem.m, columns: range, rowsOuter: false)
                }
            }
        }
    }

    /// How a GEMM's output is walked and divided among workers.
    struct Plan {
        /// Register tiles are swept row panel by row panel (each A panel stays in L1 while the
        /// B strips stream past from L2) when C is taller than wide, else strip by strip.
        let rowsOuter: Bool
        /// The extent of the outer dimension, and its tile size.
        let outerExtent: Int
        let outerTile: Int
        let workers: Int

        init(m: Int, n: Int, threads: Int) {
            rowsOuter = m > n
            outerExtent = rowsOuter ? m : n
            outerTile = rowsOuter ? KernelConfig.tileRows : KernelConfig.tileColumns
            workers = max(1, min(threads, (outerExtent + outerTile - 1) / outerTile))
        }

        /// Worker `worker`'s contiguous, tile-aligned share of the outer dimension.
        func outerRange(worker: Int) -> Range<Int> {
            let tiles = (outerExtent + outerTile - 1) / outerTile
            let lower = tiles * worker / workers * outerTile
            let upper = min(tiles * (worker + 1) / workers * outerTile, outerExtent)
            return lower..<upper
        }
    }
}

/// The B operand of one k block over a range of columns, ready for the microkernels: strips of 16
/// columns at a fixed distance from each other, then at most one narrow tail (under 8 columns)
/// in a zero-padded buffer that the 8-wide kernel can read whole.
private struct StripSet {
    /// Row p of strip s is at `b + s * stripStride + p * ldb`; strips cover `fullWidth` columns
    /// (a multiple of 8).
    var b: UnsafePointer<Float>
    var ldb: Int
    var stripStride: Int
    var fullWidth: Int
    /// The last `tailWidth` columns: row p at `tail + p * tailStride`.
    var tail: UnsafePointer<Float>?
    var tailStride: Int
    var tailWidth: Int
}

extension StripSet {
    /// Strip `index` of this set alone, covering `columns` (its tail only if it is the last).
    func strip(at index: Int, columns: Range<Int>) -> StripSet {
        let start = index * KernelConfig.tileColumns
        let full = max(0, min(fullWidth - start, KernelConfig.tileColumns))
        return StripSet(b: b + index * stripStride, ldb: ldb, stripStride: stripStride, fullWidth: full,
                        tail: full < columns.count ? tail : nil, tailStride: tailStride, tailWidth: columns.count - full)
    }
}

/// One worker's state: scratch for packed strips and edge tiles, and the loops over tiles.
private struct TileRunner {
    let config: UnsafePointer<pw_kernel_config>
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchCapacity: Int
    /// Three 6×8 tiles: C, residual, and the per-column bias, for columns past the last whole 8.
    private let edge: UnsafeMutablePointer<Float>

    init(kernels: KernelConfig) {
        config = kernels.table
        scratchCapacity = 0
        scratch = .allocate(capacity: 1)
        edge = .allocate(capacity: 3 * 48)
    }

    func release() {
        scratch.deallocate()
        edge.deallocate()
    }

    private mutating func reserveScratch(_ count: Int) {
        guard count > scratchCapacity else { return }
        scratch.deallocate()
        scratch = .allocate(capacity: count)
        scratchCapacity = count
    }

    /// Computes the block `rows`×`columns` of `problem`'s C; both ranges start on tile boundaries.
    mutating func compute(_ problem: GemmProblem, rows: Range<Int>, columns: Range<Int>, rowsOuter: Bool) {
        let mr = KernelConfig.tileRows, nr = KernelConfig.tileColumns
        let (outer, inner, tile) = rowsOuter ? (rows, columns, mr) : (columns, rows, nr)
        let block = max(tile, Gemm.outputBlockElements / max(inner.count, 1) / tile * tile)
        for outerStart in stride(from: outer.lowerBound, to: outer.upperBound, by: block) {
            let outerBlock = outerStart..<min(outerStart + block, outer.upperBound)
            for p0 in stride(from: 0, to: max(problem.k, 1), by: Gemm.depthBlock) {
                let kc = min(Gemm.depthBlock, problem.k - p0)
                let loadC = problem.accumulate || p0 > 0
                let last = p0 + kc >= problem.k
                if rowsOuter {
                    let strips = prepareStrips(problem, p0: p0, kc: kc, columns: columns)
                    for i in stride(from: outerBlock.lowerBound, to: outerBlock.upperBound, by: mr) {
                        let panelRows = min(mr, rows.upperBound - i)
                        let a = aPanel(problem, row: i, p0: p0, kc: kc)
                        var epilogue = tileEpilogue(problem, row: i, column: columns.lowerBound)
                        withUnsafePointer(to: &epilogue) { e in
                            pw_gemm_sweep_columns(
                                config, Int32(panelRows), kc, a.base, a.rowStride, a.columnStride, strips.b,
                                strips.ldb, strips.stripStride, strips.fullWidth,
                                problem.c + i * problem.ldc + columns.lowerBound, problem.ldc, loadC ? 1 : 0,
                                last ? e : nil)
                        }
                        runTail(problem, strips, row: i, rows: panelRows, column: columns.lowerBound,
                                a: a, kc: kc, loadC: loadC, last: last)
                    }
                } else {
                    for j0 in stride(from: outerBlock.lowerBound, to: outerBlock.upperBound, by: Gemm.columnBlock) {
                        let blockColumns = j0..<min(j0 + Gemm.columnBlock, outerBlock.upperBound)
                        let block = prepareStrips(problem, p0: p0, kc: kc, columns: blockColumns)
                        let a = aPanel(problem, row: rows.lowerBound, p0: p0, kc: kc)
                        for j in stride(from: blockColumns.lowerBound, to: blockColumns.upperBound, by: nr) {
                            let strips = block.strip(at: (j - j0) / nr, columns: j..<min(j + nr, blockColumns.upperBound))
                            if strips.fullWidth > 0 {
                                var epilogue = tileEpilogue(problem, row: rows.lowerBound, column: j)
                                withUnsafePointer(to: &epilogue) { e in
                                    pw_gemm_sweep_rows(
                                        config, rows.count, kc, a.base, a.rowStride, a.columnStride, a.panelStride,
                                        strips.b, strips.ldb, Int32(strips.fullWidth / 8),
                                        problem.c + rows.lowerBound * problem.ldc + j, problem.ldc, loadC ? 1 : 0,
                                        last ? e : nil)
                                }
                            }
                            if strips.tail != nil {
                                for i in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
                                    runTail(problem, strips, row: i, rows: min(mr, rows.upperBound - i), column: j,
                                            a: aPanel(problem, row: i, p0: p0, kc: kc), kc: kc, loadC: loadC, last: last)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The A panel that starts at `row`, for the k block at `p0`, and the distance to the next.
    private func aPanel(_ problem: GemmProblem, row i: Int, p0: Int, kc: Int)
        -> (base: UnsafePointer<Float>, rowStride: Int, columnStride: Int, panelStride: Int)
    {
        let mr = KernelConfig.tileRows
        switch problem.a {
        case .packed(let packed):
            return (UnsafePointer(packed.panel(depthStart: p0, depthCount: kc, index: i / mr)), 1, mr, mr * kc)
        case .view(let view):
            return (view.base + i * view.rowStride + p0 * view.columnStride, view.rowStride, view.columnStride,
                    mr * view.rowStride)
        }
    }

    /// Makes the B strips covering `columns` for the k block at `p0`: packed into contiguous,
    /// zero-padded scratch, or read in place when B rows are contiguous and so few row panels reuse
    /// the strips that the copy would cost more than it saves. (Rows of a channels-first input lie
    /// a whole image plane apart, often a multiple of 4 KiB, so a strip read in place aliases in L1
    /// and is refetched for every row panel.)
    private mutating func prepareStrips(_ problem: GemmProblem, p0: Int, kc: Int, columns: Range<Int>) -> StripSet {
        let nr = KernelConfig.tileColumns
        let tailWidth = columns.count % 8, fullWidth = columns.count - tailWidth
        let lastStrip = fullWidth / nr
        switch problem.b {
        case .packed(let packed):
            let first = UnsafePointer(packed.panel(depthStart: p0, depthCount: kc, index: columns.lowerBound / nr))
            return StripSet(b: first, ldb: nr, stripStride: nr * kc, fullWidth: fullWidth,
                            tail: tailWidth > 0 ? first + lastStrip * nr * kc + fullWidth % nr : nil,
                            tailStride: nr, tailWidth: tailWidth)
        case .view(let view) where view.columnStride == 1 && problem.m <= Gemm.inPlaceRowLimit:
            var tail: UnsafePointer<Float>? = nil
            if tailWidth > 0 {
                reserveScratch(kc * 8)
                pw_pack_strip(view.base + p0 * view.rowStride + columns.lowerBound + fullWidth, view.rowStride, 1,
                              kc, tailWidth, scratch, 8)
                tail = UnsafePointer(scratch)
            }
            return StripSet(b: view.base + p0 * view.rowStride + columns.lowerBound, ldb: view.rowStride,
                            stripStride: nr, fullWidth: fullWidth, tail: tail, tailStride: 8, tailWidth: tailWidth)
        case .view(let view):
            let count = (columns.count + nr - 1) / nr
            reserveScratch(count * kc * nr)
            pw_pack_strips(view.base + p0 * view.rowStride + columns.lowerBound * view.columnStride, view.rowStride,
                           view.columnStride, kc, columns.count, scratch)
            return StripSet(b: scratch, ldb: nr, stripStride: nr * kc, fullWidth: fullWidth,
                            tail: tailWidth > 0 ? UnsafePointer(scratch) + lastStrip * nr * kc + fullWidth % nr : nil,
                            tailStride: nr, tailWidth: tailWidth)
        }
    }

    /// The tile of the strip set's tail columns in the row panel at `row`, if there are any.
    private func runTail(
        _ problem: GemmProblem, _ strips: StripSet, row i: Int, rows: Int, column: Int,
        a: (base: UnsafePointer<Float>, rowStride: Int, columnStride: Int, panelStride: Int),
        kc: Int, loadC: Bool, last: Bool
    ) {
        guard let tail = strips.tail else { return }
        runEdgeTile(problem, row: i, rows: rows, column: column + strips.fullWidth, width: strips.tailWidth,
                    a: a.base, rsa: a.rowStride, csa: a.columnStride, b: tail, ldb: strips.tailStride,
                    kc: kc, loadC: loadC, last: last)
    }

    /// A tile narrower than 8 columns: computed 8 wide in a scratch tile (with the residual and
    /// bias it needs copied beside it), then its valid part copied out.
    private func runEdgeTile(
        _ problem: GemmProblem, row i: Int, rows: Int, column j: Int, width: Int,
        a: UnsafePointer<Float>, rsa: Int, csa: Int, b: UnsafePointer<Float>, ldb: Int,
        kc: Int, loadC: Bool, last: Bool
    ) {
        let tile = edge, residualTile = edge + 48, biasTile = edge + 96
        tile.update(repeating: 0, count: 3 * 48)
        var epilogue = tileEpilogue(problem, row: i, column: j)
        for r in 0..<rows {
            let c = problem.c + (i + r) * problem.ldc + j
            if loadC { (tile + r * 8).update(from: c, count: width) }
            if let residual = problem.epilogue.residual {
                (residualTile + r * 8).update(from: residual + (i + r) * problem.epilogue.residualStride + j,
                                              count: width)
            }
        }
        if problem.epilogue.residual != nil {
            epilogue.residual = UnsafePointer(residualTile)
            epilogue.ldr = 8
        }
        if let bias = problem.epilogue.bias, problem.epilogue.biasPerColumn {
            biasTile.update(from: bias + j, count: width)
            epilogue.bias = UnsafePointer(biasTile)
        }
        withUnsafePointer(to: &epilogue) { e in
            pw_gemm_sweep_columns(config, Int32(rows), kc, a, rsa, csa, b, ldb, 0, 8, tile, 8, loadC ? 1 : 0,
                                  last ? e : nil)
        }
        for r in 0..<rows {
            (problem.c + (i + r) * problem.ldc + j).update(from: tile + r * 8, count: width)
        }
    }

    /// The kernel epilogue of the tile whose top-left element of C is at (`row`, `column`).
    private func tileEpilogue(_ problem: GemmProblem, row: Int, column: Int) -> pw_epilogue {
        let e = problem.epilogue
        return pw_epilogue(
            bias: e.bias.map { e.biasPerColumn ? $0 + column : $0 + row },
            bias_per_column: e.biasPerColumn ? 1 : 0,
            activation: e.activation.kernelCode,
            residual: e.residual.map { $0 + row * e.residualStride + column },
            ldr: e.residualStride)
    }
}
