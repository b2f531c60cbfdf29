// The GEMM bodies of the AVX-512 kernels, always inlined into that variant's wrappers (see
// kernels.inc, `PW_WIDE`). A 16-column strip row of B is one 16-lane vector there, so a row of a
// register tile is one FMA per k step where the 8-lane kernels take two. The epilogue, the edges
// and packing run the 8-lane bodies, compiled for AVX-512; the depthwise and stem tiles have their
// own 16-lane instantiations (depthwise_lanes.inc, stem_blocks.inc, `WIDE`).
//
// Each element still gets exactly the operations the 8-lane `gemm_tile` gives it: the same FMAs in
// the same order, then `epilogue_tile` on the two 8-lane halves of each row. So the AVX-512 and
// AVX2 kernels agree to the bit.
#ifndef PW_WIDE_BODIES_H
#define PW_WIDE_BODIES_H

#include "kernel_bodies.h"

/// Stores `mr` rows of 16-lane accumulators at c (rows ldc apart) after the epilogue, if any, which
/// runs on each row's two 8-lane halves through `epilogue_tile`: the 8-lane kernels' arithmetic.
PW_INLINE void wide_finish(v16f acc[PW_GEMM_MR], const int mr, float *restrict c, ptrdiff_t ldc,
                           const pw_epilogue *epilogue, ptrdiff_t j) {
    if (epilogue) {
        v8f halves[PW_GEMM_MR][3];
        for (int i = 0; i < mr; i++) halves[i][0] = v16_low(acc[i]), halves[i][1] = v16_high(acc[i]);
        epilogue_tile(halves, mr, 2, epilogue, j);
        for (int i = 0; i < mr; i++) acc[i] = v16_join(halves[i][0], halves[i][1]);
    }
    for (int i = 0; i < mr; i++) v16_store(c + i * ldc, acc[i]);
}

/// `gemm_tile_prefetching` for a full 16-column strip (nv = 2): `mr` (1…6) rows of one 16-lane
/// accumulator each, with the same optional prefetch (`ahead`) and copy of B (`copy`).
PW_INLINE void wide_tile_prefetching(const int mr, ptrdiff_t k, const float *restrict a, ptrdiff_t rsa,
                                     ptrdiff_t csa, const float *restrict b, ptrdiff_t ldb, float *restrict c,
                                     ptrdiff_t ldc, int32_t load_c, const pw_epilogue *epilogue,
                                     const float *ahead, ptrdiff_t ahead_step, float *restrict copy) {
    v16f acc[PW_GEMM_MR];
    for (int i = 0; i < mr; i++) acc[i] = load_c ? v16_load(c + i * ldc) : v16_splat(0.0f);
    if (rsa == 1 && csa == PW_GEMM_MR) {
        // A packed in panels (the usual case): constant offsets, no address arithmetic per row.
        for (ptrdiff_t p = 0; p < k; p++, a += PW_GEMM_MR, b += ldb) {
            if (ahead) __builtin_prefetch(ahead + p * ahead_step, 0, 3);
            const v16f row = v16_load(b);
            if (copy) v16_store(copy + p * PW_GEMM_NR, row);
            for (int i = 0; i < mr; i++) acc[i] = v16_splat(a[i]) * row + acc[i];
        }
    } else {
        for (ptrdiff_t p = 0; p < k; p++, a += csa, b += ldb) {
            if (ahead) __builtin_prefetch(ahead + p * ahead_step, 0, 3);
            const v16f row = v16_load(b);
            if (copy) v16_store(copy + p * PW_GEMM_NR, row);
            for (int i = 0; i < mr; i++) acc[i] = v16_splat(a[i * rsa]) * row + acc[i];
        }
    }
    wide_finish(acc, mr, c, ldc, epilogue, 0);
}

