// The kernel bodies, always inlined into each instruction-set variant (see kernels.inc). Only the
// thin wrappers there are real functions, so no vector ever crosses a call boundary.
#ifndef PW_KERNEL_BODIES_H
#define PW_KERNEL_BODIES_H

#include "vector.h"

// MARK: - GEMM microkernel

/// The epilogue of one 8-column vector of row i whose first column is j (bias per row or per
/// column, residual, activation): the arithmetic of `gemm_tile`'s epilogue, vector by vector.
PW_INLINE v8f epilogue_vector(v8f z, const pw_epilogue *epilogue, int i, ptrdiff_t j) {
    if (epilogue->bias) {
        z += epilogue->bias_per_column ? v8_load(epilogue->bias + j) : v8_splat(epilogue->bias[i]);
    }
    if (epilogue->residual) z += v8_load(epilogue->residual + i * epilogue->ldr + j);
    return v8_activate(z, epilogue->activation);
}


/// `epilogue` moved to the block of C whose first element is its own (row i, column j): bias
/// advanced by i (per row) or j (per column), residual by i rows and j columns, written into
/// `local`. NULL (no epilogue yet) stays NULL.
PW_INLINE const pw_epilogue *epilogue_at(const pw_epilogue *epilogue, ptrdiff_t i, ptrdiff_t j, pw_epilogue *local) {
    if (!epilogue) return NULL;
    *local = *epilogue;
    if (local->bias) local->bias += local->bias_per_column ? j : i;
    if (local->residual) local->residual += i * local->ldr + j;
    return local;
}

/// The epilogue of a whole register tile (`mr` rows of `nv` (1…3) vectors, the first column
/// being column j for a per-column bias), with each choice made once per tile rather than per
/// vector: every element gets exactly `epilogue_vector`'s arithmetic. The cheap activations are
/// applied with a constant kind, so the tile's vectors run through them without a branch each.
PW_INLINE void epilogue_tile(v8f acc[PW_GEMM_MR][3], const int mr, const int nv, const pw_epilogue *epilogue,
                             ptrdiff_t j) {
    const float *bias = epilogue->bias, *residual = epilogue->residual;
    if (bias && epilogue->bias_per_column) {
        v8f columns[3];
        for (int v = 0; v < nv; v++) columns[v] = v8_load(bias + j + 8 * v);
        for (int i = 0; i < mr; i++) {
            for (int v = 0; v < nv; v++) acc[i][v] += columns[v];
        }
    } else if (bias) {
        for (int i = 0; i < mr; i++) {
            for (int v = 0; v < nv; v++) acc[i][v] += v8_splat(bias[i]);
        }
    }
    if (residual) {
        for (int i = 0; i < mr; i++) {
            for (int v = 0; v < nv; v++) acc[i][v] += v8_load(residual + i * epilogue->ldr + j + 8 * v);
        }
    }
#define PW_ACTIVATE_TILE(KIND)                                                                    \
    for (int i = 0; i < mr; i++) {                                                                \
        for (int v = 0; v < nv; v++) acc[i][v] = v8_activate(acc[i][v], KIND);                    \
    }
    switch (epilogue->activation) {
    case PW_ACTIVATION_IDENTITY: break;
    case PW_ACTIVATION_RELU: PW_ACTIVATE_TILE(PW_ACTIVATION_RELU) break;
    case PW_ACTIVATION_RELU6: PW_ACTIVATE_TILE(PW_ACTIVATION_RELU6) break;
    default: PW_ACTIVATE_TILE(epilogue->activation) break;
    }
#undef PW_ACTIVATE_TILE
}

/// Stores one B row of `nv` vectors (b0, then b1 when nv is 2) at `to`.
PW_INLINE void gemm_copy_row(const int nv, v8f b0, v8f b1, float *to) {
    v8_store(to, b0);
    if (nv == 2) v8_store(to + 8, b1);
}

