// The portable packing routines: copies of operands into the layouts the microkernels read, for
// the shapes the per-instruction-set packers (kernels.inc) do not cover.
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
