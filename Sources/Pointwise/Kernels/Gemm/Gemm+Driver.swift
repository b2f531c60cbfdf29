import CPointwiseKernels

extension Gemm {
    /// Runs `problems` on `threads` workers.
    ///
    /// All problems must have the same m and n (they are the images or groups of one convolution).
    /// When their outputs are disjoint and the problems share out evenly among the threads
    /// (`splitsWholeProblems`), each worker takes a contiguous share of whole problems (no operand
    /// is packed twice). Otherwise each worker owns the same tiles of every problem, so problems
    /// that accumulate into one C (a weight gradient summed over images) never race, and sum in the
    /// same order for any thread count. Disjoint problems that share one A and leave 4 to 7 columns
    /// after whole strips run those columns together (`gatheredTailWidth`). Either way every
    /// element of C goes through the same operations, so results are bit-identical for any thread
    /// count.
    static func run(
        _ problems: [GemmProblem], threads: Int, kernels: KernelConfig = .best, disjointOutputs: Bool = false
    ) {
        guard let first = problems.first, first.m > 0, first.n > 0 else { return }
        for problem in problems {
            precondition(problem.m == first.m && problem.n == first.n, "GEMM batch with mixed shapes")
        }
        let problems = problems.filter { $0.k > 0 || !$0.accumulate }
        if disjointOutputs, let width = gatheredTailWidth(problems) {
            return runGatheringTails(problems, width: width, threads: threads, kernels: kernels)
        }
        runBatch(problems, threads: threads, kernels: kernels, disjointOutputs: disjointOutputs)
    }

    /// `run` without gathering the problems' last columns: problems of one m and n, none with k = 0
    /// that accumulates.
    static func runBatch(_ problems: [GemmProblem], threads: Int, kernels: KernelConfig, disjointOutputs: Bool) {
        guard let first = problems.first else { return }
        if disjointOutputs && Self.splitsWholeProblems(count: problems.count, threads: threads) {
            let plan = Plan(m: first.m, n: first.n, threads: 1)
            Parallel.forEach(threads) { worker in
                var runner = TileRunner(kernels: kernels)
                defer { runner.release() }
                let share = problems.count * worker / threads..<problems.count * (worker + 1) / threads
                for problem in problems[share] {
                    runner.compute(problem, rows: 0..<problem.m, columns: 0..<problem.n, rowsOuter: plan.rowsOuter)
                }
            }
            return
        }
        let plan = Plan(m: first.m, n: first.n, threads: threads)
        Parallel.forEach(plan.workers) { worker in
            let range = plan.outerRange(worker: worker)
            guard !range.isEmpty else { return }
            var runner = TileRunner(kernels: kernels)
            defer { runner.release() }
            for problem in problems {
                if plan.rowsOuter {
                    runner.compute(problem, rows: range, columns: 0..<problem.n, rowsOuter: true)
                } else {
                    runner.compute(problem, rows: 0..<problem.m, columns: range, rowsOuter: false)
                }
            }
        }
    }

    /// Whether an A read in place (not packed ahead of time) is first copied into contiguous
    /// panels for a block of `columns` columns of C: when more than eight strips reread it. (On a
    /// Zen 3 core, one thread, channels-last: copying cost 480→80 and 240→80 at 14×14 7% and
    /// 672→112 5%; at 12 strips, 1152→192 at 7×7, either way took the same time; 192→1152 and
    /// 320→1280 at 7×7 were 4% faster copied.)
    static func copiesPanels(columns: Int) -> Bool {
        columns > 8 * KernelConfig.tileColumns
    }

    /// The row ranges whose A panels are packed, and swept, each on its own, with the index of each
    /// one's first panel among the block's: all of `rows`, except that a block ending in a single
    /// row (6·q + 1 rows, as a 7×7 map's 49 pixels) packs its last seven as panels of 4 and 3 rows.
    /// A 1-row tile has two FMA chains and waits on their latency, so it costs two thirds of a full
    /// tile for a sixth of the work; 4- and 3-row tiles have eight and six chains. (Each element
    /// still gets the same operations, so the bits do not change.)
    static func panelParts(_ rows: Range<Int>) -> [(rows: Range<Int>, panel: Int)] {
        let mr = KernelConfig.tileRows
        guard rows.count > mr, rows.count % mr == 1 else { return [(rows, 0)] }
        let split = rows.upperBound - 7, whole = (split - rows.lowerBound) / mr
        return (whole > 0 ? [(rows.lowerBound..<split, 0)] : [])
            + [(split..<split + 4, whole), (split + 4..<rows.upperBound, whole + 1)]
    }