/// One register tile of C: `mr` rows (1…6) by `nv` vectors of 8 columns (1 or 2). Every loop
/// here has a constant trip count once inlined, so the accumulators live in registers. The k loop
/// is the only loop that runs; edges are the caller's business (it picks a smaller tile). Step p
/// also prefetches the line at `ahead + p·ahead_step` unless `ahead` is NULL (the sweep's way of
/// bringing B in from memory before the tiles that read it), and stores the B row it loaded at
/// `copy + p·8·nv` unless `copy` is NULL (the strip path's copy of B riding along with the first
/// row panel's FMAs, see `stream_strips`).
PW_INLINE void gemm_tile_prefetching(const int mr, const int nv, ptrdiff_t k, const float *restrict a,
                                     ptrdiff_t rsa, ptrdiff_t csa, const float *restrict b, ptrdiff_t ldb,
                                     float *restrict c, ptrdiff_t ldc, int32_t load_c,
                                     const pw_epilogue *epilogue, const float *ahead, ptrdiff_t ahead_step,
                                     float *restrict copy) {
    v8f acc[PW_GEMM_MR][3];
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < nv; v++) {
            acc[i][v] = load_c ? v8_load(c + i * ldc + 8 * v) : v8_splat(0.0f);
        }
    }
    if (rsa == 1 && csa == PW_GEMM_MR) {
        // A packed in panels (the usual case): constant offsets, no address arithmetic per row.
        for (ptrdiff_t p = 0; p < k; p++) {
            if (ahead) __builtin_prefetch(ahead + p * ahead_step, 0, 3);
            v8f b0 = v8_load(b);
            v8f b1 = nv == 2 ? v8_load(b + 8) : b0;
            if (copy) gemm_copy_row(nv, b0, b1, copy + p * 8 * nv);
            for (int i = 0; i < mr; i++) {
                v8f x = v8_splat(a[i]);
                acc[i][0] = x * b0 + acc[i][0];
                if (nv == 2) acc[i][1] = x * b1 + acc[i][1];
            }
            a += PW_GEMM_MR;
            b += ldb;
        }
    } else {
        for (ptrdiff_t p = 0; p < k; p++) {
            if (ahead) __builtin_prefetch(ahead + p * ahead_step, 0, 3);
            v8f b0 = v8_load(b);
            v8f b1 = nv == 2 ? v8_load(b + 8) : b0;
            if (copy) gemm_copy_row(nv, b0, b1, copy + p * 8 * nv);
            for (int i = 0; i < mr; i++) {
                v8f x = v8_splat(a[i * rsa]);
                acc[i][0] = x * b0 + acc[i][0];
                if (nv == 2) acc[i][1] = x * b1 + acc[i][1];
            }
            a += csa;
            b += ldb;
        }
    }
    if (epilogue) epilogue_tile(acc, mr, nv, epilogue, 0);
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < nv; v++) v8_store(c + i * ldc + 8 * v, acc[i][v]);
    }
}

/// `gemm_tile_prefetching` without prefetches.
PW_INLINE void gemm_tile(const int mr, const int nv, ptrdiff_t k, const float *restrict a,
                         ptrdiff_t rsa, ptrdiff_t csa, const float *restrict b, ptrdiff_t ldb,
                         float *restrict c, ptrdiff_t ldc, int32_t load_c,
                         const pw_epilogue *epilogue) {
    gemm_tile_prefetching(mr, nv, k, a, rsa, csa, b, ldb, c, ldc, load_c, epilogue, NULL, 0, NULL);
}

/// One register tile of `mr` (1…3) rows by 24 columns, 8 at each of b0, b1 and b2 (row p of each
/// at p·ldb: a full 16-column strip and the first 8 columns of the next), A's row i at a + i·rsa,
/// column p at a + p·csa (three rows of a packed panel, or of an operand read in place). Nine
/// accumulators take three broadcasts and three loads per k step, where a 6×8 tile over an
/// 8-column strip alone needs seven loads for six FMAs and waits on the load ports (a C 24 or 40
/// columns wide, a channels-last projection's, spent a third or a fifth of its work that way), and
/// A is read once for all 24 columns rather than once per strip. (Four rows' twelve accumulators,
/// three B vectors and a broadcast are all sixteen registers: clang spilled an accumulator to the
/// stack and back every k step, which halved the speed.) Each element gets exactly the operations
/// `gemm_tile` would give it.
PW_INLINE void gemm_tile_24(const int mr, ptrdiff_t k, const float *restrict a, ptrdiff_t rsa, ptrdiff_t csa,
                            const float *restrict b0, const float *restrict b1, const float *restrict b2, ptrdiff_t ldb,
                            float *restrict c, ptrdiff_t ldc, int32_t load_c, const pw_epilogue *epilogue) {
    v8f acc[PW_GEMM_MR][3];
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < 3; v++) acc[i][v] = load_c ? v8_load(c + i * ldc + 8 * v) : v8_splat(0.0f);
    }
    for (ptrdiff_t p = 0; p < k; p++, a += csa, b0 += ldb, b1 += ldb, b2 += ldb) {
        const v8f low = v8_load(b0), high = v8_load(b1), last = v8_load(b2);
        for (int i = 0; i < mr; i++) {
            const v8f x = v8_splat(a[i * rsa]);
            acc[i][0] = x * low + acc[i][0];
            acc[i][1] = x * high + acc[i][1];
            acc[i][2] = x * last + acc[i][2];
        }
    }
    if (epilogue) epilogue_tile(acc, mr, 3, epilogue, 0);
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < 3; v++) v8_store(c + i * ldc + 8 * v, acc[i][v]);
    }
}