/// A full row panel of A packed in panels (rsa 1, csa 6) and the first `lower` (0…6) rows of the
/// next (`a_panel_stride` floats on) over one 16-column strip (rows ldb apart): up to twelve rows
/// of C and twelve FMA chains, enough to keep two 512-bit FMA units busy through their latency,
/// where one panel's six leave a quarter of their slots empty. `second` is the epilogue of the
/// lower rows. Riding along, as the 8-lane kernels do (each optional):
/// - `ahead` and `ahead2` are prefetched one line per step, as `gemm_tile_prefetching` does, each
///   unless NULL (with `prefetch_both`, both are set and not checked);
/// - each B row read is stored at `copy` (rows 16 apart), the strip path's copy of B;
/// - column j of C from a column of B read in place (`column`, rows `column_ldb` apart) is computed
///   too, each panel's rows in one 8-lane vector's lanes, as `gemm_tile_column` does.
PW_INLINE void wide_panels(const int lower, const int prefetch_both, ptrdiff_t k, const float *restrict a,
                           ptrdiff_t a_panel_stride,
                           const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc, int32_t load_c,
                           const pw_epilogue *first, const pw_epilogue *second, const float *ahead,
                           ptrdiff_t ahead_step, const float *ahead2, ptrdiff_t ahead2_step, float *restrict copy,
                           const float *restrict column, ptrdiff_t column_ldb, ptrdiff_t j) {
    v16f top[PW_GEMM_MR], bottom[PW_GEMM_MR];
    float *restrict c2 = c + PW_GEMM_MR * ldc;
    for (int i = 0; i < PW_GEMM_MR; i++) top[i] = load_c ? v16_load(c + i * ldc) : v16_splat(0.0f);
    for (int i = 0; i < lower; i++) bottom[i] = load_c ? v16_load(c2 + i * ldc) : v16_splat(0.0f);
    v8f last_top = v8_splat(0.0f), last_bottom = v8_splat(0.0f);
    if (column) {
        last_top = column_start(PW_GEMM_MR, c + j, ldc, load_c);
        if (lower) last_bottom = column_start(lower, c2 + j, ldc, load_c);
    }
    const float *restrict a2 = a + a_panel_stride;
    for (ptrdiff_t p = 0; p < k; p++, a += PW_GEMM_MR, a2 += PW_GEMM_MR, b += ldb) {
        if (prefetch_both || ahead) __builtin_prefetch(ahead + p * ahead_step, 0, 3);
        if (prefetch_both || ahead2) __builtin_prefetch(ahead2 + p * ahead2_step, 0, 3);
        if (column) {
            // An 8-lane load at step p reads two floats past the panel's column p: the last step's
            // would run past the panel, so it loads only six.
            const v8f x = v8_splat(column[p * column_ldb]);
            last_top = (p + 1 < k ? v8_load(a) : v8_load_first(a, PW_GEMM_MR)) * x + last_top;
            if (lower) last_bottom = (p + 1 < k ? v8_load(a2) : v8_load_first(a2, PW_GEMM_MR)) * x + last_bottom;
        }
        const v16f row = v16_load(b);
        if (copy) v16_store(copy + p * PW_GEMM_NR, row);
        for (int i = 0; i < PW_GEMM_MR; i++) top[i] = v16_splat(a[i]) * row + top[i];
        for (int i = 0; i < lower; i++) bottom[i] = v16_splat(a2[i]) * row + bottom[i];
    }
    wide_finish(top, PW_GEMM_MR, c, ldc, first, 0);
    if (lower) wide_finish(bottom, lower, c2, ldc, second, 0);
    if (column) {
        column_finish(last_top, PW_GEMM_MR, 0, j, c, ldc, first);
        if (lower) column_finish(last_bottom, lower, 0, j, c2, ldc, second);
    }
}

/// `mr` (1…6) rows of C by two 16-column strips of B at once (row p of each at b0 + p·ldb and
/// b1 + p·ldb), the tile's first column being column j of the sweep: twelve FMA chains for six
/// rows from two B loads and six broadcasts per k step. (A panel and the next over one strip,
/// `wide_panels`, needs twelve broadcasts for the same twelve FMAs and ran at 85% of a Zen 5
/// core's FMA peak from L1 where this ran at 93%.) With `ahead`/`ahead2` (NULL or not, as
/// `wide_panels`) and `copy` (rows of 32: the two strips' rows side by side) riding along.
PW_INLINE void wide_tile_32(const int mr, ptrdiff_t k, const float *restrict a, ptrdiff_t rsa, ptrdiff_t csa,
                            const float *restrict b0, const float *restrict b1, ptrdiff_t ldb, float *restrict c,
                            ptrdiff_t ldc, int32_t load_c, ptrdiff_t j, const pw_epilogue *epilogue,
                            const float *ahead, const float *ahead2, ptrdiff_t ahead_step, float *restrict copy) {
    v16f left[PW_GEMM_MR], right[PW_GEMM_MR];
    for (int i = 0; i < mr; i++) {
        left[i] = load_c ? v16_load(c + i * ldc) : v16_splat(0.0f);
        right[i] = load_c ? v16_load(c + i * ldc + PW_GEMM_NR) : v16_splat(0.0f);
    }
    for (ptrdiff_t p = 0; p < k; p++, a += csa, b0 += ldb, b1 += ldb) {
        if (ahead) __builtin_prefetch(ahead + p * ahead_step, 0, 3);
        if (ahead2) __builtin_prefetch(ahead2 + p * ahead_step, 0, 3);
        const v16f low = v16_load(b0), high = v16_load(b1);
        if (copy) {
            v16_store(copy + p * 2 * PW_GEMM_NR, low);
            v16_store(copy + p * 2 * PW_GEMM_NR + PW_GEMM_NR, high);
        }
        for (int i = 0; i < mr; i++) {
            const v16f x = v16_splat(a[i * rsa]);
            left[i] = x * low + left[i];
            right[i] = x * high + right[i];
        }
    }
    wide_finish(left, mr, c, ldc, epilogue, j);
    wide_finish(right, mr, c + PW_GEMM_NR, ldc, epilogue, j + PW_GEMM_NR);
}