    /// Whether `count` GEMMs with disjoint outputs go to `threads` workers whole: when they divide
    /// evenly, or are so many that one more for some workers matters little.
    static func splitsWholeProblems(count: Int, threads: Int) -> Bool {
        threads > 1 && count >= threads && (count % threads == 0 || count >= 4 * threads)
    }

    /// How a GEMM's output is walked and divided among workers.
    struct Plan {
        /// Register tiles are normally swept strip by strip: each B strip stays in L1 while the A
        /// panels of a row block stream past from L2, which moves less data per tile than the
        /// other way round. Row panel by row panel (each A panel in L1, the B strips from L2) only
        /// when C is taller than wide and too narrow to give every thread a few strips.
        let rowsOuter: Bool
        /// The extent of the outer dimension, and its tile size.
        let outerExtent: Int
        let outerTile: Int
        let workers: Int

        init(m: Int, n: Int, threads: Int) {
            let strips = (n + KernelConfig.tileColumns - 1) / KernelConfig.tileColumns
            rowsOuter = threads > 1 && m > n && strips < 4 * threads
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

/// The A operand of a sweep: panel q's element (i, p) at `base[q·panelStride + i·rowStride + p·columnStride]`.
private struct APanels {
    var base: UnsafePointer<Float>
    var rowStride: Int
    var columnStride: Int
    var panelStride: Int
    /// The k extent of the block.
    var depth: Int

    /// The panels from panel `index` on.
    func panels(from index: Int) -> APanels {
        APanels(base: base + index * panelStride, rowStride: rowStride, columnStride: columnStride,
                panelStride: panelStride, depth: depth)
    }

    init(base: UnsafePointer<Float>, rowStride: Int, columnStride: Int, panelStride: Int, depth: Int) {
        (self.base, self.rowStride, self.columnStride, self.panelStride, self.depth) =
            (base, rowStride, columnStride, panelStride, depth)
    }

    init(base: UnsafeMutablePointer<Float>, rowStride: Int, columnStride: Int, panelStride: Int, depth: Int) {
        self.init(base: UnsafePointer(base), rowStride: rowStride, columnStride: columnStride,
                  panelStride: panelStride, depth: depth)
    }
}

/// A growable buffer of floats, owned by one worker, starting on a 64-byte line.
private struct Scratch {
    private(set) var base = UnsafeMutablePointer<Float>.allocateOnCacheLines(1)
    private var capacity = 1

    /// Makes room for `count` floats (the contents are not kept).
    mutating func reserve(_ count: Int) {
        guard count > capacity else { return }
        base.deallocate()
        base = .allocateOnCacheLines(count)
        capacity = count
    }

    func release() { base.deallocate() }
}

/// One worker's state: scratch for packed operands, and the loops over blocks of tiles.
private struct TileRunner {
    let config: UnsafePointer<pw_kernel_config>
    /// Whether a worker's rows of a channels-first product run the strip path even when the
    /// threads split the rows (`Gemm.rowsOuterStreams`).
    let rowsOuterStream: Bool
    /// B strips (and narrow tails) packed for the current k block.
    private var strips = Scratch()
    /// A panels packed for the current k block, when A is not packed ahead of time.
    private var panels = Scratch()
    /// A block of a transposed C, before it is stored (`GemmProblem.storesTransposed`).
    private var output = Scratch()

    init(kernels: KernelConfig) {
        config = kernels.table
        rowsOuterStream = Gemm.rowsOuterStreams(kernels)
    }

    func release() {
        strips.release()
        panels.release()
        output.release()
    }

    /// Computes the block `rows`×`columns` of `problem`'s C; both ranges start on tile boundaries.
    mutating func compute(_ problem: GemmProblem, rows: Range<Int>, columns: Range<Int>, rowsOuter: Bool) {
        if problem.storesTransposed { return computeTransposed(problem, rows: rows, columns: columns) }
        if rowsOuter { return computeRowsOuter(problem, rows: rows, columns: columns) }
        computeStripByStrip(problem, rows: rows, columns: columns, copyingA: false)
    }

    /// Computes a block of a C stored transposed, a block of rows at a time: strip by strip into
    /// scratch laid out as the product (A copied into panels, as its rows are far apart), which
    /// then goes to C through register transposes and the epilogue. A block's scratch (at most
    /// `Gemm.outputBlockElements` floats) stays in L2 until it is stored.
    private mutating func computeTransposed(_ problem: GemmProblem, rows: Range<Int>, columns: Range<Int>) {
        precondition(!problem.accumulate, "a transposed C cannot accumulate")
        let tile = KernelConfig.tileRows
        let height = min(Gemm.rowBlock, max(tile, Gemm.outputBlockElements / columns.count / tile * tile))
        output.reserve(min(height, rows.count) * columns.count)
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: height) {
            let block = i0..<min(i0 + height, rows.upperBound)
            var product = problem
            product.storesTransposed = false
            product.epilogue = GemmEpilogue()
            product.ldc = columns.count
            // The scratch holds element (i, j) of the block at [(i − i0)·width + j − j0].
            product.c = output.base - (block.lowerBound * columns.count + columns.lowerBound)
            computeStripByStrip(product, rows: block, columns: columns, copyingA: true)
            withEpilogue(problem, row: columns.lowerBound, column: block.lowerBound, last: true) { epilogue in
                config.pointee.transpose_out(
                    output.base, columns.count, block.count, columns.count,
                    problem.c + columns.lowerBound * problem.ldc + block.lowerBound, problem.ldc, epilogue)
            }
        }
    }

    /// Computes the block `rows`×`columns` of C strip by strip; with `copyingA`, an A read in place
    /// is always copied into panels first.
    private mutating func computeStripByStrip(
        _ problem: GemmProblem, rows: Range<Int>, columns: Range<Int>, copyingA: Bool
    ) {
        // Strip by strip: every strip runs down all the row panels of a row block, whose A panels
        // (read once per strip) stay in L2. Columns go in blocks whose C stays in L2 across the
        // k blocks; a row block's A is packed once per k block and column block.
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: Gemm.rowBlock) {
            let blockRows = i0..<min(i0 + Gemm.rowBlock, rows.upperBound)
            let width = max(KernelConfig.tileColumns,
                            Gemm.outputBlockElements / blockRows.count / KernelConfig.tileColumns * KernelConfig.tileColumns)
            for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: width) {
                let blockColumns = j0..<min(j0 + width, columns.upperBound)
                for depth in Gemm.depthBlocks(problem.k) {
                    let loadC = problem.accumulate || depth.lowerBound > 0, last = depth.upperBound >= problem.k
                    let copies = copyingA || Gemm.copiesPanels(columns: blockColumns.count)
                    if case .view(let view) = problem.b, view.columnStride == 1 {
                        let a = copies ? packPanels(problem, rows: blockRows, depth: depth, inParts: false).a
                            : aPanels(problem, row: blockRows.lowerBound, depth: depth)
                        stream(problem, view: view, a: a, depth: depth, rows: blockRows, columns: blockColumns,
                               loadC: loadC, last: last)
                        continue
                    }
                    let (a, parts) = copies ? packPanels(problem, rows: blockRows, depth: depth, inParts: true)
                        : (aPanels(problem, row: blockRows.lowerBound, depth: depth), [(blockRows, 0)])
                    for c0 in stride(from: j0, to: blockColumns.upperBound, by: Gemm.columnBlock) {
                        let packColumns = c0..<min(c0 + Gemm.columnBlock, blockColumns.upperBound)
                        let strips = prepareStrips(problem, depth: depth, columns: packColumns)
                        for part in parts {
                            sweep(problem, strips, a: a.panels(from: part.panel), rows: part.rows, column: c0,
                                  loadC: loadC, last: last, rowsOuter: false)
                        }
                    }
                }
            }
        }
    }

