// The network stem: a dense K×K stride-S convolution of an image with few input channels (RGB),
// computed directly, one output row at a time.
//
// For each output row, every input row it reads is split into its S phases: phase r holds columns
// r, r + S, r + 2S, …, zero-padded on both sides. Tap (c, kh, kw) of output column ow reads column
// S·ow + kw − left = S·(ow + q) + r, so the tap's inputs for consecutive output columns are
// consecutive floats of one phase row, starting at offset q: plain vector loads, no gathers, and
// no edge cases in the inner loop. The phase rows of one output row (cin·K·S rows of about OW
// floats, 9 KB for EfficientNet's stem) stay in L1 while every output channel reads them.
//
// The output is then an M×16 register block — M ≤ 6 output channels × 16 pixels, 12 accumulators —
// updated once per tap with 2 vector loads and M broadcast weights: the shape of the GEMM's 6×16
// microkernel, so the FMA units, not loads, set the pace. (im2col + GEMM would write and re-read
// the whole patch matrix, 1.35 MB for a 224×224 stem, through memory.) Channels-last output swaps
// the roles: 6 pixels × 16 output channels, the weights a vector and each pixel's input a broadcast
// (stem_blocks.inc). The AVX-512 family runs that block 6 pixels × 32 channels in 16-lane vectors,
// and for channels-first output too: 8 pixels × 32 channels, transposed in registers.
//
// That block needs no phases: a broadcast reads any address as cheaply as the next. So when the
// pixels' inputs lie a fixed PS floats apart in the input's own rows — PS = S reading a
// channels-first picture, PS = S·cin a channels-last one — each input row is only copied, with its
// padding, into the ring of rows, and the taps read it with that stride. For an RGB stem at stride
// 2 (PS 2 or 6) skipping the deinterleave took EfficientNet's channels-last stem from 0.27 to
// 0.25 ms on one Zen 3 core.
#ifndef PW_STEM_BODIES_H
#define PW_STEM_BODIES_H

#include "vector.h"
#include "depthwise_bodies.h"  // PW_UNROLL
#include "kernel_bodies.h"     // activate_body

/// Pixels a register block covers: the output width is processed in blocks of 16.
#define PW_STEM_BLOCK 16

/// Zero floats before a phase row's first column, enough for the most negative tap offset
/// q = ⌊−left / S⌋.
PW_INLINE ptrdiff_t stem_phase_lead(const pw_depthwise_geometry *g) {
    return (g->pad_left + g->stride - 1) / g->stride;
}

/// Floats of one phase row: the lead, the output width rounded up to whole blocks, and the largest
/// tap offset q = ⌊(K − 1 − left) / S⌋ after it.
PW_INLINE ptrdiff_t stem_phase_width(const pw_depthwise_geometry *g) {
    const ptrdiff_t blocks = (g->out_width + PW_STEM_BLOCK - 1) / PW_STEM_BLOCK * PW_STEM_BLOCK;
    const ptrdiff_t last = g->kernel - 1 - g->pad_left;
    return stem_phase_lead(g) + blocks + (last > 0 ? last / g->stride : 0) + 1;
}

/// Floats of all phase rows of one output row, rounded up to keep the tap pointers after them aligned.
PW_INLINE ptrdiff_t stem_phase_floats(const pw_depthwise_geometry *g, ptrdiff_t cin) {
    return (cin * g->kernel * g->stride * stem_phase_width(g) + 7) / 8 * 8;
}

/// Floats of one channel's input row copied for the direct path (`stem_direct_stride`): the left
/// padding, the row, and zeros out to the last column a tap reaches.
PW_INLINE ptrdiff_t stem_direct_width(const pw_depthwise_geometry *g) {
    const ptrdiff_t row = g->pad_left + g->width, reach = g->stride * (g->out_width - 1) + g->kernel;
    return row > reach ? row : reach;
}