/// A single row of C over `s` (1…4) consecutive full strips at once (strip t at b + t·stride,
/// its columns 16·t on from c and from the epilogue's column j): 2·s FMA chains where one strip
/// has two, which wait on their latency, and `s` streams of B in flight where one strip has one,
/// for a matrix-vector product whose B (a classifier's weights) comes from memory. A is a packed
/// panel (element p at a[6·p]). Each element gets the operations `gemm_tile` would give it.
PW_INLINE void gemv_strips(const int s, ptrdiff_t k, const float *restrict a, const float *restrict b,
                           ptrdiff_t stride, float *restrict c, int32_t load_c, const pw_epilogue *epilogue,
                           ptrdiff_t j) {
    v8f acc[4][2];
    for (int t = 0; t < s; t++) {
        for (int v = 0; v < 2; v++) acc[t][v] = load_c ? v8_load(c + 16 * t + 8 * v) : v8_splat(0.0f);
    }
    for (ptrdiff_t p = 0; p < k; p++) {
        const v8f x = v8_splat(a[p * PW_GEMM_MR]);
        for (int t = 0; t < s; t++) {
            acc[t][0] = x * v8_load(b + t * stride + p * PW_GEMM_NR) + acc[t][0];
            acc[t][1] = x * v8_load(b + t * stride + p * PW_GEMM_NR + 8) + acc[t][1];
        }
    }
    for (int t = 0; t < s; t++) {
        v8f tile[PW_GEMM_MR][3] = {{acc[t][0], acc[t][1]}};
        if (epilogue) epilogue_tile(tile, 1, 2, epilogue, j + 16 * t);
        v8_store(c + 16 * t, tile[0][0]);
        v8_store(c + 16 * t + 8, tile[0][1]);
    }
}

/// How far ahead of its own loads (in floats) the first row panel over a strip prefetches it: 32
/// k steps (timed against 256, 1024 and 2048 on 7×7 layers whose weights come from memory).
#define PW_GEMM_PREFETCH_AHEAD 512

/// Where the full tile of row panel q (of `panels`, swept strip by strip) over the strip at `b`
/// prefetches B, one line per k step, when another strip follows `stride` floats on: a strip
/// that comes from memory (a network layer's weights, read once per pass) would stall the first
/// panel over it, which reads a line every six cycles, faster than memory delivers; so the first
/// panel runs `PW_GEMM_PREFETCH_AHEAD` floats ahead of its own loads, and each later panel
/// fetches its share of the next strip, which the next strip's first panel then finds in cache.
/// (Prefetches never fault; one past the last strip is merely wasted.)
PW_INLINE void sweep_prefetch(ptrdiff_t q, ptrdiff_t panels, ptrdiff_t k, const float *b, ptrdiff_t stride,
                              const float **ahead, ptrdiff_t *step) {
    if (q == 0) {
        *ahead = b + PW_GEMM_PREFETCH_AHEAD;
        *step = PW_GEMM_NR;
        return;
    }
    const ptrdiff_t share = (k + panels - 2) / (panels - 1);
    *ahead = b + stride + (q - 1) * share * PW_GEMM_NR;
    *step = (share * PW_GEMM_NR + k - 1) / k;
}

/// C[mr × 8·nv] (=|+=) A·B with the whole k loop, B read where it lies (row p at b + p·ldb), the
/// block's first column being column j of the sweep (for per-column bias). The body of the
/// streaming kernel; each element gets exactly the operations `gemm_tile` would give it.
PW_INLINE void stream_block(const int mr, const int nv, ptrdiff_t k, const float *restrict a,
                            ptrdiff_t rsa, ptrdiff_t csa, const float *restrict b, ptrdiff_t ldb,
                            float *restrict c, ptrdiff_t ldc, int32_t load_c, ptrdiff_t j,
                            const pw_epilogue *epilogue) {
    v8f acc[PW_GEMM_MR][3];
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < nv; v++) acc[i][v] = load_c ? v8_load(c + i * ldc + 8 * v) : v8_splat(0.0f);
    }
    if (rsa == 1 && csa == PW_GEMM_MR) {
        // A packed in panels: constant offsets, so the loop is the FMAs and their loads.
        for (ptrdiff_t p = 0; p < k; p++, a += PW_GEMM_MR, b += ldb) {
            v8f b0 = v8_load(b), b1 = nv == 2 ? v8_load(b + 8) : b0;
            for (int i = 0; i < mr; i++) {
                v8f x = v8_splat(a[i]);
                acc[i][0] = x * b0 + acc[i][0];
                if (nv == 2) acc[i][1] = x * b1 + acc[i][1];
            }
        }
    } else {
        for (ptrdiff_t p = 0; p < k; p++) {
            v8f b0 = v8_load(b + p * ldb), b1 = nv == 2 ? v8_load(b + p * ldb + 8) : b0;
            for (int i = 0; i < mr; i++) {
                v8f x = v8_splat(a[i * rsa + p * csa]);
                acc[i][0] = x * b0 + acc[i][0];
                if (nv == 2) acc[i][1] = x * b1 + acc[i][1];
            }
        }
    }
    if (epilogue) epilogue_tile(acc, mr, nv, epilogue, j);
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < nv; v++) v8_store(c + i * ldc + 8 * v, acc[i][v]);
    }
}

