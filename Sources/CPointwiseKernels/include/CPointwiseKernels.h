// The SIMD kernels of Pointwise. Everything here is called from Swift; the Swift side owns
// shapes, blocking, packing and threading, and these functions only run register tiles.
#ifndef C_POINTWISE_KERNELS_H
#define C_POINTWISE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Largest register tile of the GEMM microkernels: MR rows by NR columns of C.
enum { PW_GEMM_MR = 6, PW_GEMM_NR = 16 };

/// The most rows of C for which `stream_strips` copies each strip (after the first) inside the
/// first row panel's tile rather than in a pass of its own: 64→32 and 256→64 gain from it,
/// 256→256 does not (see kernels.inc).
enum { PW_STRIP_FUSED_ROWS = 64 };

/// Activation applied by the fused epilogue (the values mirror Swift's `Activation`).
typedef enum pw_activation {
    PW_ACTIVATION_IDENTITY = 0,
    PW_ACTIVATION_RELU = 1,
    PW_ACTIVATION_RELU6 = 2,
    PW_ACTIVATION_SIGMOID = 3,
    PW_ACTIVATION_TANH = 4,
    PW_ACTIVATION_SILU = 5,
    PW_ACTIVATION_HARDSWISH = 6,
} pw_activation;

/// What happens to a finished tile before it is stored: C = act(A·B [+ C] + bias + residual).
typedef struct pw_epilogue {
    /// NULL, or the bias values of this tile: one per row, or one per column.
    const float *bias;
    /// Non-zero when `bias` holds one value per column (channels-last output).
    int32_t bias_per_column;
    /// A `pw_activation`.
    int32_t activation;
    /// NULL, or the residual tile, laid out like C with row stride `ldr`.
    const float *residual;
    ptrdiff_t ldr;
} pw_epilogue;

/// Whether a sweep over A panels (element (i, p) at rsa·i + csa·p, panels a_panel_stride apart) of
/// depth k runs a tail of `tail_width` columns down several row panels at once, reading B's tail
/// columns one float at a time (so they may be read in place), rather than in an 8-wide edge tile
/// per panel, which reads all 8 columns of its zero-padded strip.
static inline int32_t pw_sweep_tail_by_column(int32_t tail_width, ptrdiff_t rsa, ptrdiff_t csa,
                                              ptrdiff_t a_panel_stride, ptrdiff_t k) {
    return tail_width > 0 && tail_width <= 3 && rsa == 1 && csa == PW_GEMM_MR && a_panel_stride >= PW_GEMM_MR * k;
}

/// The B operand of a sweep: `width` columns (a multiple of 8) in strips of 16 (strip s at
/// b + s·stride, rows ldb apart; the last one 8 wide when width is not a multiple of 16), then
/// `tail_width` (0…7) more columns at `tail` with rows tail_ldb apart: an 8-wide, zero-padded
/// strip, or, where `pw_sweep_tail_by_column` holds, the columns where they lie (only they are read).
typedef struct pw_strips {
    const float *b;
    ptrdiff_t ldb;
    ptrdiff_t stride;
    ptrdiff_t width;
    const float *tail;
    ptrdiff_t tail_ldb;
    int32_t tail_width;
} pw_strips;

/// A GEMM microkernel: C[m×n] (=|+=) A[m×k]·B[k×n], then the epilogue when it is not NULL.
/// A element (i, p) is at a[i*rsa + p*csa]; B row p is n contiguous floats at b + p*ldb;
/// C row i is n contiguous floats at c + i*ldc. `load_c` adds into C instead of overwriting it.
typedef void (*pw_gemm_kernel)(ptrdiff_t k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                               const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                               int32_t load_c, const pw_epilogue *epilogue);

/// The shape of one depthwise convolution: an input plane of height×width, a square kernel of
/// `kernel` taps a side (3 or 5), `stride` (1 or 2), the padding before the first row and column
/// (the padding after them follows from the output size), and the fused activation.
typedef struct pw_depthwise_geometry {
    ptrdiff_t height, width;
    ptrdiff_t out_height, out_width;
    int32_t kernel, stride;
    ptrdiff_t pad_top, pad_left;
    int32_t activation;
} pw_depthwise_geometry;