/// The ring of input rows one output row reads, in floats: phase rows, or the direct path's
/// padded copies, whichever is longer (one layout serves both), rounded up to keep the tap
/// pointers after it aligned.
PW_INLINE ptrdiff_t stem_ring_floats(const pw_depthwise_geometry *g, ptrdiff_t cin) {
    const ptrdiff_t direct = (cin * g->kernel * stem_direct_width(g) + 7) / 8 * 8, phases = stem_phase_floats(g, cin);
    return direct > phases ? direct : phases;
}

/// The stride, in floats, between consecutive output pixels' inputs in the input's rows when the
/// direct path runs (the channels-last register blocks, `pixel_blocks`): S for a channels-first
/// input, S·cin for a channels-last one; 0 (phase rows) for the channels-first blocks or another
/// stride. The strides are compile-time constants of the register block; 2 and 6 are an RGB stem's
/// at stride 2.
PW_INLINE int stem_direct_stride(const pw_depthwise_geometry *g, ptrdiff_t cin, int32_t x_channels_last,
                                 int pixel_blocks) {
    const ptrdiff_t stride = x_channels_last ? g->stride * cin : g->stride;
    return pixel_blocks && (stride == 2 || stride == 6) ? (int)stride : 0;
}

/// The direct path's copy of input row `in` (channels-first: one channel's `width` floats;
/// channels-last: width × cin; NULL for a row of padding) into `out`, `floats` long in all, after
/// `lead` floats of left padding and followed by zeros.
PW_INLINE void stem_copy_row(const float *in, ptrdiff_t count, ptrdiff_t lead, ptrdiff_t floats, float *out) {
    ptrdiff_t j = 0;
    if (in) {
        for (; j < lead; j++) out[j] = 0.0f;
        for (ptrdiff_t i = 0; i < count; i++) out[lead + i] = in[i];
        j = lead + count;
    }
    for (; j < floats; j++) out[j] = 0.0f;
}

/// Fills the S phase rows of one channel's input row `in` (channels-first; NULL for a row of
/// padding) into `phases`, `width` floats apart: phase r at j is column S·(j − lead) + r, zero
/// outside the row.
PW_INLINE void stem_fill_phases(const pw_depthwise_geometry *g, const float *in, float *phases) {
    const ptrdiff_t S = g->stride, W = g->width, lead = stem_phase_lead(g), width = stem_phase_width(g);
    if (!in) {
        for (ptrdiff_t j = 0; j < S * width; j++) phases[j] = 0.0f;
        return;
    }
    ptrdiff_t start = 0;  // the first j whose vectors run from column S·(j − lead) ≥ 0
    if (S == 2) {
        // Both phases from the same two loads: even lanes to phase 0, odd lanes to phase 1.
        start = lead;
        ptrdiff_t j = start;
        for (; j + 8 <= width && 2 * (j - lead) + 16 <= W; j += 8) {
            const v8f a = v8_load(in + 2 * (j - lead)), b = v8_load(in + 2 * (j - lead) + 8);
            v8_store(phases + j, v8_even(a, b));
            v8_store(phases + width + j, v8_odd(a, b));
        }
        for (ptrdiff_t r = 0; r < 2; r++) {
            for (ptrdiff_t i = j; i < width; i++) {
                const ptrdiff_t iw = 2 * (i - lead) + r;
                phases[r * width + i] = iw < W ? in[iw] : 0.0f;
            }
        }
        for (ptrdiff_t r = 0; r < 2; r++) {
            for (ptrdiff_t i = 0; i < start; i++) {
                const ptrdiff_t iw = 2 * (i - lead) + r;
                phases[r * width + i] = iw >= 0 ? in[iw] : 0.0f;
            }
        }
        return;
    }
    for (ptrdiff_t r = 0; r < S; r++) {
        float *p = phases + r * width;
        ptrdiff_t j = 0;
        for (; j < width && S * (j - lead) + r < 0; j++) p[j] = 0.0f;
        if (S == 1) {
            for (; j + 8 <= width && (j - lead) + 8 <= W; j += 8) v8_store(p + j, v8_load(in + (j - lead)));
        }
        for (; j < width; j++) {
            const ptrdiff_t iw = S * (j - lead) + r;
            p[j] = iw < W ? in[iw] : 0.0f;
        }
    }
}