/// `stream_block` for a last row panel of one or two rows, over 32 columns: four vectors per row
/// keep eight FMA chains in flight for two rows (four for one) rather than four (two), too few to
/// hide the FMA latency. Each element gets exactly `stream_block`'s operations.
PW_INLINE void stream_block_wide(const int mr, ptrdiff_t k, const float *restrict a, ptrdiff_t rsa, ptrdiff_t csa,
                                 const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc,
                                 int32_t load_c, ptrdiff_t j, const pw_epilogue *epilogue) {
    v8f acc[2][4];
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < 4; v++) acc[i][v] = load_c ? v8_load(c + i * ldc + 8 * v) : v8_splat(0.0f);
    }
    for (ptrdiff_t p = 0; p < k; p++) {
        v8f row[4];
        for (int v = 0; v < 4; v++) row[v] = v8_load(b + p * ldb + 8 * v);
        for (int i = 0; i < mr; i++) {
            const v8f x = v8_splat(a[i * rsa + p * csa]);
            for (int v = 0; v < 4; v++) acc[i][v] = x * row[v] + acc[i][v];
        }
    }
    if (epilogue) {
        // The epilogue works on tiles of up to three vectors: the two halves in turn.
        for (int h = 0; h < 2; h++) {
            v8f half[PW_GEMM_MR][3];
            for (int i = 0; i < mr; i++) half[i][0] = acc[i][2 * h], half[i][1] = acc[i][2 * h + 1];
            epilogue_tile(half, mr, 2, epilogue, j + 16 * h);
            for (int i = 0; i < mr; i++) acc[i][2 * h] = half[i][0], acc[i][2 * h + 1] = half[i][1];
        }
    }
    for (int i = 0; i < mr; i++) {
        for (int v = 0; v < 4; v++) v8_store(c + i * ldc + 8 * v, acc[i][v]);
    }
}

/// The starting accumulator of `rows` (≤ 6) rows of one column of C held in a vector's lanes (row
/// i in lane i, ldc apart from c): C's values when `load_c`, else zeros.
PW_INLINE v8f column_start(ptrdiff_t rows, const float *c, ptrdiff_t ldc, int32_t load_c) {
    float lanes[8] = {0};
    if (load_c) {
        for (ptrdiff_t i = 0; i < rows; i++) lanes[i] = c[i * ldc];
    }
    return v8_load(lanes);
}

/// Stores `rows` lanes of `z`, rows first ..< first + rows of column j of C, after the epilogue
/// (which describes C's element (0, 0)): each lane's own bias and residual gathered beside it
/// and put through `epilogue_vector`, so every element gets the arithmetic of a full tile's.
PW_INLINE void column_finish(v8f z, ptrdiff_t rows, ptrdiff_t first, ptrdiff_t j, float *c, ptrdiff_t ldc,
                             const pw_epilogue *epilogue) {
    if (epilogue) {
        float bias[8] = {0}, residual[8] = {0};
        for (ptrdiff_t i = 0; i < rows; i++) {
            if (epilogue->bias) bias[i] = epilogue->bias[epilogue->bias_per_column ? j : first + i];
            if (epilogue->residual) residual[i] = epilogue->residual[(first + i) * epilogue->ldr + j];
        }
        const pw_epilogue lanes = {
            .bias = epilogue->bias ? bias : NULL, .bias_per_column = 1, .activation = epilogue->activation,
            .residual = epilogue->residual ? residual : NULL, .ldr = 0};
        z = epilogue_vector(z, &lanes, 0, 0);
    }
    float out[8];
    v8_store(out, z);
    for (ptrdiff_t i = 0; i < rows; i++) c[(first + i) * ldc + j] = out[i];
}

