import CPointwiseKernels

extension Gemm {
    /// The columns of each problem that a batch leaves to one gathered product, or nil when the
    /// batch runs as it is.
    ///
    /// A channels-first convolution runs one product per image, Y = W·X over the image's pixels in
    /// 16-column strips. When 4 to 7 pixels are left over (a 14×14 map: 196 = 12·16 + 4), every row
    /// panel of every image ends in an 8-wide edge tile that computes twice the columns it keeps on
    /// six FMA chains, too few to hide their latency: on a training batch of 32 such images, a
    /// tenth of the time for 2% of the work. So when the images share one packed A (one weight
    /// matrix, one group), each runs its whole strips as before and the last columns of all of
    /// them are copied side by side into one B, run as whole strips of their own and copied back.
    /// (Odd square maps leave one pixel, which rides along in the last strip, and the other even
    /// ones none.) Every element still goes through the same operations, so the bits do not
    /// change, whatever the thread count.
    static func gatheredTailWidth(_ problems: [GemmProblem]) -> Int? {
        guard let first = problems.first, case .packed(let a) = first.a, !first.storesTransposed,
              gathersTails(count: problems.count, m: first.m, n: first.n, k: first.k)
        else { return nil }
        let epilogue = first.epilogue
        for problem in problems {
            guard case .packed(let other) = problem.a, other === a, case .view(let b) = problem.b,
                  b.columnStride == 1, problem.k == first.k, problem.accumulate == first.accumulate,
                  !problem.storesTransposed, problem.epilogue.bias == epilogue.bias,
                  !problem.epilogue.biasPerColumn, problem.epilogue.activation == epilogue.activation,
                  (problem.epilogue.residual == nil) == (epilogue.residual == nil)
            else { return nil }
        }
        return first.n % 8
    }

    /// Whether `count` products of C m×n and depth k, each with B read in place and all sharing one
    /// packed A, run their last columns gathered (`gatheredTailWidth`): more than one, leaving 4 to
    /// 7 columns after whole strips, on the strip path (not the streaming kernel's).
    static func gathersTails(count: Int, m: Int, n: Int, k: Int) -> Bool {
        count > 1 && n % 8 >= 4 && !streams(m: m, n: n, k: k)
    }

    /// Whether a channels-first convolution's products per image (`outputs` × `pixels`, `inputs`
    /// deep) run their last columns gathered: with one group (so one weight matrix, one packed A
    /// for every image), under `gathersTails`.
    static func gathersChannelsFirstTails(outputs: Int, pixels: Int, inputs: Int, images: Int, groups: Int) -> Bool {
        groups == 1 && gathersTails(count: images, m: outputs, n: pixels, k: inputs)
    }

    /// How many problems' last `width` columns one gathered product takes: as many as fit in
    /// `columnBlock` columns, at least one.
    static func gatheredProblemsPerProduct(width: Int) -> Int {
        max(1, columnBlock / width)
    }

    /// Runs `problems` (see `gatheredTailWidth`) with their last `width` columns gathered: their
    /// whole strips as a batch, then the gathered columns of up to `columnBlock` at a time.
    static func runGatheringTails(
        _ problems: [GemmProblem], width: Int, threads: Int, kernels: KernelConfig
    ) {
        let first = problems[0], whole = first.n - width
        if whole > 0 {
            runBatch(problems.map { var part = $0; part.n = whole; return part }, threads: threads,
                     kernels: kernels, disjointOutputs: true)
        }
        let perBlock = gatheredProblemsPerProduct(width: width)
        let columns = min(problems.count, perBlock) * width
        let hasResidual = first.epilogue.residual != nil
        let b = UnsafeMutablePointer<Float>.allocateOnCacheLines(first.k * columns)
        let c = UnsafeMutablePointer<Float>.allocateOnCacheLines(first.m * columns)
        let residual = hasResidual ? UnsafeMutablePointer<Float>.allocateOnCacheLines(first.m * columns) : nil
        defer {
            b.deallocate()
            c.deallocate()
            residual?.deallocate()
        }
        for q0 in stride(from: 0, to: problems.count, by: perBlock) {
            let block = problems[q0..<min(q0 + perBlock, problems.count)]
            let blockColumns = block.count * width
            for (q, problem) in zip(0..., block) {
                guard case .view(let source) = problem.b else { continue }
                copyColumns(rows: first.k, width: width, from: source.base + whole, stride: source.rowStride,
                            to: b + q * width, stride: blockColumns)
                if problem.accumulate {
                    copyColumns(rows: first.m, width: width, from: problem.c + whole, stride: problem.ldc,
                                to: c + q * width, stride: blockColumns)
                }
                if let residual, let source = problem.epilogue.residual {
                    copyColumns(rows: first.m, width: width, from: source + whole,
                                stride: problem.epilogue.residualStride, to: residual + q * width, stride: blockColumns)
                }
            }
            var gathered = first
            gathered.n = blockColumns
            gathered.b = .view(MatrixView(base: b, rowStride: blockColumns, columnStride: 1))
            gathered.c = c
            gathered.ldc = blockColumns
            gathered.epilogue.residual = residual.map { UnsafePointer($0) }
            gathered.epilogue.residualStride = blockColumns
            runBatch([gathered], threads: threads, kernels: kernels, disjointOutputs: true)
            for (q, problem) in zip(0..., block) {
                copyColumns(rows: first.m, width: width, from: c + q * width, stride: blockColumns,
                            to: problem.c + whole, stride: problem.ldc)
            }
        }
    }

    /// Copies `width` (at most 7) columns of `rows` rows from one matrix to another, element by
    /// element (a call to `memmove` per row of so few floats cost more than the copy).
    private static func copyColumns(
        rows: Int, width: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
        to target: UnsafeMutablePointer<Float>, stride targetStride: Int
    ) {
        for i in 0..<rows {
            let (from, to) = (source + i * sourceStride, target + i * targetStride)
            for j in 0..<width { to[j] = from[j] }
        }
    }
}