/// Channels-last: splits input row `in` (width × CIN floats, CIN = 1…4) into CIN channel rows,
/// `planes` apart: a loop the compiler vectorizes with shuffles when CIN is a constant.
PW_INLINE void stem_split_channels(const int CIN, const float *in, ptrdiff_t width, float *out, ptrdiff_t planes) {
    for (ptrdiff_t iw = 0; iw < width; iw++) {
        PW_UNROLL
        for (int c = 0; c < CIN; c++) out[c * planes + iw] = in[iw * CIN + c];
    }
}

/// The activations the blocks finish in registers: ReLU and ReLU6, a clamp to [0, hi]. The
/// others (sigmoid, tanh, SiLU, hard-swish) go through `activate_body` over each finished row
/// while it is in L1. Either way every element gets `v8_activate`'s arithmetic, bit for bit; a
/// switch on the activation in every block's epilogue cost this kernel a quarter of its speed.
PW_INLINE int stem_clamps(int32_t activation) {
    return activation == PW_ACTIVATION_RELU || activation == PW_ACTIVATION_RELU6;
}

// The channels-last register blocks, at 8 lanes (`stem_block_nhwc_8`, …) and 16
// (`stem_block_nhwc_16`, …).
#define PW_LANES 8
#include "stem_blocks.inc"
#define PW_LANES 16
#include "stem_blocks.inc"

/// Channels-first: M output channels (1…6) × NV vectors (1 or 2) of 8 pixels from column `ow`:
/// bias, the taps in order, then the row's valid pixels stored into the M output planes (all
/// 8·NV when `full`), clamped to [0, hi] when `clamp`. `tap[t]` points at tap t's input for output
/// column 0; `w` is weights [taps][ldw] from channel o.
PW_INLINE void stem_block(const int M, const int NV, const int full, const int clamp, float hi,
                          const pw_depthwise_geometry *g, ptrdiff_t taps, const float *const *tap, const float *w,
                          ptrdiff_t ldw, const float *bias, float *y, ptrdiff_t plane, ptrdiff_t ow) {
    v8f acc[6][2];
    PW_UNROLL
    for (int j = 0; j < M; j++) {
        PW_UNROLL
        for (int v = 0; v < NV; v++) acc[j][v] = v8_splat(bias ? bias[j] : 0.0f);
    }
    const float *wt = w;
    for (const float *const *next = tap, *const *end = tap + taps; next != end; next++, wt += ldw) {
        const float *p = *next + ow;
        v8f in[2];
        PW_UNROLL
        for (int v = 0; v < NV; v++) in[v] = v8_load(p + 8 * v);
        PW_UNROLL
        for (int j = 0; j < M; j++) {
            const v8f weight = v8_splat(wt[j]);
            PW_UNROLL
            for (int v = 0; v < NV; v++) acc[j][v] = weight * in[v] + acc[j][v];
        }
    }
    PW_UNROLL
    for (int j = 0; j < M; j++) {
        PW_UNROLL
        for (int v = 0; v < NV; v++)
            stem_store_8(full, clamp, hi, acc[j][v], y + j * plane + ow + 8 * v, g->out_width - (ow + 8 * v));
    }
}