/// The kernels for one instruction set: the one registry of what runs where.
typedef struct pw_kernel_config {
    /// Kernel family name, e.g. "gemm-6x16-fma3".
    const char *name;
    /// Instruction set the family was compiled for: "avx2+fma", "neon" or "generic".
    const char *isa;
    /// gemm[m-1][0] computes an m×8 tile, gemm[m-1][1] an m×16 tile, for m = 1…6.
    pw_gemm_kernel gemm[PW_GEMM_MR][2];
    /// Runs every register tile of the m×(strips.width + strips.tail_width) block of C: row panels
    /// of 6 (panel i of A at a + i·a_panel_stride, the last one smaller) by the strips of B, row panel
    /// by row panel when `rows_outer`, else strip by strip. Over A packed in panels (rsa 1, csa 6,
    /// panels ≥ 6·k apart) a tail of up to 3 columns comes last, all its columns down up to 8
    /// panels at a time, each panel's rows in the lanes of a vector; otherwise tail tiles are
    /// computed in a local 8-wide tile and only their valid columns stored. Either way each
    /// element of C gets the same operations. The epilogue, when given, describes element (0, 0);
    /// its bias and residual pointers move with each tile.
    void (*sweep)(int32_t rows_outer, ptrdiff_t m, ptrdiff_t k, const float *a,
                  ptrdiff_t rsa, ptrdiff_t csa, ptrdiff_t a_panel_stride, const pw_strips *strips,
                  float *c, ptrdiff_t ldc, int32_t load_c, const pw_epilogue *epilogue);
    /// `pw_pack_strips` for a source whose columns are contiguous (rs = 1), with column stride cs.
    void (*pack_transposed)(const float *src, ptrdiff_t cs, ptrdiff_t depth, ptrdiff_t width,
                            float *dst);
    /// `pw_pack_panels` for a source whose rows are contiguous (cs = 1), with row stride rs: the
    /// same floats in the same places, eight columns at a time through register transposes.
    void (*pack_panels)(const float *src, ptrdiff_t rs, ptrdiff_t rows, ptrdiff_t depth, float *dst);
    /// `pw_pack_panels` for a source whose columns are contiguous (rs = 1), with column stride cs:
    /// a channels-first image read as the pixels × channels A of a transposed product.
    void (*pack_columns)(const float *src, ptrdiff_t cs, ptrdiff_t rows, ptrdiff_t depth, float *dst);
    /// `pw_pack_strips` for a source whose rows are contiguous (cs = 1), with row stride rs.
    void (*pack_rows)(const float *src, ptrdiff_t rs, ptrdiff_t depth, ptrdiff_t width, float *dst);
    /// dst (columns × rows) = the transpose of src (rows × columns), both row-major: a channels-first
    /// image's [C, P] into channels-last [P, C] and back.
    void (*transpose)(const float *src, ptrdiff_t rows, ptrdiff_t columns, float *dst);
    /// dst (columns × rows, row stride ldd) = the epilogue applied to the transpose of src (rows ×
    /// columns, row stride lds), the epilogue (or NULL) describing dst's element (0, 0) with one
    /// bias value per dst row and a residual laid out like dst: a transposed product's block,
    /// computed into scratch, stored into its channels-first output.
    void (*transpose_out)(const float *src, ptrdiff_t lds, ptrdiff_t rows, ptrdiff_t columns, float *dst,
                          ptrdiff_t ldd, const pw_epilogue *epilogue);
    /// C[m × width] (=|+=) A·B then the epilogue (panel q of A at a + q·a_panel_stride, its
    /// element (i, p) at [i·rsa + p·csa]; B row p at b + p·ldb; width a multiple of 8), read
    /// straight from B: for each block of columns (as many as 16 KiB of B holds, 16 to 256), every
    /// row panel with the whole k loop. The streaming path for outputs with very few channels or
    /// inputs with very few (k small).
    void (*stream_rows)(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                        ptrdiff_t a_panel_stride, const float *b, ptrdiff_t ldb, ptrdiff_t width, float *c, ptrdiff_t ldc,
                        int32_t load_c, const pw_epilogue *epilogue);
    /// Sweeps C strip by strip across n columns (a multiple of 8): each 16-column strip of B (rows
    /// at b + p·ldb; with AVX-512, two or three strips side by side) is copied into `scratch`
    /// (`pw_stream_strips_scratch_floats(k)` floats), by the first row panel's tile as it reads it
    /// where C has 6 to `PW_STRIP_FUSED_ROWS` rows (every strip but the first), and stays in L1
    /// while every other row panel of C runs over it. Rows ending in a panel of two (m = 6q + 2, q
    /// ≥ 1) end in two tiles of four instead (8-lane kernels). `prefetch` > 0 asks for the source
    /// row that many floats ahead of the strip being read, so the next strips arrive from memory in
    /// time. With `last_column` (n a multiple of 16, A packed in panels: rsa = 1, csa = 6, panels ≥
    /// 6k apart), column n of C from column n of B is computed too, mostly inside the last strip's
    /// full tiles.
    void (*stream_strips)(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                          ptrdiff_t a_panel_stride, const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c,
                          ptrdiff_t ldc, int32_t load_c, const pw_epilogue *epilogue, float *scratch,
                          ptrdiff_t prefetch, int32_t last_column);
    /// x[i] = act(x[i]) for i < n, with the same arithmetic as the epilogue.
    void (*activate)(float *x, ptrdiff_t n, int32_t activation);
    /// dz[i] = dy[i] * act'(z[i]) for i < n, where z is the pre-activation.
    void (*activation_backward)(float *dz, const float *dy, const float *z, ptrdiff_t n,
                                int32_t activation);
    /// Runs `iterations` steps of independent register-only FMAs; returns the flops done.
    double (*fma_peak_loop)(int64_t iterations);
    /// Depthwise convolution of `count` channels-first planes, one at a time: x and y the first
    /// input (height×width) and output (out_height×out_width) planes, the others `x_plane` and
    /// `y_plane` floats apart (a plane's rows are contiguous, so g may describe a band of rows of
    /// larger planes), w their kernel×kernel taps [count][kernel·kernel], then act(· + bias), bias
    /// NULL or `count` values. `padded` is scratch of `pw_depthwise_scratch_floats(g)` floats.
    /// Returns 0 when kernel or stride is unsupported.
    int32_t (*depthwise_planes)(const pw_depthwise_geometry *g, ptrdiff_t count, const float *x, ptrdiff_t x_plane,
                                const float *w, const float *bias, float *y, ptrdiff_t y_plane, float *padded);
    /// Depthwise convolution of output rows [row_begin, row_end) of one channels-last image
    /// (x: height×width×channels, y: out_height×out_width×channels), taps w as
    /// [kernel·kernel][channels], bias NULL or `channels` values. `scratch` holds
    /// `pw_depthwise_rows_scratch_floats(g, channels, row_end − row_begin)` floats (none for some
    /// geometries). Returns 0 when unsupported.
    int32_t (*depthwise_rows)(const pw_depthwise_geometry *g, ptrdiff_t channels, const float *x,
                              const float *w, const float *bias, float *y, ptrdiff_t row_begin,
                              ptrdiff_t row_end, float *scratch);
    /// Depthwise convolution of `count` (1…`depthwise_group_planes`) channels-first planes at once,
    /// at stride 2 and for planes too narrow to fill vectors on their own
    /// (`pw_depthwise_groups(g)`): x and y the first input and output planes, the others `x_plane`
    /// and `y_plane` floats apart (a plane's rows are contiguous, so g may describe a band of rows
    /// of larger planes), w their taps [count][kernel·kernel], bias NULL or `count` values.
    /// `scratch` holds `pw_depthwise_group_scratch_floats(g)` floats. The same bits as
    /// `depthwise_planes` on each plane. Returns 0 when kernel or stride is unsupported.
    int32_t (*depthwise_group)(const pw_depthwise_geometry *g, ptrdiff_t count, const float *x, ptrdiff_t x_plane,
                               const float *w, const float *bias, float *y, ptrdiff_t y_plane, float *scratch);
    /// The most planes `depthwise_group` takes at once: 8, or 16 in the AVX-512 family, whose
    /// channels-last loops run 16 channels per vector.
    int32_t depthwise_group_planes;
    /// Output rows [row_begin, row_end) of a dense K×K stride-S convolution of one image with few
    /// input channels (a network stem), computed directly, then the activation: x cin×height×width
    /// (channels-first) or, with `x_channels_last`, height×width×cin → y cout×out_height×out_width
    /// or, with `y_channels_last`, out_height×out_width×cout — either layout in, either out, so
    /// that a network running channels-last takes a channels-first picture without a conversion
    /// pass. Weights packed tap-major [cin·K·K][pw_stem_weight_stride(cout)] (zeros after cout),
    /// bias cout values or NULL. `scratch` holds `pw_stem_scratch_floats(g, cin)` floats. Any K and
    /// stride (the geometry's), dilation 1.
    void (*stem_rows)(const pw_depthwise_geometry *g, ptrdiff_t cin, ptrdiff_t cout, int32_t x_channels_last,
                      int32_t y_channels_last, const float *x, const float *w, const float *bias, float *y,
                      ptrdiff_t row_begin, ptrdiff_t row_end, float *scratch);
} pw_kernel_config;