/// The full 6×16 tile over a copied B strip (rows 16 apart) and, riding along, one more column
/// of C from a column of B read in place (`column`, rows ldb apart), its six rows in one vector's
/// lanes: a 7×7 map's 49th pixel computed while the panel is in registers and L1, where a pass of
/// its own reads all of A again for one FMA per panel and k step. Thirteen accumulators, two B
/// vectors and one broadcast fill the sixteen registers; the column's A vector is an operand
/// read from memory. Every element gets exactly `gemm_tile`'s (and `tail_block`'s) operations.
PW_INLINE void gemm_tile_column(ptrdiff_t k, const float *restrict a, const float *restrict b,
                                const float *restrict column, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc,
                                ptrdiff_t j, int32_t load_c, const pw_epilogue *epilogue) {
    v8f acc[PW_GEMM_MR][3];
    for (int i = 0; i < PW_GEMM_MR; i++) {
        for (int v = 0; v < 2; v++) acc[i][v] = load_c ? v8_load(c + i * ldc + 8 * v) : v8_splat(0.0f);
    }
    v8f last = column_start(PW_GEMM_MR, c + j, ldc, load_c);
    // The 8-lane A load at step p reads two floats past the panel's column p: the last step's
    // would run past the panel, so it loads only six. (Written first in the step, the column's FMA
    // leaves clang 16 registers for the loop; written last, it spilled an accumulator every step.)
#define PW_COLUMN_STEP(ROWS)                                                                      \
    {                                                                                             \
        last = (ROWS) * v8_splat(*column) + last;                                                 \
        const v8f b0 = v8_load(b), b1 = v8_load(b + 8);                                           \
        for (int i = 0; i < PW_GEMM_MR; i++) {                                                    \
            const v8f x = v8_splat(a[i]);                                                         \
            acc[i][0] = x * b0 + acc[i][0];                                                       \
            acc[i][1] = x * b1 + acc[i][1];                                                       \
        }                                                                                         \
    }
    ptrdiff_t p = 0;
    for (; p + 1 < k; p++, a += PW_GEMM_MR, b += PW_GEMM_NR, column += ldb) PW_COLUMN_STEP(v8_load(a))
    if (p < k) PW_COLUMN_STEP(v8_load_first(a, PW_GEMM_MR))
#undef PW_COLUMN_STEP
    if (epilogue) epilogue_tile(acc, PW_GEMM_MR, 2, epilogue, 0);
    for (int i = 0; i < PW_GEMM_MR; i++) {
        for (int v = 0; v < 2; v++) v8_store(c + i * ldc + 8 * v, acc[i][v]);
    }
    column_finish(last, PW_GEMM_MR, 0, j, c, ldc, epilogue);
}

/// `w` (1…3) columns of C over `g` consecutive row panels of A packed in panels (panel q at
/// a + q·stride, its element (i, p) at [p·6 + i]; `rows` valid rows in all), g·w ≤ 9:
/// C[i·ldc + j] (=|+=) Σ_p A[i][p]·b[p·ldb + j], then the epilogue, which describes element (0, 0).
/// Each panel's six rows of a column ride in the lanes of one vector, so a narrow tail of columns
/// costs w FMAs per panel and k rather than a whole 6×8 tile's six, with g·w independent chains
/// to hide the FMA latency. Every element gets exactly the operations `gemm_tile` would give it
/// (the same FMAs in the same order, then bias, residual and activation).
PW_INLINE void tail_block(const int g, const int w, ptrdiff_t k, const float *restrict a, ptrdiff_t stride,
                          const float *restrict b, ptrdiff_t ldb, ptrdiff_t rows, float *restrict c,
                          ptrdiff_t ldc, int32_t load_c, const pw_epilogue *epilogue) {
    v8f acc[8][3];
    ptrdiff_t valid[8];  // the rows of panel q that exist
    for (int q = 0; q < g; q++) {
        valid[q] = rows - q * PW_GEMM_MR < PW_GEMM_MR ? rows - q * PW_GEMM_MR : PW_GEMM_MR;
        for (int j = 0; j < w; j++) acc[q][j] = column_start(valid[q], c + q * PW_GEMM_MR * ldc + j, ldc, load_c);
    }
    // An 8-lane load at column p of a panel reads two floats past it, which for the last column
    // may lie past the operand: that column is copied out, its valid rows only.
    ptrdiff_t p = 0;
    for (; p + 1 < k; p++) {
        v8f x[3];
        for (int j = 0; j < w; j++) x[j] = v8_splat(b[p * ldb + j]);
        for (int q = 0; q < g; q++) {
            const v8f column = v8_load(a + q * stride + p * PW_GEMM_MR);
            for (int j = 0; j < w; j++) acc[q][j] = column * x[j] + acc[q][j];
        }
    }
    if (p < k) {
        for (int q = 0; q < g; q++) {
            float lanes[8] = {0};
            for (ptrdiff_t i = 0; i < valid[q]; i++) lanes[i] = a[q * stride + p * PW_GEMM_MR + i];
            const v8f column = v8_load(lanes);
            for (int j = 0; j < w; j++) acc[q][j] = column * v8_splat(b[p * ldb + j]) + acc[q][j];
        }
    }
    for (int q = 0; q < g; q++) {
        for (int j = 0; j < w; j++) column_finish(acc[q][j], valid[q], q * PW_GEMM_MR, j, c, ldc, epilogue);
    }
}

