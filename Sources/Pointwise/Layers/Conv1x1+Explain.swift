extension Conv1x1 {
    /// A description of how `options` would run this convolution on an input of `shape` in
    /// `layout`: the kernels, the GEMM each image and group becomes, tiles, blocking and threads.
    /// - Parameters:
    ///   - shape: `[N, Cin, *spatial]`, the logical shape whatever the layout.
    ///   - tile: for an input streamed a piece at a time, the piece each GEMM runs on (`[1, Cin,
    ///     pixels]`); the first line then names the whole input and the tile.
    ///   - layout: the input's memory order.
    ///   - options: the algorithm, threads and kernels it would run with.
    /// - Throws: `ConvolutionError` when `shape` is not a tensor's shape or the thread count is out of range.
    public func explanation(
        forInput shape: [Int], streamedAs tile: [Int]? = nil, layout: Layout, options: ExecutionOptions
    ) throws(ConvolutionError) -> String {
        let wholeOutput = try outputShape(forInput: shape), whole = "\(shape) → \(wholeOutput)"
        let threads = try options.validatedThreads()
        let output = try tile.map { shape throws(ConvolutionError) in try outputShape(forInput: shape) } ?? wholeOutput
        let shape = tile ?? shape
        let shapes = tile == nil ? whole : "\(whole), streamed in tiles of \(shape) → \(output)"
        var lines = ["conv1x1: \(shapes), \(layout), groups \(groups), stride \(stride), "
                     + "bias \(bias == nil ? "no" : "yes"), activation \(activation)"]
        guard options.algorithm == .fast else {
            lines.append("algorithm: reference — the definition's loops, one output at a time, in double precision "
                         + "(the test oracle; slow on purpose)")
            return lines.joined(separator: "\n")
        }
        let pixels = output.dropFirst(2).reduce(1, *), images = shape[0]
        let transposed = layout == .channelsFirst
            && Gemm.transposesChannelsFirst(outputs: groupOutputs, pixels: pixels, inputs: groupInputs,
                                            images: images, groups: groups)
        let (m, n, k) = transposed ? (pixels, groupOutputs, groupInputs)
            : layout == .channelsFirst ? (groupOutputs, pixels, groupInputs) : (images * pixels, groupOutputs, groupInputs)
        // When the GEMMs (images × groups) share out evenly among the threads, each runs whole ones.
        let problems = layout == .channelsFirst ? images * groups : groups
        let wholeProblems = Gemm.splitsWholeProblems(count: problems, threads: threads)
        let plan = Gemm.Plan(m: m, n: n, threads: wholeProblems ? 1 : threads)
        // A channels-first image streamed past the weight panels runs on the streaming kernel or
        // strip by strip (the driver's `stream`).
        // With AVX-512, threads that split the rows still run the strip path over their own rows.
        let rowsStream = plan.rowsOuter && layout == .channelsFirst && !transposed
            && Gemm.rowsOuterStreams(options.kernels)
        let sweepsRows = plan.rowsOuter && !rowsStream
        let streamed = layout == .channelsFirst && !transposed && !sweepsRows
        let streaming = streamed && Gemm.streams(m: m, n: n, k: k)
        let wide = options.kernels.copiesStripPairs
        lines.append("kernels: \(options.kernels.name) (\(options.kernels.instructionSet)), register tiles up to "
                     + "\(KernelConfig.tileRows)×\(KernelConfig.tileColumns * (wide ? 2 : 1))"
                     + (wide ? " (16-lane vectors, two 16-column strips at once)" : ""))
        if transposed {
            lines.append("gemm: per image and group, as its transpose Yᵀ[\(m)×\(n)] = Xᵀ[\(m)×\(k)] · Wᵀ[\(k)×\(n)] — "
                         + "the \(pixels) pixels would leave a \(pixels % 8)-column edge tile on every row panel of "
                         + "Y = W·X, so the output channels run across the strips instead: input copied per k block "
                         + "into 6-pixel panels, weights packed once into 16-column panels, each block of Yᵀ "
                         + "transposed into Y (8×8 register transposes) with the epilogue")
        } else if layout == .channelsFirst {
            let input: String
            if sweepsRows {
                input = "input packed once per k block into 16-pixel strips that every row panel reuses from L2"
            } else if streaming {
                let why = Gemm.streamsMemoryBound(m: m, k: k)
                    ? "≤ \(Gemm.streamingRowLimit) output or ≤ \(Gemm.streamingDepthLimit) input channels per group"
                    : "≤ \(Gemm.cachedStreamingRowLimit) output channels per group and an input of at most "
                        + "\(Gemm.cachedStreamingBytes >> 20) MiB per image and group, read from cache"
                input = "streaming kernel (\(why)): the input is read where it lies, in blocks of up to 256 pixels "
                    + "(as many as 16 KiB of input holds), every row panel with the whole Cin loop over a block "
                    + "(no packing, no tile bookkeeping)"
            } else {
                input = "input streamed \(wide ? 32 : 16) pixels at a time (prefetched four strips ahead): "
                    + (m <= Gemm.stripFusedRows
                        ? "the first row panel's tile copies each strip into L1 as it reads it (≤ "
                          + "\(Gemm.stripFusedRows) output channels), and the other row panels run over the copy"
                        : "each strip copied into L1 just before all row panels run over it")
            }
            lines.append("gemm: per image and group, Y[\(m)×\(n)] = W[\(m)×\(k)] · X[\(k)×\(n)] — weights packed once "
                         + "into 6-row panels; \(input)")
        } else {
            let input = Gemm.copiesPanels(columns: n)
                ? "input copied per k block into 6-pixel panels (8×8 register transposes), since every strip rereads it"
                : "input read in place (each pixel's channels are contiguous)"
            lines.append("gemm: per group over all images, Y[\(m)×\(n)] = X[\(m)×\(k)] · Wᵀ[\(k)×\(n)] — \(input), "
                         + "weights packed once into 16-column panels")
        }
        let blocks = Gemm.depthBlocks(k), deepest = blocks.map(\.count).max() ?? 0
        lines.append("blocking: k = \(k) in \(blocks.count) block\(blocks.count == 1 ? "" : "s") of up to \(deepest) "
                     + "(a 16-column B strip that deep is \(deepest * 64 / 1024) KiB, in L1); "
                     + (sweepsRows && !transposed
                        ? "sweeping row panels outermost (C is taller than wide and too narrow to give each thread a few strips)"
                        : "sweeping column strips outermost, each strip in L1 while the "
                          + (layout == .channelsFirst && !transposed ? "weight" : "input") + " panels of up to "
                          + "\(Gemm.rowBlock) rows stream past from L2"))
        let gathers = layout == .channelsFirst && !transposed
            && Gemm.gathersChannelsFirstTails(outputs: m, pixels: n, inputs: k, images: images, groups: groups)
        let panelsPacked = layout == .channelsFirst || Gemm.copiesPanels(columns: n)
        let rowsInParts = transposed || layout == .channelsLast && Gemm.copiesPanels(columns: n) && !plan.rowsOuter
        lines.append("edges: " + Self.edges(m: m, n: n, panelsPacked: panelsPacked, weightStrips: transposed || layout == .channelsLast,
                                            rowsInParts: rowsInParts, stripPath: streamed && !streaming,
                                            streaming: streaming, wide: wide,
                                            gatheredImages: gathers ? images : nil))
        lines.append("epilogue: " + (transposed ? "fused in the transposing store" : "fused in the register tile")
                     + ": bias\(bias == nil ? " (none)" : ""), residual, \(activation)")
        if wholeProblems {
            lines.append("threads: \(threads), each owning a contiguous share of the \(problems) GEMMs "
                         + "(results bit-identical for any count)")
        } else {
            lines.append("threads: \(plan.workers) of \(threads) requested, each owning a contiguous range of "
                         + (plan.rowsOuter ? "row panels" : "column strips")
                         + (rowsStream ? ", each copying the strips it reads" : "") + " (results bit-identical for any count)")
        }
        if stride > 1 { lines.append("stride: the input is first subsampled to the output grid, then convolved") }
        let memoryBound = groupInputs <= 16 || groupOutputs <= 16
        lines.append("bound: " + (memoryBound
            ? "memory (Cin or Cout ≤ 16): few flops per byte, so the time is the input and output streaming once"
            : "compute: \(2 * m * n * k * groups * (layout == .channelsFirst ? images : 1)) flops over "
              + "\(4 * (shape.reduce(1, *) + output.reduce(1, *))) bytes"))
        return lines.joined(separator: "\n")
    }

    /// How the tiles at the edges of an m×n C are run: the rule of the kernels' `sweep` (kernels.inc)
    /// over A packed in panels or read in place, and B as packed weight strips (`weightStrips`)
    /// or an image streamed past, of `Gemm.panelParts` when the driver packs A (`rowsInParts`), and
    /// of the kernels' `stream_strips` for an image streamed strip by strip (`stripPath`), and of
    /// `stream_rows` for one read in blocks of columns by the streaming kernel (`streaming`); `wide`
    /// for the AVX-512 kernels, whose 16-lane tiles need neither the 4 + 4 split nor the 8-lane
    /// kernels' 32-column blocks for a last panel of one or two rows; `gatheredImages`, the images
    /// whose last columns are run together (`Gemm.gatheredTailWidth`), if they are.
    static func edges(m: Int, n: Int, panelsPacked: Bool, weightStrips: Bool, rowsInParts: Bool,
                      stripPath: Bool, streaming: Bool, wide: Bool = false, gatheredImages: Int? = nil) -> String {
        let (mr, nr) = (KernelConfig.tileRows, KernelConfig.tileColumns)
        var parts: [String] = []
        if n % nr >= 8 && n >= nr + 8 && weightStrips && !(m == 1 && panelsPacked) {
            parts.append("the last 24 of the \(n) columns (the last whole strip and an 8-column one) in 3×24 tiles "
                         + "down all the rows (nine accumulators, where a \(mr)×8 tile would wait on its loads)")
        } else if n % nr >= 8 {
            parts.append("an 8-column strip after \(n / nr)×\(nr) columns")
        }
        switch n % 8 {
        case 0: break
        case 1 where stripPath && wide && n == 49 && panelsPacked:
            // AVX-512's `stream_strips` with `last_column` over 48 columns (`wide_tile_48_column`).
            parts.append("all 49 columns in one \(mr)×48 tile per row panel (16-lane vectors), each panel's rows "
                         + "of the 49th in one 8-lane vector's lanes")
        case 1 where stripPath && Gemm.stripsCarryLastColumn(columns: n):
            // `stream_strips` with `last_column` (`gemm_tile_column`).
            parts.append("the last of the \(n) columns computed inside the last strip's full \(mr)×\(nr) tiles, each "
                         + "panel's \(mr) rows of it in one vector's lanes (a 13th FMA per k step on A already in "
                         + "registers); rows no full tile covers run down the panels after it")
        case let tail where tail <= 3 && panelsPacked:
            let panels = [1: 8, 2: 4, 3: 3][tail]!
            parts.append("the last \(tail) of the \(n) columns run down \(panels) row panels at a time, each panel's "
                         + "\(mr) rows of a column in one vector's lanes (\(tail) FMA\(tail == 1 ? "" : "s") per panel and k "
                         + "instead of a \(mr)×8 edge tile's \(mr))")
        case let tail where gatheredImages != nil:
            let images = gatheredImages!, columns = min(images, Gemm.gatheredProblemsPerProduct(width: tail)) * tail
            parts.append("the last \(tail) of the \(n) columns of all \(images) images copied side by side into "
                         + "products of \(columns) columns, run in whole strips and copied back (rather than an 8-wide "
                         + "edge tile per row panel and image, \(8 - tail) of its 8 columns computed and dropped)")
        case let tail:
            parts.append("the last \(tail) of the \(n) columns in an 8-wide edge tile per row panel "
                         + "(\(8 - tail) of its 8 columns computed and dropped)")
        }
        if rowsInParts && m > mr && m % mr == 1 {
            parts.append("the last 7 of the \(m) rows in panels of 4 and 3, each swept on its own (a 1-row tile "
                         + "would wait on its two FMA chains)")
        } else if stripPath && !wide && m % mr == 2 && m % Gemm.rowBlock >= 8 {
            parts.append("the last 8 of the \(m) rows as two tiles of 4 (a last row panel of 2 would wait on its "
                         + "four FMA chains)")
        } else if streaming && !wide && m % mr <= 2 && m % mr > 0 && n - n % 8 >= 2 * nr {
            // `stream_rows` runs a panel of one or two rows over blocks of 32 columns (`stream_block_wide`).
            let rows = m % mr
            parts.append("a last row panel of \(rows) of the \(m) rows, 32 columns at a time (\(4 * rows) FMA chains, "
                         + "where 16 columns would give \(2 * rows))")
        } else if m % mr != 0 {
            parts.append("a last row panel of \(m % mr) of the \(m) rows")
        }
        return parts.isEmpty ? "none: \(m) rows and \(n) columns fill whole \(mr)×\(nr) tiles"
                             : parts.joined(separator: "; ")
    }
}
