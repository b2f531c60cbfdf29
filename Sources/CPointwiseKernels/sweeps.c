// The loops just above the microkernels: they run many register tiles per call from Swift, so
// per-tile bookkeeping costs a few instructions rather than a trip through the Swift driver.
#include "CPointwiseKernels.h"

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

void pw_pack_panels(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t rows, ptrdiff_t depth,
                    float *dst) {
    for (ptrdiff_t i0 = 0; i0 < rows; i0 += PW_GEMM_MR) {
        const ptrdiff_t mr = rows - i0 < PW_GEMM_MR ? rows - i0 : PW_GEMM_MR;
        float *panel = dst + i0 * depth;
        for (ptrdiff_t i = 0; i < mr; i++) {
            const float *from = src + (i0 + i) * rs;
            for (ptrdiff_t p = 0; p < depth; p++) panel[p * PW_GEMM_MR + i] = from[p * cs];
        }
        for (ptrdiff_t i = mr; i < PW_GEMM_MR; i++) {
            for (ptrdiff_t p = 0; p < depth; p++) panel[p * PW_GEMM_MR + i] = 0.0f;
        }
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

void pw_gemm_stream_strips(const pw_kernel_config *config, ptrdiff_t m, ptrdiff_t k, const float *a,
                           ptrdiff_t rsa, ptrdiff_t csa, ptrdiff_t a_panel_stride, const float *b,
                           ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, int32_t load_c,
                           const pw_epilogue *epilogue, float *scratch, ptrdiff_t prefetch) {
    pw_epilogue strip;
    for (ptrdiff_t j = 0; j < n; j += PW_GEMM_NR) {
        const int32_t nv = n - j >= PW_GEMM_NR ? 2 : 1;
        const float *from = b + j;
        for (ptrdiff_t p = 0; p < k; p++) {
            if (prefetch) __builtin_prefetch(from + p * ldb + prefetch);
            for (int q = 0; q < 8 * nv; q++) scratch[p * 8 * nv + q] = from[p * ldb + q];
        }
        const pw_epilogue *e = NULL;
        if (epilogue) {
            strip = *epilogue;
            if (strip.bias && strip.bias_per_column) strip.bias += j;
            if (strip.residual) strip.residual += j;
            e = &strip;
        }
        const pw_strips strip_set = {.b = scratch, .ldb = 8 * nv, .stride = 0, .width = 8 * nv};
        config->sweep(0, m, k, a, rsa, csa, a_panel_stride, &strip_set, c + j, ldc, load_c, e);
    }
}