    /// Row panel by row panel, for a C too narrow to share out by strips: the B strips of each k
    /// block are packed once and every row panel of a block of rows runs across them.
    private mutating func computeRowsOuter(_ problem: GemmProblem, rows: Range<Int>, columns: Range<Int>) {
        if rowsOuterStream, case .view(let view) = problem.b, view.columnStride == 1 {
            return computeStripByStrip(problem, rows: rows, columns: columns, copyingA: false)
        }
        let tile = KernelConfig.tileRows
        let height = max(tile, Gemm.outputBlockElements / max(columns.count, 1) / tile * tile)
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: height) {
            let blockRows = i0..<min(i0 + height, rows.upperBound)
            for depth in Gemm.depthBlocks(problem.k) {
                let strips = prepareStrips(problem, depth: depth, columns: columns)
                sweep(problem, strips, a: aPanels(problem, row: blockRows.lowerBound, depth: depth), rows: blockRows,
                      column: columns.lowerBound, loadC: problem.accumulate || depth.lowerBound > 0,
                      last: depth.upperBound >= problem.k, rowsOuter: true)
            }
        }
    }

    /// Runs every tile of `rows` over a strip set whose first column is `column`, in one call;
    /// `a` holds the A panels of `rows`.
    private func sweep(
        _ problem: GemmProblem, _ strips: pw_strips, a: APanels, rows: Range<Int>, column: Int,
        loadC: Bool, last: Bool, rowsOuter: Bool
    ) {
        var strips = strips
        withEpilogue(problem, row: rows.lowerBound, column: column, last: last) { epilogue in
            config.pointee.sweep(
                rowsOuter ? 1 : 0, rows.count, a.depth, a.base, a.rowStride, a.columnStride, a.panelStride, &strips,
                problem.c + rows.lowerBound * problem.ldc + column, problem.ldc, loadC ? 1 : 0, epilogue)
        }
    }

    /// Runs `columns` of C reading B (rows contiguous in memory, a channels-first image) as it
    /// streams past: with few rows or a shallow k (`Gemm.streams`), blocks of columns straight
    /// from B by the streaming kernel; otherwise strip by strip, each 16-column strip copied into
    /// L1 just before every row panel runs over it.
    private mutating func stream(
        _ problem: GemmProblem, view: MatrixView, a: APanels, depth: Range<Int>, rows: Range<Int>,
        columns: Range<Int>, loadC: Bool, last: Bool
    ) {
        let fullWidth = columns.count - columns.count % 8
        let b = view.base + depth.lowerBound * view.rowStride + columns.lowerBound
        let c = problem.c + rows.lowerBound * problem.ldc + columns.lowerBound
        let streams = Gemm.streams(m: problem.m, n: problem.n, k: problem.k)
        // One column after whole strips (a 7×7 map's 49th pixel) rides along in the strip path's
        // last strip (`gemm_tile_column`) rather than reading all of A again in a pass of its own:
        // on a Zen 3 core, one thread, best of 8 interleaved rounds at 7×7, 960→160 0.172 → 0.165 ms,
        // 320→1280 0.451 → 0.434, 1152→192 0.243 → 0.234, 672→112 0.085 → 0.083.
        let lastColumn = !streams && Gemm.stripsCarryLastColumn(columns: columns.count)
            && pw_sweep_tail_by_column(1, a.rowStride, a.columnStride, a.panelStride, depth.count) != 0
        strips.reserve(pw_stream_strips_scratch_floats(depth.count))
        if fullWidth > 0 {
            withEpilogue(problem, row: rows.lowerBound, column: columns.lowerBound, last: last) { epilogue in
                if streams {
                    config.pointee.stream_rows(
                        rows.count, depth.count, a.base, a.rowStride, a.columnStride, a.panelStride, b, view.rowStride,
                        fullWidth, c, problem.ldc, loadC ? 1 : 0, epilogue)
                } else {
                    config.pointee.stream_strips(
                        rows.count, depth.count, a.base, a.rowStride, a.columnStride, a.panelStride, b,
                        view.rowStride, fullWidth, c, problem.ldc, loadC ? 1 : 0, epilogue, strips.base,
                        Gemm.prefetchDistance, lastColumn ? 1 : 0)
                }
            }
        }
        guard fullWidth < columns.count, !lastColumn else { return }
        let tailWidth = columns.count - fullWidth
        // A tail of up to three columns run down the panels reads only its own columns, so it reads
        // them in place (a 7×7 map's 49th pixel; one Zen 3 core, best of 12 interleaved rounds:
        // 960→160 0.173 → 0.169 ms, 672→112 0.088 → 0.085 ms); edge tiles read 8 columns, so a
        // wider tail is copied into a zero-padded strip first.
        let tail: pw_strips
        if pw_sweep_tail_by_column(Int32(tailWidth), a.rowStride, a.columnStride, a.panelStride, depth.count) != 0 {
            tail = pw_strips(b: b + fullWidth, ldb: view.rowStride, stride: 0, width: 0, tail: b + fullWidth,
                             tail_ldb: view.rowStride, tail_width: Int32(tailWidth))
        } else {
            pw_pack_strip(b + fullWidth, view.rowStride, 1, depth.count, tailWidth, strips.base, 8)
            tail = pw_strips(b: strips.base, ldb: 8, stride: 0, width: 0, tail: strips.base, tail_ldb: 8,
                             tail_width: Int32(tailWidth))
        }
        sweep(problem, tail, a: a, rows: rows, column: columns.lowerBound + fullWidth, loadC: loadC, last: last,
              rowsOuter: false)
    }

    /// The A panels from `row` on, for the k block `depth`, where they already are.
    private func aPanels(_ problem: GemmProblem, row i: Int, depth: Range<Int>) -> APanels {
        let mr = KernelConfig.tileRows
        switch problem.a {
        case .packed(let packed):
            return APanels(base: packed.panel(depthStart: depth.lowerBound, depthCount: depth.count, index: i / mr),
                           rowStride: 1, columnStride: mr, panelStride: mr * depth.count, depth: depth.count)
        case .view(let view):
            return APanels(base: view.base + i * view.rowStride + depth.lowerBound * view.columnStride,
                           rowStride: view.rowStride, columnStride: view.columnStride, panelStride: mr * view.rowStride,
                           depth: depth.count)
        }
    }

    /// The A panels of `rows` for the k block `depth`, copied into contiguous panels first when A
    /// is a view (its rows or columns may lie far apart), since every strip reads them again, and
    /// the row ranges to sweep on their own with the index of each one's first panel: with
    /// `inParts`, each of `Gemm.panelParts(rows)` is copied into panels of its own.
    private mutating func packPanels(
        _ problem: GemmProblem, rows: Range<Int>, depth: Range<Int>, inParts: Bool
    ) -> (a: APanels, parts: [(rows: Range<Int>, panel: Int)]) {
        guard case .view(let view) = problem.a else {
            return (aPanels(problem, row: rows.lowerBound, depth: depth), [(rows, 0)])
        }
        let mr = KernelConfig.tileRows
        panels.reserve((rows.count + mr - 1) / mr * mr * depth.count)
        let parts = inParts ? Gemm.panelParts(rows) : [(rows, 0)]
        for part in parts {
            let source = view.base + part.rows.lowerBound * view.rowStride + depth.lowerBound * view.columnStride
            let target = panels.base + part.panel * mr * depth.count
            if view.columnStride == 1 {
                config.pointee.pack_panels(source, view.rowStride, part.rows.count, depth.count, target)
            } else if view.rowStride == 1 {
                config.pointee.pack_columns(source, view.columnStride, part.rows.count, depth.count, target)
            } else {
                pw_pack_panels(source, view.rowStride, view.columnStride, part.rows.count, depth.count, target)
            }
        }
        return (APanels(base: panels.base, rowStride: 1, columnStride: mr, panelStride: mr * depth.count,
                        depth: depth.count), parts)
    }

    /// Makes the B strips covering `columns` for the k block `depth`: those of a packed B where
    /// they lie, else packed into contiguous, zero-padded scratch. (A channels-first B goes through
    /// `stream` instead.)
    private mutating func prepareStrips(_ problem: GemmProblem, depth: Range<Int>, columns: Range<Int>) -> pw_strips {
        let nr = KernelConfig.tileColumns, kc = depth.count
        let tailWidth = columns.count % 8, fullWidth = columns.count - tailWidth
        let lastStrip = fullWidth / nr
        switch problem.b {
        case .packed(let packed):
            let first = UnsafePointer(packed.panel(depthStart: depth.lowerBound, depthCount: kc,
                                                   index: columns.lowerBound / nr))
            return pw_strips(b: first, ldb: nr, stride: nr * kc, width: fullWidth,
                             tail: first + lastStrip * nr * kc + fullWidth % nr, tail_ldb: nr,
                             tail_width: Int32(tailWidth))
        case .view(let view):
            strips.reserve((columns.count + nr - 1) / nr * kc * nr)
            let source = view.base + depth.lowerBound * view.rowStride + columns.lowerBound * view.columnStride
            if view.rowStride == 1 {
                config.pointee.pack_transposed(source, view.columnStride, kc, columns.count, strips.base)
            } else if view.columnStride == 1 {
                config.pointee.pack_rows(source, view.rowStride, kc, columns.count, strips.base)
            } else {
                pw_pack_strips(source, view.rowStride, view.columnStride, kc, columns.count, strips.base)
            }
            return pw_strips(b: strips.base, ldb: nr, stride: nr * kc, width: fullWidth,
                             tail: strips.base + lastStrip * nr * kc + fullWidth % nr, tail_ldb: nr,
                             tail_width: Int32(tailWidth))
        }
    }

    /// Calls `body` with the kernel epilogue of the tile whose top-left element of C is at
    /// (`row`, `column`) when this is the `last` k block, else with nil (no epilogue yet).
    private func withEpilogue(
        _ problem: GemmProblem, row: Int, column: Int, last: Bool, _ body: (UnsafePointer<pw_epilogue>?) -> Void
    ) {
        guard last else { return body(nil) }
        let e = problem.epilogue
        var epilogue = pw_epilogue(
            bias: e.bias.map { e.biasPerColumn ? $0 + column : $0 + row },
            bias_per_column: e.biasPerColumn ? 1 : 0,
            activation: e.activation.kernelCode,
            residual: e.residual.map { $0 + row * e.residualStride + column },
            ldr: e.residualStride)
        withUnsafePointer(to: &epilogue) { body($0) }
    }
}
