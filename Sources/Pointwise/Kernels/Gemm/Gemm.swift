import CPointwiseKernels

/// The blocked matrix multiply that every 1×1 convolution (forward and backward) runs on:
/// C (=|+=) A·B, then an epilogue (bias, residual, activation), with A m×k, B k×n, C m×n.
///
/// The microkernels only run the k loop over one register tile; this driver owns everything else:
/// cache blocking over k, the order of the tile loops, packing where an operand cannot be read in
/// place, edge tiles and the split across threads. Every output element is computed by the same
/// sequence of operations whatever the thread count, so results are bit-identical for any count.
enum Gemm {
    /// The greatest depth of one k block: a 16-column B strip this deep (20 KiB) and a 6-row A panel
    /// (7.5 KiB) stay in L1 together.
    static let depthLimit = 320

    /// The k blocks of a product of depth k, in order: as few as keep each within `depthLimit`, of
    /// equal depth to within one (k = 1152 in four blocks of 288 rather than four of 256 and one
    /// of 128; k = 320 in one). Packing and the driver both block k this way. Each block after the
    /// first reloads C, so fewer blocks move less; the blocking does not change any element's
    /// operations. (On a Zen 3 core, one thread, against blocks of at most 256: 320→1280 at 7×7
    /// 0.465 → 0.452 ms channels-first and 0.437 → 0.421 ms channels-last, the other suite shapes
    /// within 1%.)
    static func depthBlocks(_ k: Int) -> [Range<Int>] {
        guard k > 0 else { return [0..<0] }
        let count = (k + depthLimit - 1) / depthLimit
        return (0..<count).map { k * $0 / count..<k * ($0 + 1) / count }
    }
    /// Elements of C in one block that all the k blocks sweep before the next block starts (a row
    /// block times as many columns as fit, or a block of row panels across all columns), so that
    /// the tiles reloaded by each k block after the first come from L2.
    static let outputBlockElements = 64 * 1024
    /// Rows of C swept together when C is swept strip by strip: the block's A panels (up to
    /// 264 × 256 floats, 264 KiB) stay in L2 while every strip runs over them.
    static let rowBlock = 264
    /// Columns of B packed together when C is swept strip by strip: each source row is read in
    /// runs of 1 KiB, which hardware prefetchers follow, and the block (up to 256 KiB) stays in L2.
    static let columnBlock = 256
    /// A channels-first GEMM with C of at most `streamingRowLimit` rows or with k of at most
    /// `streamingDepthLimit` runs on the streaming kernel: blocks of columns straight from B,
    /// every row panel with the whole k loop. These are the memory-bound shapes (Cout ≤ 12 or
    /// Cin ≤ 32), where a register tile's bookkeeping would outweigh its arithmetic and the few B
    /// rows of a block of columns stay in L1 without being copied.
    static let streamingRowLimit = 12
    static let streamingDepthLimit = 32
    /// A channels-first GEMM with C of at most `cachedStreamingRowLimit` rows also streams when B
    /// (k × n floats) is at most `cachedStreamingBytes`, so that it comes from cache. Copying each
    /// 16-column strip costs a store per B vector, paid again for every strip and shared by only
    /// m/6 row panels: few rows leave it a large share. But the streaming kernel reads k rows of B
    /// at once, more streams than hardware prefetchers follow, so from memory it stalls where the
    /// strip copy's explicit prefetches do not. On a Zen 3 core, one thread, best of three
    /// interleaved rounds: 144→24 at 56×56 0.275 → 0.251 ms and at 112×112 (7.2 MB of input) 1.16 →
    /// 1.08 ms, 96→24 at 56×56 0.185 → 0.169 ms, 200→13 0.333 → 0.272 ms and 64→48 0.230 → 0.221 ms
    /// at 56×56, 320→32 at 28×28 0.251 → 0.228 ms, 1024→32 at 14×14 0.237 → 0.225 ms; but 64→32 at
    /// 224×224 (12.8 MB) 3.4 → 4.1 ms and 64→64 at 56×56 0.299 → 0.360 ms.
    static let cachedStreamingRowLimit = 48
    static let cachedStreamingBytes = 8 << 20

    /// Whether a channels-first GEMM of C m×n and depth k (a view of B with contiguous rows) runs
    /// on the streaming kernel rather than copying B strip by strip.
    static func streams(m: Int, n: Int, k: Int) -> Bool {
        streamsMemoryBound(m: m, k: k)
            || m <= cachedStreamingRowLimit && k * n * MemoryLayout<Float>.stride <= cachedStreamingBytes
    }

    /// Whether C's m rows or the depth k alone send a channels-first GEMM to the streaming kernel
    /// (`streamingRowLimit`, `streamingDepthLimit`), wherever B comes from.
    static func streamsMemoryBound(m: Int, k: Int) -> Bool {
        m <= streamingRowLimit || k <= streamingDepthLimit
    }

    /// The most rows of C for which the strip path copies each strip (after a call's first) inside
    /// the first row panel's tile as it reads B, rather than in a pass of its own (the kernels'
    /// `PW_STRIP_FUSED_ROWS`).
    static let stripFusedRows = Int(PW_STRIP_FUSED_ROWS)

