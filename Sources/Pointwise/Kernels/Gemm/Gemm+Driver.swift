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

/// A B strip of up to 16 columns for one k block, ready for the microkernels.
private struct Strip {
    var column: Int
    var width: Int
    /// Row p of the strip's first `width & ~7` columns is at `b + p * ldb`.
    var b: UnsafePointer<Float>
    var ldb: Int
    /// The last `width % 8` columns, zero-padded to 8: row p at `tail + p * tailStride`.
    var tail: UnsafePointer<Float>?
    var tailStride: Int
}

/// One worker's state: scratch for packed strips and edge tiles, and the tile loops.
private struct TileRunner {
    let kernels: [pw_gemm_kernel]
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchCapacity: Int
    /// Three 6×8 tiles: C, residual, and the per-column bias, for columns past the last whole 8.
    private let edge: UnsafeMutablePointer<Float>
    private var strips: [Strip] = []

    init(kernels config: KernelConfig) {
        kernels = (1...KernelConfig.tileRows).flatMap { rows in
            [config.gemm(rows: rows, vectors: 1), config.gemm(rows: rows, vectors: 2)]
        }
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
                    prepareStrips(problem, p0: p0, kc: kc, columns: columns)
                    for i in stride(from: outerBlock.lowerBound, to: outerBlock.upperBound, by: mr) {
                        for s in strips.indices {
                            runTiles(problem, row: i, rows: min(mr, rows.upperBound - i), strip: strips[s],
                                     p0: p0, kc: kc, loadC: loadC, last: last)
                        }
                    }
                } else {
                    for j in stride(from: outerBlock.lowerBound, to: outerBlock.upperBound, by: nr) {
                        prepareStrips(problem, p0: p0, kc: kc, columns: j..<min(j + nr, columns.upperBound))
                        for i in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
                            runTiles(problem, row: i, rows: min(mr, rows.upperBound - i), strip: strips[0],
                                     p0: p0, kc: kc, loadC: loadC, last: last)
                        }
                    }
                }
            }
        }
    }

    /// Makes the B strips covering `columns` for the k block at `p0`: in place when B rows are
    /// contiguous, else packed into scratch (zero-padded), with the columns past the last whole
    /// vector always padded so the 8-wide kernel can read them.
    private mutating func prepareStrips(_ problem: GemmProblem, p0: Int, kc: Int, columns: Range<Int>) {
        let nr = KernelConfig.tileColumns
        let count = (columns.count + nr - 1) / nr
        strips.removeAll(keepingCapacity: true)
        switch problem.b {
        case .packed(let packed):
            for s in 0..<count {
                let column = columns.lowerBound + s * nr
                let panel = UnsafePointer(packed.panel(depthStart: p0, depthCount: kc, index: column / nr))
                let width = min(nr, columns.upperBound - column)
                strips.append(Strip(column: column, width: width, b: panel, ldb: nr,
                                    tail: panel + width / 8 * 8, tailStride: nr))
            }
        case .view(let view) where view.columnStride == 1:
            let lastWidth = columns.count - (count - 1) * nr
            let needsTail = lastWidth % 8 != 0
            if needsTail { reserveScratch(kc * 8) }
            for s in 0..<count {
                let column = columns.lowerBound + s * nr
                let width = min(nr, columns.upperBound - column)
                var tail: UnsafePointer<Float>? = nil
                if width % 8 != 0 {
                    let full = width / 8 * 8
                    Gemm.packStrip(view, row: p0, column: column + full, depth: kc, width: width - full,
                                   into: scratch, targetStride: 8)
                    tail = UnsafePointer(scratch)
                }
                strips.append(Strip(column: column, width: width, b: view.base + p0 * view.rowStride + column,
                                    ldb: view.rowStride, tail: tail, tailStride: 8))
            }
        case .view(let view):
            reserveScratch(count * kc * nr)
            for s in 0..<count {
                let column = columns.lowerBound + s * nr
                let width = min(nr, columns.upperBound - column)
                let target = scratch + s * kc * nr
                Gemm.packStrip(view, row: p0, column: column, depth: kc, width: width,
                               into: target, targetStride: nr)
                strips.append(Strip(column: column, width: width, b: target, ldb: nr,
                                    tail: target + width / 8 * 8, tailStride: nr))
            }
        }
    }

    /// Runs the register tiles of one row panel × one strip.
    private func runTiles(
        _ problem: GemmProblem, row i: Int, rows: Int, strip: Strip, p0: Int, kc: Int, loadC: Bool, last: Bool
    ) {
        let (a, rsa, csa): (UnsafePointer<Float>, Int, Int)
        switch problem.a {
        case .packed(let packed):
            let panel = packed.panel(depthStart: p0, depthCount: kc, index: i / KernelConfig.tileRows)
            (a, rsa, csa) = (UnsafePointer(panel), 1, KernelConfig.tileRows)
        case .view(let view):
            (a, rsa, csa) = (view.base + i * view.rowStride + p0 * view.columnStride,
                             view.rowStride, view.columnStride)
        }
        let full = strip.width / 8 * 8
        if full > 0 {
            let kernel = kernels[(rows - 1) * 2 + full / 8 - 1]
            let c = problem.c + i * problem.ldc + strip.column
            var epilogue = tileEpilogue(problem, row: i, column: strip.column)
            withUnsafePointer(to: &epilogue) { e in
                kernel(kc, a, rsa, csa, strip.b, strip.ldb, c, problem.ldc, loadC ? 1 : 0, last ? e : nil)
            }
        }
        if full < strip.width, let tail = strip.tail {
            runEdgeTile(problem, row: i, rows: rows, column: strip.column + full, width: strip.width - full,
                        a: a, rsa: rsa, csa: csa, b: tail, ldb: strip.tailStride, kc: kc, loadC: loadC, last: last)
        }
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
            kernels[(rows - 1) * 2](kc, a, rsa, csa, b, ldb, tile, 8, loadC ? 1 : 0, last ? e : nil)
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