/// Channels-first: one output row of channels o ..< o + M (M = 1…6), across the row in blocks of
/// 16 pixels, then what is left (1…15 pixels) in one block of 2 or 1 vectors.
PW_INLINE void stem_channels(const int M, const int clamp, float hi, const pw_depthwise_geometry *g, ptrdiff_t taps,
                             const float *const *tap, const float *w, ptrdiff_t ldw, const float *bias, float *y,
                             ptrdiff_t plane) {
    ptrdiff_t ow = 0;
    for (; ow + 16 <= g->out_width; ow += 16) stem_block(M, 2, 1, clamp, hi, g, taps, tap, w, ldw, bias, y, plane, ow);
    if (ow + 8 < g->out_width) {
        stem_block(M, 2, 0, clamp, hi, g, taps, tap, w, ldw, bias, y, plane, ow);
    } else if (ow < g->out_width) {
        stem_block(M, 1, 0, clamp, hi, g, taps, tap, w, ldw, bias, y, plane, ow);
    }
}

/// Channels-first output at 16 lanes: the channels-last sums of P pixels (1…8) from column `ow` ×
/// NV vectors of 16 channels from channel o, `valid` of them (`stem_sums_nhwc_16`), turned in
/// registers (`transpose8x16`) into P pixels of each valid channel's output row (rows `plane`
/// floats apart from y at channel o), clamped to [0, hi] when `clamp`. The same sums as every other
/// block. (On a Zen 5 core, EfficientNet's stem channels-first, 224×224 in, called alone: 0.119 ms
/// with the channels-first block at 6 channels × 32 pixels, 0.109 ms with these blocks.)
PW_INLINE void stem_block_planes(const int PS, const int P, const int NV, const int clamp, float hi, ptrdiff_t taps,
                                 const float *const *tap, const float *w, ptrdiff_t ldw, const v16f start[2],
                                 ptrdiff_t valid, float *y, ptrdiff_t plane, ptrdiff_t ow) {
    v16f acc[8][2];
    stem_sums_nhwc_16(PS, P, NV, taps, tap, w, ldw, start, ow, acc);
    PW_UNROLL
    for (int v = 0; v < NV; v++) {
        v16f block[8];
        PW_UNROLL
        for (int p = 0; p < 8; p++) block[p] = stem_clamp_16(clamp, hi, p < P ? acc[p][v] : v16_splat(0.0f));
        transpose8x16(block);
        for (ptrdiff_t c = 0; c < 8 && 16 * v + c < valid; c++) {
            v8_store_first(y + (16 * v + c) * plane + ow, v16_low(block[c]), P);
            if (16 * v + c + 8 < valid) v8_store_first(y + (16 * v + c + 8) * plane + ow, v16_high(block[c]), P);
        }
    }
}

/// Channels-first output at 16 lanes: one output row (y at its first pixel of channel 0), 32
/// channels at a time (the last block narrower), across the row in blocks of 8 pixels.
PW_INLINE void stem_row_planes(const int PS, const int clamp, float hi, const pw_depthwise_geometry *g,
                               ptrdiff_t taps, const float *const *tap, const float *w, ptrdiff_t ldw,
                               const float *bias, ptrdiff_t cout, ptrdiff_t plane, float *y) {
    for (ptrdiff_t o = 0; o < cout; o += 32) {
        const ptrdiff_t valid = cout - o < 32 ? cout - o : 32;
        v16f start[2];
        stem_start_16(bias ? bias + o : 0, valid, start);
        ptrdiff_t ow = 0;
#define PW_STEM_PIXELS(P, NV) \
    stem_block_planes(PS, P, NV, clamp, hi, taps, tap, w + o, ldw, start, valid, y + o * plane, plane, ow)
#define PW_STEM_WIDTH(P) if (valid > 16) { PW_STEM_PIXELS(P, 2); } else { PW_STEM_PIXELS(P, 1); }
        for (; ow + 8 <= g->out_width; ow += 8) PW_STEM_WIDTH(8)
        switch (g->out_width - ow) {
        case 7: PW_STEM_WIDTH(7) break;
        case 6: PW_STEM_WIDTH(6) break;
        case 5: PW_STEM_WIDTH(5) break;
        case 4: PW_STEM_WIDTH(4) break;
        case 3: PW_STEM_WIDTH(3) break;
        case 2: PW_STEM_WIDTH(2) break;
        case 1: PW_STEM_WIDTH(1) break;
        default: break;
        }
#undef PW_STEM_WIDTH
#undef PW_STEM_PIXELS
    }
}

