// The loops just above the microkernels: they run many register tiles per call from Swift, so
// per-tile bookkeeping costs a few instructions rather than a trip through the Swift driver.
#include "CPointwiseKernels.h"

void pw_gemm_sweep_rows(const pw_kernel_config *config, ptrdiff_t m, ptrdiff_t k, const float *a,
                        ptrdiff_t rsa, ptrdiff_t csa, ptrdiff_t a_panel_stride, const float *b,
                        ptrdiff_t ldb, int32_t nv, float *c, ptrdiff_t ldc, int32_t load_c,
                        const pw_epilogue *epilogue) {
    pw_epilogue tile;
    for (ptrdiff_t i = 0; i < m; i += PW_GEMM_MR) {
        const ptrdiff_t mr = m - i < PW_GEMM_MR ? m - i : PW_GEMM_MR;
        const pw_epilogue *e = NULL;
        if (epilogue) {
            tile = *epilogue;
            if (tile.bias && !tile.bias_per_column) tile.bias += i;
            if (tile.residual) tile.residual += i * tile.ldr;
            e = &tile;
        }
        config->gemm[mr - 1][nv - 1](k, a + (i / PW_GEMM_MR) * a_panel_stride, rsa, csa, b, ldb,
                                     c + i * ldc, ldc, load_c, e);
    }
}

void pw_gemm_sweep_columns(const pw_kernel_config *config, int32_t mr, ptrdiff_t k, const float *a,
                           ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
                           ptrdiff_t b_strip_stride, ptrdiff_t n, float *c, ptrdiff_t ldc,
                           int32_t load_c, const pw_epilogue *epilogue) {
    pw_epilogue tile;
    for (ptrdiff_t j = 0; j < n; j += PW_GEMM_NR) {
        const int nv = n - j >= PW_GEMM_NR ? 2 : 1;
        const pw_epilogue *e = NULL;
        if (epilogue) {
            tile = *epilogue;
            if (tile.bias && tile.bias_per_column) tile.bias += j;
            if (tile.residual) tile.residual += j;
            e = &tile;
        }
        config->gemm[mr - 1][nv - 1](k, a, rsa, csa, b + (j / PW_GEMM_NR) * b_strip_stride, ldb, c + j,
                                     ldc, load_c, e);
    }
}

void pw_pack_strip(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t depth, ptrdiff_t width,
                   float *dst, ptrdiff_t dst_stride) {
    for (ptrdiff_t p = 0; p < depth; p++) {
        const float *from = src + p * rs;
        float *to = dst + p * dst_stride;
        if (cs == 1 && width == 16) {
            for (int j = 0; j < 16; j++) to[j] = from[j];
        } else {
            for (ptrdiff_t j = 0; j < width; j++) to[j] = from[j * cs];
        }
        for (ptrdiff_t j = width; j < dst_stride; j++) to[j] = 0.0f;
    }
}

void pw_pack_strips(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t depth, ptrdiff_t width,
                    float *dst) {
    const ptrdiff_t strips = (width + PW_GEMM_NR - 1) / PW_GEMM_NR, full = width / PW_GEMM_NR;
    if (cs != 1) {
        for (ptrdiff_t s = 0; s < strips; s++) {
            const ptrdiff_t w = width - s * PW_GEMM_NR < PW_GEMM_NR ? width - s * PW_GEMM_NR : PW_GEMM_NR;
            pw_pack_strip(src + s * PW_GEMM_NR * cs, rs, cs, depth, w, dst + s * PW_GEMM_NR * depth, PW_GEMM_NR);
        }
        return;
    }
    for (ptrdiff_t p = 0; p < depth; p++) {
        const float *from = src + p * rs;
        for (ptrdiff_t s = 0; s < full; s++) {
            float *to = dst + s * PW_GEMM_NR * depth + p * PW_GEMM_NR;
            for (int j = 0; j < PW_GEMM_NR; j++) to[j] = from[s * PW_GEMM_NR + j];
        }
        if (full < strips) {
            float *to = dst + full * PW_GEMM_NR * depth + p * PW_GEMM_NR;
            const ptrdiff_t rest = width - full * PW_GEMM_NR;
            for (ptrdiff_t j = 0; j < rest; j++) to[j] = from[full * PW_GEMM_NR + j];
            for (ptrdiff_t j = rest; j < PW_GEMM_NR; j++) to[j] = 0.0f;
        }
    }
}