    /// Whether a worker's share of rows, when the threads split a channels-first product by rows
    /// (a C narrower than its height, as at 7×7), runs the strip path (each worker copying the
    /// strips it reads) rather than sweeping strips packed once per k block: with AVX-512, whose
    /// strip path runs a 7×7 map's 49 columns in one tile (`wide_tile_48_column`) where the packed
    /// sweep leaves its third strip to a tile of six FMA chains.
    static func rowsOuterStreams(_ kernels: KernelConfig) -> Bool { kernels.copiesStripPairs }

    /// Whether the strip path computes the last of `columns` inside the last strip's tiles
    /// (`gemm_tile_column`, the kernels' `last_column`): one column after whole 16-column strips.
    static func stripsCarryLastColumn(columns: Int) -> Bool {
        columns % KernelConfig.tileColumns == 1 && columns > KernelConfig.tileColumns
    }

    /// How far ahead of the strip being copied (in floats) a streamed B row is prefetched: four
    /// strips (timed best of 0, 32, 64 and 128 on the suite's compute-bound shapes).
    static let prefetchDistance = 64

    /// Whether a channels-first convolution per image and group (`outputs` × `pixels` outputs,
    /// `inputs` deep) is computed as its transpose, Yᵀ [pixels × outputs] = Xᵀ · Wᵀ, with the image
    /// copied into 6-pixel panels and each block of Yᵀ transposed into Y on its way out.
    ///
    /// Y = W·X runs the pixels across 16-column strips; when 4 to 7 pixels are left over (a 10×10
    /// or 14×14 map: 100 = 6·16 + 4, 196 = 12·16 + 4), every row panel ends in an 8-wide edge tile
    /// that computes twice the columns it keeps, on six FMA chains too few to hide the latency.
    /// The transpose runs the output channels across the strips instead (whole ones when they are a
    /// multiple of 8), which pays for copying the image and transposing Yᵀ only where the image is
    /// small (one row block, ≤ 256 pixels) and deep, and the outputs are many (≥ 64). On a Zen 3
    /// core, one thread: 2048→256 at 10×10 1.25 → 1.14 ms, 1024→256 at 14×14 1.17 → 1.14 ms,
    /// 672→112 0.366 → 0.352 ms, 512→128 0.320 → 0.310 ms; 384→256 at 14×14 was level and 256→256
    /// 3–5% slower, so convolutions with fewer than 448 inputs per group stay as they are. (7×7
    /// maps, whose one leftover column runs down the panels by column, gained nothing.)
    ///
    /// A batch of such images with one group gathers the leftover pixels of all of them into one
    /// product instead (`gathersChannelsFirstTails`), which is faster again. On a Zen 5 core, one
    /// thread, three to six interleaved rounds: 1024→256 at 14×14, 8 images, 4.14–4.46 → 3.67–3.90
    /// ms; 2048→256 at 10×10, 4 images, 1.95–2.15 → 1.87–1.94 ms; 512→128 at 14×14, 4 images,
    /// level.
    static func transposesChannelsFirst(outputs: Int, pixels: Int, inputs: Int, images: Int, groups: Int) -> Bool {
        pixels <= 256 && pixels % 8 >= 4 && outputs >= 64 && outputs % 8 == 0 && inputs >= 448
            && !gathersChannelsFirstTails(outputs: outputs, pixels: pixels, inputs: inputs, images: images,
                                          groups: groups)
    }
}

/// A read-only matrix: element (i, j) is at `base[i * rowStride + j * columnStride]`.
struct MatrixView {
    var base: UnsafePointer<Float>
    var rowStride: Int
    var columnStride: Int
}

/// One operand of a GEMM: a matrix read in place, or one packed once ahead of time.
enum GemmOperand {
    case view(MatrixView)
    case packed(PackedMatrix)
}

/// What is done to each finished tile of C before it is stored.
struct GemmEpilogue {
    /// One value per row of C, or per column when `biasPerColumn`.
    var bias: UnsafePointer<Float>? = nil
    var biasPerColumn = false
    /// A matrix laid out like C, added before the activation.
    var residual: UnsafePointer<Float>? = nil
    var residualStride = 0
    var activation: Activation = .identity
}

/// One C (=|+=) A·B with its epilogue. A is m×k, B is k×n, C is m×n with row stride `ldc`.
struct GemmProblem {
    var m: Int
    var n: Int
    var k: Int
    var a: GemmOperand
    var b: GemmOperand
    var c: UnsafeMutablePointer<Float>
    var ldc: Int
    /// Add into C rather than overwrite it.
    var accumulate = false
    var epilogue = GemmEpilogue()
    /// C is stored transposed: element (i, j) of A·B goes to `c[j·ldc + i]`, and the epilogue
    /// describes C as stored (its bias one value per stored row, its residual laid out like it).
    /// A channels-first convolution computed as Yᵀ = Xᵀ·Wᵀ (see `Gemm.transposesChannelsFirst`);
    /// it cannot accumulate.
    var storesTransposed = false
}
