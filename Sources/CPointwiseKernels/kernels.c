// Instantiates the kernel bodies for each instruction set and picks one at run time.
#include "CPointwiseKernels.h"

// MARK: - Portable (NEON on arm64, SSE2 on x86-64)
#define PW_TARGET
#define PW_NAME(x) portable_##x
#if defined(__aarch64__)
#define PW_FAMILY_NAME "gemm-6x16-neon"
#define PW_ISA_NAME "neon"
#else
#define PW_FAMILY_NAME "gemm-6x16-portable"
#define PW_ISA_NAME "generic"
#endif
#include "kernels.inc"
#undef PW_TARGET
#undef PW_NAME
#undef PW_FAMILY_NAME
#undef PW_ISA_NAME

// MARK: - x86-64 AVX2 + FMA3
#if defined(__x86_64__)
// Each kernel starts on a 64-byte line, so where its loops fall against the lines (which moved
// the streaming kernel's speed by 2–4% on a Zen 3 core) does not shift with unrelated code.
#define PW_TARGET __attribute__((target("avx2,fma"), aligned(64)))
#define PW_NAME(x) avx2_##x
#define PW_FAMILY_NAME "gemm-6x16-fma3"
#define PW_ISA_NAME "avx2+fma"
#include "kernels.inc"
#undef PW_TARGET
#undef PW_NAME
#undef PW_FAMILY_NAME
#undef PW_ISA_NAME

// MARK: - x86-64 AVX-512 (F and VL)
// The same bodies, and 16-lane vectors for the GEMM's full strips (wide_bodies.h) and the depthwise
// and stem tiles (`PW_IS_WIDE` in kernels.inc).
#include "wide_bodies.h"
#define PW_TARGET __attribute__((target(PW_AVX512_FEATURES), aligned(64)))
#define PW_NAME(x) avx512_##x
#define PW_FAMILY_NAME "gemm-6x16-avx512"
#define PW_ISA_NAME "avx512f"
#define PW_WIDE 1
#include "kernels.inc"
#undef PW_WIDE
#endif

// MARK: - Registry

const pw_kernel_config *pw_kernel_config_portable(void) { return &portable_config; }

const pw_kernel_config *pw_kernel_config_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2_config;
#endif
    return NULL;
}

const pw_kernel_config *pw_kernel_config_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (pw_kernel_config_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
        return &avx512_config;
#endif
    return NULL;
}

const pw_kernel_config *pw_kernel_config_best(void) {
    if (pw_kernel_config_avx512()) return pw_kernel_config_avx512();
    if (pw_kernel_config_avx2()) return pw_kernel_config_avx2();
    return &portable_config;
}

ptrdiff_t pw_stream_strips_scratch_floats(ptrdiff_t k) { return k * (3 * PW_GEMM_NR + PW_GEMM_MR); }

ptrdiff_t pw_stem_scratch_floats(const pw_depthwise_geometry *g, ptrdiff_t cin) {
    // The ring of input rows, a pointer and an offset per tap, the row number each ring slot holds, and
    // (channels-last) one input row split into channels.
    const ptrdiff_t taps = cin * g->kernel * g->kernel;
    const ptrdiff_t bytes = taps * (ptrdiff_t)(sizeof(float *) + sizeof(ptrdiff_t)) + g->kernel * (ptrdiff_t)sizeof(ptrdiff_t);
    return stem_ring_floats(g, cin) + bytes / (ptrdiff_t)sizeof(float) + cin * g->width;
}

ptrdiff_t pw_stem_weight_stride(ptrdiff_t cout) { return stem_weight_stride(cout); }

ptrdiff_t pw_depthwise_scratch_floats(const pw_depthwise_geometry *g) {
    // Eight spare floats for the vector stores that overshoot the last row.
    return ((g->out_height - 1) * g->stride + g->kernel) * depthwise_padded_width(g) + 8;
}

ptrdiff_t pw_depthwise_rows_scratch_floats(const pw_depthwise_geometry *g, ptrdiff_t channels, ptrdiff_t rows) {
    if (!depthwise_pads_rows(g) || rows < 1) return 0;
    // The input rows the output rows reach, padded; eight spare floats for the zeros that
    // overshoot the last row.
    return ((rows - 1) * g->stride + g->kernel) * depthwise_row_pitch(g) * channels + 8;
}

int32_t pw_depthwise_groups(const pw_depthwise_geometry *g) { return depthwise_groups(g); }

pw_depthwise_geometry pw_depthwise_band(const pw_depthwise_geometry *g, ptrdiff_t first_output_row, ptrdiff_t rows,
                                        ptrdiff_t *first_input_row) {
    return depthwise_band(g, first_output_row, rows, first_input_row);
}

ptrdiff_t pw_depthwise_group_scratch_floats(const pw_depthwise_geometry *g) {
    // Enough for a group of 8 planes or of 16, whichever family runs.
    const ptrdiff_t eight = depthwise_group_floats(g, 8), sixteen = depthwise_group_floats(g, 16);
    return eight > sixteen ? eight : sixteen;
}