// MARK: - Packing

/// Copies a strip of `nv` vectors (8 or 16 columns) of k rows, row p at src + p·ld, into dst
/// (rows 8·nv floats apart), asking for each source row `prefetch` floats ahead when prefetch > 0.
PW_INLINE void copy_strip_body(const float *src, ptrdiff_t ld, ptrdiff_t k, int nv, float *dst,
                               ptrdiff_t prefetch) {
    if (nv == 2) {
        for (ptrdiff_t p = 0; p < k; p++, src += ld, dst += 16) {
            if (prefetch) __builtin_prefetch(src + prefetch);
            const v8f low = v8_load(src), high = v8_load(src + 8);
            v8_store(dst, low);
            v8_store(dst + 8, high);
        }
    } else {
        for (ptrdiff_t p = 0; p < k; p++, src += ld, dst += 8) {
            if (prefetch) __builtin_prefetch(src + prefetch);
            v8_store(dst, v8_load(src));
        }
    }
}

/// The last four rows of an A in row panels of 6 (m rows, m mod 6 = 2: rows m − 4 and m − 3 end one
/// panel, m − 2 and m − 1 are the next; panel q at a + q·a_panel_stride, its element (i, p) at
/// [i·rsa + p·csa]), k columns, packed as one panel of their own at `dst` (6·k floats, rows 4 and 5
/// zeros), so that they run as one 4-row tile.
PW_INLINE void strip_last_rows(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                               ptrdiff_t a_panel_stride, float *dst) {
    for (ptrdiff_t p = 0; p < k; p++) {
        for (ptrdiff_t r = 0; r < 4; r++) {
            const ptrdiff_t i = m - 4 + r;
            dst[p * PW_GEMM_MR + r] = a[i / PW_GEMM_MR * a_panel_stride + i % PW_GEMM_MR * rsa + p * csa];
        }
        dst[p * PW_GEMM_MR + 4] = dst[p * PW_GEMM_MR + 5] = 0.0f;
    }
}

/// Packs the depth×width block whose row p is `width` contiguous floats at src + p·rs into strips of
/// 16 columns, as `pw_pack_strips` does (the last strip zero-padded), reading the source row by row.
PW_INLINE void pack_rows_body(const float *src, ptrdiff_t rs, ptrdiff_t depth, ptrdiff_t width, float *dst) {
    const ptrdiff_t full = width / 16, rest = width - 16 * full;
    for (ptrdiff_t p = 0; p < depth; p++) {
        const float *from = src + p * rs;
        for (ptrdiff_t s = 0; s < full; s++) {
            float *to = dst + s * 16 * depth + p * 16;
            v8_store(to, v8_load(from + 16 * s));
            v8_store(to + 8, v8_load(from + 16 * s + 8));
        }
        if (rest > 0) {
            float *to = dst + full * 16 * depth + p * 16;
            for (ptrdiff_t j = 0; j < 16; j++) to[j] = j < rest ? from[16 * full + j] : 0.0f;
        }
    }
}

/// dst (columns × rows, row-major) = the transpose of src (rows × columns, row-major): 8×8 blocks
/// through register transposes, in bands of 64 source columns so that the destination rows a
/// band writes stay in cache until their lines fill; the edges element by element.
PW_INLINE void transpose_body(const float *src, ptrdiff_t rows, ptrdiff_t columns, float *dst) {
    const ptrdiff_t full_rows = rows / 8 * 8, full_columns = columns / 8 * 8;
    for (ptrdiff_t c1 = 0; c1 < full_columns; c1 += 64) {
        const ptrdiff_t c_end = c1 + 64 < full_columns ? c1 + 64 : full_columns;
        for (ptrdiff_t r0 = 0; r0 < full_rows; r0 += 8) {
            for (ptrdiff_t c0 = c1; c0 < c_end; c0 += 8) {
                v8f v[8];
                for (int i = 0; i < 8; i++) v[i] = v8_load(src + (r0 + i) * columns + c0);
                transpose8x8(v);
                for (int q = 0; q < 8; q++) v8_store(dst + (c0 + q) * rows + r0, v[q]);
            }
        }
    }
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t c_begin = r < full_rows ? full_columns : 0;
        for (ptrdiff_t c = c_begin; c < columns; c++) dst[c * rows + r] = src[r * columns + c];
    }
}