#if defined(__x86_64__)
/// `stem_row_planes` for one input stride PS and clamp as a function of its own, for the AVX-512
/// family, so that the register allocator sees its blocks apart from the rest of `stem_rows_body`.
/// (On a Zen 5 core, EfficientNet's stem channels-first, 224×224 in, called alone: with ReLU6,
/// 0.121 ms inlined and 0.114 ms isolated; with no activation 0.107 ms either way.)
#define PW_STEM_ROW_PLANES_FUNCTION(PS, CLAMP)                                                                \
    PW_AVX512_APART void stem_row_planes_##PS##_##CLAMP(float hi, const pw_depthwise_geometry *g, ptrdiff_t taps, \
                                                        const float *const *tap, const float *w, ptrdiff_t ldw,   \
                                                        const float *bias, ptrdiff_t cout, ptrdiff_t plane,       \
                                                        float *y) {                                               \
        stem_row_planes(PS, CLAMP, hi, g, taps, tap, w, ldw, bias, cout, plane, y);                               \
    }
/// The (PS, clamp) that have functions of their own: X(PS, clamp) for each.
#define PW_STEM_ROW_PLANES_KINDS(X) X(1, 0) X(1, 1) X(2, 0) X(2, 1) X(6, 0) X(6, 1)
PW_STEM_ROW_PLANES_KINDS(PW_STEM_ROW_PLANES_FUNCTION)
#undef PW_STEM_ROW_PLANES_FUNCTION
#endif

/// `stem_row_planes`, on x86-64 through its own function (`stem_row_planes_2_1`: PS, clamp) for
/// the input strides that have one (1, 2 and 6: every stride the rows body passes).
PW_INLINE void stem_row_planes_apart(const int PS, const int clamp, float hi, const pw_depthwise_geometry *g,
                                     ptrdiff_t taps, const float *const *tap, const float *w, ptrdiff_t ldw,
                                     const float *bias, ptrdiff_t cout, ptrdiff_t plane, float *y) {
#if defined(__x86_64__)
#define PW_STEM_ROW_PLANES(P, C)                                                             \
    if (PS == P && clamp == C) {                                                             \
        stem_row_planes_##P##_##C(hi, g, taps, tap, w, ldw, bias, cout, plane, y);            \
        return;                                                                              \
    }
    PW_STEM_ROW_PLANES_KINDS(PW_STEM_ROW_PLANES)
#undef PW_STEM_ROW_PLANES
#undef PW_STEM_ROW_PLANES_KINDS
#endif
    stem_row_planes(PS, clamp, hi, g, taps, tap, w, ldw, bias, cout, plane, y);
}

/// The floats between consecutive taps' weights: cout rounded up to a multiple of 32, so that a
/// channels-last block's two vectors of either width load only the packed weights.
PW_INLINE ptrdiff_t stem_weight_stride(ptrdiff_t cout) { return (cout + 31) / 32 * 32; }

/// The width of the next block of output channels when `left` remain: all of them up to 6, two
/// blocks of 4 for the last 8 (32 = 6+6+6+6+4+4 rather than 6·5 + 2, whose block of 2 has too few
/// accumulator chains to hide the FMA latency), else 6. Measured on Zen 3, this beats splitting
/// 32 into 6+6+5+5+5+5: the blocks of 5 pay the per-tap loads for fewer FMAs.
PW_INLINE int stem_channel_block(ptrdiff_t left) {
    if (left <= 6) return (int)left;
    return left <= 8 ? 4 : 6;
}