/// Copies `nz` (1…3) 16-column strips side by side, k rows of 16·nz floats (row p at src + p·ldb)
/// into dst (rows 16·nz apart), asking for each source line `prefetch` floats ahead when
/// prefetch > 0.
PW_INLINE void wide_copy_rows(const float *src, ptrdiff_t ldb, ptrdiff_t k, const int nz, float *dst,
                              ptrdiff_t prefetch) {
    for (ptrdiff_t p = 0; p < k; p++, src += ldb, dst += nz * PW_GEMM_NR) {
        for (int z = 0; z < nz; z++) {
            if (prefetch) __builtin_prefetch(src + z * PW_GEMM_NR + prefetch);
            v16_store(dst + z * PW_GEMM_NR, v16_load(src + z * PW_GEMM_NR));
        }
    }
}

/// `mr` (1…6) rows of a panel of A packed in panels (rsa 1, csa 6) over three 16-column strips
/// side by side (row p's 48 floats at b + p·ldb) and one more column of B read in place
/// (`column`, rows `column_ldb` apart), column 48 of the tile's C: a 7×7 map's 49 pixels in one
/// tile. Eighteen 16-lane accumulators and the column's 8-lane one (the panel's rows in its lanes,
/// as `gemm_tile_column`) fit AVX-512's 32 registers with three B vectors; where the 48 columns
/// ran as a pair of strips and a single one, the single one's tiles ran at 85% of the FMA peak.
/// Unless `copy` is NULL, each B row read is stored there too (rows of 48): the first row panel
/// reading B where it lies leaves the copy the other panels read.
PW_INLINE void wide_tile_48_column(const int mr, ptrdiff_t k, const float *restrict a, const float *restrict b,
                                   ptrdiff_t ldb, const float *restrict column, ptrdiff_t column_ldb,
                                   float *restrict c, ptrdiff_t ldc, int32_t load_c, const pw_epilogue *epilogue,
                                   float *restrict copy) {
    v16f acc[3][PW_GEMM_MR];
    for (int z = 0; z < 3; z++) {
        for (int i = 0; i < mr; i++) acc[z][i] = load_c ? v16_load(c + i * ldc + z * PW_GEMM_NR) : v16_splat(0.0f);
    }
    v8f last = column_start(mr, c + 3 * PW_GEMM_NR, ldc, load_c);
    // The 8-lane A load at step p reads two floats past the panel's column p: the last step's
    // would run past the panel, so it loads only six.
#define PW_48_STEP(ROWS)                                                                          \
    {                                                                                             \
        last = (ROWS) * v8_splat(*column) + last;                                                 \
        const v16f b0 = v16_load(b), b1 = v16_load(b + PW_GEMM_NR), b2 = v16_load(b + 2 * PW_GEMM_NR); \
        if (copy) {                                                                               \
            v16_store(copy + p * 3 * PW_GEMM_NR, b0);                                             \
            v16_store(copy + p * 3 * PW_GEMM_NR + PW_GEMM_NR, b1);                                \
            v16_store(copy + p * 3 * PW_GEMM_NR + 2 * PW_GEMM_NR, b2);                            \
        }                                                                                         \
        for (int i = 0; i < mr; i++) {                                                            \
            const v16f x = v16_splat(a[i]);                                                       \
            acc[0][i] = x * b0 + acc[0][i];                                                       \
            acc[1][i] = x * b1 + acc[1][i];                                                       \
            acc[2][i] = x * b2 + acc[2][i];                                                       \
        }                                                                                         \
    }
    ptrdiff_t p = 0;
    for (; p + 1 < k; p++, a += PW_GEMM_MR, b += ldb, column += column_ldb) PW_48_STEP(v8_load(a))
    if (p < k) PW_48_STEP(v8_load_first(a, PW_GEMM_MR))
#undef PW_48_STEP
    for (int z = 0; z < 3; z++) wide_finish(acc[z], mr, c + z * PW_GEMM_NR, ldc, epilogue, z * PW_GEMM_NR);
    column_finish(last, mr, 0, 3 * PW_GEMM_NR, c, ldc, epilogue);
}

/// The FMA peak of a CPU whose kernels are 512 bits wide (see `PW_DEFINE_FMA_PEAK`).
PW_DEFINE_FMA_PEAK(wide_fma_peak_body, v16f, 16)

#endif