/// Packs the depth×width block whose element (p, j) is src[p + j·cs] (each column contiguous,
/// as in a transposed operand) into strips of 16 columns, as `pw_pack_strips` does: whole strips
/// go through 8×8 register transposes, the rest element by element.
PW_INLINE void pack_transposed_body(const float *src, ptrdiff_t cs, ptrdiff_t depth, ptrdiff_t width,
                                    float *dst) {
    for (ptrdiff_t j0 = 0; j0 < width; j0 += 16) {
        const ptrdiff_t w = width - j0 < 16 ? width - j0 : 16;
        float *strip = dst + j0 * depth;
        ptrdiff_t p = 0;
        if (w == 16) {
            for (; p + 8 <= depth; p += 8) {
                for (int half = 0; half < 2; half++) {
                    v8f v[8];
                    for (int r = 0; r < 8; r++) v[r] = v8_load(src + (j0 + 8 * half + r) * cs + p);
                    transpose8x8(v);
                    for (int q = 0; q < 8; q++) v8_store(strip + (p + q) * 16 + 8 * half, v[q]);
                }
            }
        }
        for (; p < depth; p++) {
            for (ptrdiff_t j = 0; j < 16; j++) strip[p * 16 + j] = j < w ? src[(j0 + j) * cs + p] : 0.0f;
        }
    }
}

/// Packs the rows×depth block whose element (i, p) is src[i·rs + p] (each row contiguous, as a
/// channels-last image is) into panels of 6 rows, as `pw_pack_panels` does: eight columns of a
/// panel at a time go through an 8×8 register transpose (rows past the last read as zeros), the
/// rest element by element. Writes nothing outside the panels.
PW_INLINE void pack_panels_body(const float *src, ptrdiff_t rs, ptrdiff_t rows, ptrdiff_t depth, float *dst) {
    for (ptrdiff_t i0 = 0; i0 < rows; i0 += PW_GEMM_MR) {
        const ptrdiff_t mr = rows - i0 < PW_GEMM_MR ? rows - i0 : PW_GEMM_MR;
        const int last_panel = i0 + PW_GEMM_MR >= rows;
        float *panel = dst + i0 * depth;
        ptrdiff_t p = 0;
        for (; p + 8 <= depth; p += 8) {
            v8f v[8];
            for (int i = 0; i < 8; i++) v[i] = i < mr ? v8_load(src + (i0 + i) * rs + p) : v8_splat(0.0f);
            transpose8x8(v);
            // Column q's 6 values are the first 6 lanes of v[q]; each 8-wide store spills 2 lanes
            // into the next column, which the next store (or the next panel) overwrites. Only the
            // last column of the last panel has nothing after it, so it is copied out exactly.
            for (int q = 0; q < 7; q++) v8_store(panel + (p + q) * PW_GEMM_MR, v[q]);
            if (!last_panel || p + 8 < depth) {
                v8_store(panel + (p + 7) * PW_GEMM_MR, v[7]);
            } else {
                float column[8];
                v8_store(column, v[7]);
                for (int i = 0; i < PW_GEMM_MR; i++) panel[(p + 7) * PW_GEMM_MR + i] = column[i];
            }
        }
        for (; p < depth; p++) {
            for (ptrdiff_t i = 0; i < PW_GEMM_MR; i++) panel[p * PW_GEMM_MR + i] = i < mr ? src[(i0 + i) * rs + p] : 0.0f;
        }
    }
}

/// Packs the rows×depth block whose element (i, p) is src[i + p·cs] (each column contiguous, as a
/// channels-first image read as pixels × channels) into panels of 6 rows, as `pw_pack_panels`
/// does, panel by panel. A panel's share of a column is 6 consecutive floats: one 8-wide load and
/// store, whose 2 extra lanes the next store overwrites (the next column's, or the next panel's,
/// packed after it). The panels within 8 rows of the block's end, which have no next panel to
/// spill into, go element by element (zero-padded), so nothing is read or written outside the
/// block and its panels.
PW_INLINE void pack_columns_body(const float *src, ptrdiff_t cs, ptrdiff_t rows, ptrdiff_t depth, float *dst) {
    for (ptrdiff_t i0 = 0; i0 < rows; i0 += PW_GEMM_MR) {
        float *panel = dst + i0 * depth;
        ptrdiff_t p = 0;
        if (i0 + 8 <= rows) {
            for (; p < depth; p++) v8_store(panel + p * PW_GEMM_MR, v8_load(src + i0 + p * cs));
        }
        for (; p < depth; p++) {
            for (ptrdiff_t i = 0; i < PW_GEMM_MR; i++) {
                panel[p * PW_GEMM_MR + i] = i0 + i < rows ? src[i0 + i + p * cs] : 0.0f;
            }
        }
    }
}