/// Output rows [row_begin, row_end) of one image: x [cin][H][W] (channels-first) or [H][W][cin]
/// (`x_channels_last`) → y [cout][OH][OW] or [OH][OW][cout] (`y_channels_last`), the two layouts
/// independent: the input's decides how rows enter the ring, the output's which register block
/// runs, with vectors of 16 lanes when `WIDE` (else 8). Weights packed tap-major [cin·K·K][ldw]
/// with ldw = `stem_weight_stride(cout)` (zeros after cout), bias [cout] or NULL; `scratch` holds
/// `pw_stem_scratch_floats(g, cin)` floats.
PW_INLINE void stem_rows_body(const int WIDE, const pw_depthwise_geometry *g, ptrdiff_t cin, ptrdiff_t cout,
                              int32_t x_channels_last, int32_t y_channels_last, const float *x, const float *w,
                              const float *bias, float *y, ptrdiff_t row_begin, ptrdiff_t row_end, float *scratch) {
    const ptrdiff_t K = g->kernel, S = g->stride, taps = cin * K * K, plane = g->out_height * g->out_width;
    const ptrdiff_t width = stem_phase_width(g), lead = stem_phase_lead(g), direct_width = stem_direct_width(g);
    // The channels-last register blocks run for channels-last output and, with 16 lanes, for
    // channels-first output too (`stem_block_planes`).
    const int pixel_blocks = y_channels_last || WIDE;
    const int direct = stem_direct_stride(g, cin, x_channels_last, pixel_blocks);
    // ReLU and ReLU6 in the blocks' registers; the other activations (not identity) after each row.
    const int clamp = stem_clamps(g->activation);
    const int after = !clamp && g->activation != PW_ACTIVATION_IDENTITY;
    const float hi = g->activation == PW_ACTIVATION_RELU6 ? 6.0f : __builtin_inff();
    // The ring holds K input rows: input row ih lives in slot ih mod K, so the K − S rows
    // consecutive output rows share enter it only once. A slot is `slot_floats` from the next and
    // holds, per input channel, `channel_floats` apart: the row's S phase rows, or on the direct
    // path its padded copy (channels-last: one copy of all channels). After the ring come the tap
    // pointers, each tap's offset within a slot, then each slot's row number.
    const ptrdiff_t slot_floats = direct ? (x_channels_last ? cin : 1) * direct_width : S * width;
    const ptrdiff_t channel_floats = direct ? (x_channels_last ? 0 : K * direct_width) : K * S * width;
    const float **tap = (const float **)(scratch + stem_ring_floats(g, cin));
    ptrdiff_t *offset = (ptrdiff_t *)(tap + taps), *held = offset + taps;
    float *split = (float *)(held + K);  // channels-last phases: one input row split into cin channel rows
    for (ptrdiff_t t = 0; t < taps; t++) {
        // Tap t = (c·K + kh)·K + kw reads channel c's row in the slot of kh.
        const ptrdiff_t c = t / (K * K), kw = t % K;
        if (direct) {
            // Column S·ow + kw − left is the copy's S·ow + kw, channels-last times cin, plus c.
            offset[t] = x_channels_last ? kw * cin + c : c * channel_floats + kw;
        } else {
            // Phase r from offset q, where kw − left = S·q + r with 0 ≤ r < S (floor division).
            const ptrdiff_t shifted = kw - g->pad_left;
            const ptrdiff_t q = shifted >= 0 ? shifted / S : -((-shifted + S - 1) / S), r = shifted - S * q;
            offset[t] = c * channel_floats + r * width + lead + q;
        }
    }
    for (ptrdiff_t slot = 0; slot < K; slot++) held[slot] = PTRDIFF_MIN;
    ptrdiff_t first = row_begin * S - g->pad_top;  // input row of kh = 0
    for (ptrdiff_t oh = row_begin; oh < row_end; oh++, first += S) {
        const ptrdiff_t first_slot = (first % K + K) % K;
        for (ptrdiff_t kh = 0; kh < K; kh++) {
            const ptrdiff_t ih = first + kh, slot = (first_slot + kh) % K;
            float *rows = scratch + slot * slot_floats;
            if (held[slot] != ih) {
                held[slot] = ih;
                const int inside = ih >= 0 && ih < g->height;
                if (direct && x_channels_last) {
                    stem_copy_row(inside ? x + ih * g->width * cin : 0, g->width * cin, g->pad_left * cin,
                                  direct_width * cin, rows);
                } else if (direct) {
                    for (ptrdiff_t c = 0; c < cin; c++)
                        stem_copy_row(inside ? x + (c * g->height + ih) * g->width : 0, g->width, g->pad_left,
                                      direct_width, rows + c * channel_floats);
                } else {
                    const float *channel = x + (inside ? ih : 0) * g->width;
                    ptrdiff_t planes = g->height * g->width;
                    if (x_channels_last && inside) {
                        // Channels-last rows are first split into channel rows, then filled like channels-first.
                        const float *source = x + ih * g->width * cin;
                        switch (cin) {
                        case 1: stem_split_channels(1, source, g->width, split, g->width); break;
                        case 2: stem_split_channels(2, source, g->width, split, g->width); break;
                        case 3: stem_split_channels(3, source, g->width, split, g->width); break;
                        default: stem_split_channels(4, source, g->width, split, g->width); break;
                        }
                        channel = split, planes = g->width;
                    }
                    for (ptrdiff_t c = 0; c < cin; c++)
                        stem_fill_phases(g, inside ? channel + c * planes : 0, rows + c * channel_floats);
                }
            }
            for (ptrdiff_t t = kh * K; t < taps; t += K * K) {
                for (ptrdiff_t kw = 0; kw < K; kw++) tap[t + kw] = rows + offset[t + kw];
            }
        }
        const ptrdiff_t ldw = stem_weight_stride(cout);
        if (pixel_blocks) {
            float *row = y + oh * g->out_width * (y_channels_last ? cout : 1);
#define PW_STEM_ROW(PS, CLAMP)                                                                      \
    if (!y_channels_last) stem_row_planes_apart(PS, CLAMP, hi, g, taps, tap, w, ldw, bias, cout, plane, row); \
    else if (WIDE) stem_row_nhwc_16(PS, CLAMP, hi, g, taps, tap, w, ldw, bias, cout, row);              \
    else stem_row_nhwc_8(PS, CLAMP, hi, g, taps, tap, w, ldw, bias, cout, row)
#define PW_STEM_STRIDE(PS) if (clamp) { PW_STEM_ROW(PS, 1); } else { PW_STEM_ROW(PS, 0); }
            switch (direct) {
            case 2: PW_STEM_STRIDE(2) break;
            case 6: PW_STEM_STRIDE(6) break;
            default: PW_STEM_STRIDE(1) break;
            }
#undef PW_STEM_STRIDE
#undef PW_STEM_ROW
            if (after && y_channels_last) activate_body(row, g->out_width * cout, g->activation);
            for (ptrdiff_t o = 0; after && !y_channels_last && o < cout; o++)
                activate_body(row + o * plane, g->out_width, g->activation);
            continue;
        }
        float *row = y + oh * g->out_width;
        for (ptrdiff_t o = 0; o < cout;) {
            const int M = stem_channel_block(cout - o);
            const float *b = bias ? bias + o : 0;
#define PW_STEM_CHANNELS(M, CLAMP) stem_channels(M, CLAMP, hi, g, taps, tap, w + o, ldw, b, row + o * plane, plane)
#define PW_STEM_CASE(M) case M: if (clamp) PW_STEM_CHANNELS(M, 1); else PW_STEM_CHANNELS(M, 0); break;
            switch (M) {
            PW_STEM_CASE(6) PW_STEM_CASE(5) PW_STEM_CASE(4) PW_STEM_CASE(3) PW_STEM_CASE(2) PW_STEM_CASE(1)
            default: break;
            }
#undef PW_STEM_CASE
#undef PW_STEM_CHANNELS
            for (int j = 0; after && j < M; j++) activate_body(row + (o + j) * plane, g->out_width, g->activation);
            o += M;
        }
    }
}

#endif