/// The scratch `depthwise_planes` needs for geometry g, in floats.
ptrdiff_t pw_depthwise_scratch_floats(const pw_depthwise_geometry *g);

/// The scratch `depthwise_rows` needs for `rows` output rows of geometry g with `channels`
/// channels, in floats: 0 where it convolves the input in place.
ptrdiff_t pw_depthwise_rows_scratch_floats(const pw_depthwise_geometry *g, ptrdiff_t channels, ptrdiff_t rows);

/// Whether channels-first depthwise convolutions of geometry g run eight planes at a time
/// (`depthwise_group`) rather than plane by plane (`depthwise_planes`).
int32_t pw_depthwise_groups(const pw_depthwise_geometry *g);

/// Output rows [first_output_row, first_output_row + rows) of a plane of geometry g as a plane of
/// its own, whose input starts at input row `*first_input_row`: the rows above it become padding
/// or are left out, those below it stay (the kernels read only the rows its windows reach). Each
/// output keeps its window, so it gets the same bits.
pw_depthwise_geometry pw_depthwise_band(const pw_depthwise_geometry *g, ptrdiff_t first_output_row, ptrdiff_t rows,
                                        ptrdiff_t *first_input_row);

/// The scratch `depthwise_group` needs for geometry g, in floats.
ptrdiff_t pw_depthwise_group_scratch_floats(const pw_depthwise_geometry *g);