/// dst (columns × rows, row stride ldd) = the epilogue applied to the transpose of src (rows ×
/// columns, row stride lds). The epilogue (or NULL) describes dst's element (0, 0): its bias holds
/// one value per dst row, its residual is laid out like dst. Every element gets
/// `epilogue_vector`'s arithmetic. 8×8 blocks go through register transposes, edge blocks through
/// zero-padded vectors, and only the valid lanes are stored.
PW_INLINE void transpose_out_body(const float *src, ptrdiff_t lds, ptrdiff_t rows, ptrdiff_t columns, float *dst,
                                  ptrdiff_t ldd, const pw_epilogue *epilogue) {
    for (ptrdiff_t c0 = 0; c0 < columns; c0 += 8) {
        const ptrdiff_t nc = columns - c0 < 8 ? columns - c0 : 8;
        for (ptrdiff_t r0 = 0; r0 < rows; r0 += 8) {
            const ptrdiff_t nr = rows - r0 < 8 ? rows - r0 : 8;
            v8f v[8];
            for (int i = 0; i < 8; i++) {
                v[i] = i >= nr ? v8_splat(0.0f) : nc == 8 ? v8_load(src + (r0 + i) * lds + c0)
                                                           : v8_load_first(src + (r0 + i) * lds + c0, nc);
            }
            transpose8x8(v);
            for (ptrdiff_t q = 0; q < nc; q++) {
                pw_epilogue local;
                const pw_epilogue *e = epilogue_at(epilogue, c0 + q, r0, &local);
                float residual[8] = {0};
                if (e && e->residual && nr < 8) {
                    // Only the block's rows of the residual are read; the other lanes are dropped.
                    for (ptrdiff_t i = 0; i < nr; i++) residual[i] = e->residual[i];
                    local.residual = residual;
                }
                v8_store_first(dst + (c0 + q) * ldd + r0, e ? epilogue_vector(v[q], e, 0, 0) : v[q], nr);
            }
        }
    }
}

// MARK: - Elementwise

/// x = act(x). The tail goes through a zero-padded vector, so every element gets exactly the
/// arithmetic it would get inside a GEMM epilogue.
PW_INLINE void activate_body(float *x, ptrdiff_t n, int32_t activation) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) v8_store(x + i, v8_activate(v8_load(x + i), activation));
    if (i < n) {
        float tail[8] = {0};
        __builtin_memcpy(tail, x + i, (size_t)(n - i) * sizeof(float));
        v8_store(tail, v8_activate(v8_load(tail), activation));
        __builtin_memcpy(x + i, tail, (size_t)(n - i) * sizeof(float));
    }
}

/// dz = dy · act'(z).
PW_INLINE void activation_backward_body(float *dz, const float *dy, const float *z, ptrdiff_t n,
                                        int32_t activation) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8_store(dz + i, v8_load(dy + i) * v8_activation_derivative(v8_load(z + i), activation));
    }
    if (i < n) {
        float tail_dy[8] = {0}, tail_z[8] = {0};
        __builtin_memcpy(tail_dy, dy + i, (size_t)(n - i) * sizeof(float));
        __builtin_memcpy(tail_z, z + i, (size_t)(n - i) * sizeof(float));
        v8f g = v8_load(tail_dy) * v8_activation_derivative(v8_load(tail_z), activation);
        v8_store(tail_dy, g);
        __builtin_memcpy(dz + i, tail_dy, (size_t)(n - i) * sizeof(float));
    }
}

// MARK: - Machine peak

/// Defines `NAME(iterations)`: twelve independent FMA chains of vectors of type V (LANES floats),
/// enough to cover the FMA latency on two pipes, touching no memory; returns the flops done.
/// Each kernel family measures its peak with its own vector width (`fma_peak_body` here, 16 lanes
/// in wide_bodies.h).
#define PW_DEFINE_FMA_PEAK(NAME, V, LANES)                                                        \
    PW_INLINE double NAME(int64_t iterations) {                                                   \
        V acc[12];                                                                                \
        for (int j = 0; j < 12; j++) acc[j] = (V){0} + (1.0f + 0.01f * (float)j);                 \
        /* Opaque operands (volatile reads), so the compiler cannot fold the chains into constants. */ \
        static volatile float multiplier = 0.999f, addend = 1e-3f;                                \
        const V m = (V){0} + multiplier, d = (V){0} + addend;                                     \
        for (int64_t it = 0; it < iterations; it++) {                                             \
            for (int j = 0; j < 12; j++) acc[j] = acc[j] * m + d;                                 \
        }                                                                                         \
        V sum = (V){0};                                                                           \
        for (int j = 0; j < 12; j++) sum += acc[j];                                               \
        /* Published through a volatile store so the loop cannot be discarded: a local, as every  \
           thread of a multi-threaded measurement runs this loop at once. */                      \
        volatile float sink = sum[0] + sum[LANES - 1];                                            \
        (void)sink;                                                                               \
        return (double)iterations * 12.0 * 2.0 * LANES;                                           \
    }
PW_DEFINE_FMA_PEAK(fma_peak_body, v8f, 8)

#endif