/// The scratch `stream_strips` needs for a k of `k`, in floats: three strips (the AVX-512 kernels
/// copy two or three at a time), and the last rows of A repacked.
ptrdiff_t pw_stream_strips_scratch_floats(ptrdiff_t k);

/// The scratch `stem_rows` needs for geometry g and `cin` input channels, in floats.
ptrdiff_t pw_stem_scratch_floats(const pw_depthwise_geometry *g, ptrdiff_t cin);

/// The floats between consecutive taps in `stem_rows`' packed weights for `cout` output channels:
/// cout rounded up to a multiple of 32.
ptrdiff_t pw_stem_weight_stride(ptrdiff_t cout);

/// Copies the depth×width block whose element (p, j) is src[p·rs + j·cs] into dst with row stride
/// dst_stride, zero-filling columns width..<dst_stride.
void pw_pack_strip(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t depth, ptrdiff_t width,
                   float *dst, ptrdiff_t dst_stride);

/// Packs the rows×depth block whose element (i, p) is src[i·rs + p·cs] into panels of 6 rows
/// (panel q at dst + q·6·depth, element (i, p) of a panel at p·6 + i, zero-padded), the layout
/// the microkernels read A in.
void pw_pack_panels(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t rows, ptrdiff_t depth,
                    float *dst);
/// Packs the depth×width block whose element (p, j) is src[p·rs + j·cs] into strips of 16
/// columns (strip s at dst + s·16·depth, rows of 16, zero-padded), reading the source in its
/// memory order so hardware prefetchers can follow it.
void pw_pack_strips(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t depth, ptrdiff_t width,
                    float *dst);

/// One worker's share of a parallel loop: `worker` is 0…count−1.
typedef void (*pw_task_fn)(void *context, int32_t worker);
/// Calls fn(context, t) for t in 0…count−1, t = 0 on the calling thread and the others on a pool
/// of worker threads kept for the next loop (they spin briefly, then sleep), and returns when all
/// have returned. Loops started from inside a loop, or while another thread's loop runs, run
/// serially on the caller: every share still runs exactly once.
void pw_parallel_run(int32_t count, pw_task_fn fn, void *context);
/// The fastest kernels this CPU supports: AVX-512 (F and VL) when present, else AVX2+FMA when
/// present, else the portable ones.
const pw_kernel_config *pw_kernel_config_best(void);

/// The AVX2+FMA kernels, or NULL where the CPU (or the build's architecture) lacks them.
const pw_kernel_config *pw_kernel_config_avx2(void);

/// The AVX-512 kernels (16-lane GEMM tiles, the rest as AVX2 compiled for AVX-512), or NULL where
/// the CPU (or the build's architecture) lacks AVX-512 F and VL or the OS does not save its state.
const pw_kernel_config *pw_kernel_config_avx512(void);

/// The portable kernels (vector extensions, no ISA-specific code): NEON on arm64, SSE2 on x86-64.
const pw_kernel_config *pw_kernel_config_portable(void);

/// Sets (enable ≠ 0) or clears flush-to-zero and denormals-are-zero for the calling thread;
/// returns whether they were set before. Without them, arithmetic on subnormal floats can be
/// many times slower on some CPUs.
int pw_flush_subnormals(int enable);

/// Makes the C library's allocator (glibc) serve blocks of up to `bytes` (from 128 KiB, glibc's
/// starting threshold, to 32 MiB, its ceiling) from its heap instead of mapping each one afresh,
/// and keep up to `bytes` of freed heap instead of returning it to the operating system. Returns 1
/// where it applied, 0 elsewhere.
int pw_retain_freed_memory(size_t bytes);

/// The allocator's bytes in its heaps, in blocks mapped one by one, and free within its heaps
/// (glibc 2.33 or later: `mallinfo2`, over all arenas). Returns 1 where known, else 0 with all
/// three 0.
int pw_allocator_statistics(size_t *heap, size_t *mapped, size_t *free_in_heap);

#endif
