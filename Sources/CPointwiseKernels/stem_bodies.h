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
// the whole patch matrix, 1.35 MB for a 224×224 stem, through memory.)
#ifndef PW_STEM_BODIES_H
#define PW_STEM_BODIES_H

#include "vector.h"
#include "depthwise_bodies.h"  // depthwise_load: eight inputs at stride 1 or 2, PW_UNROLL

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

/// Fills the S phase rows of input row `in` (NULL for a row of padding), whose columns lie `step`
/// floats apart (1 channels-first, cin channels-last), into `phases`, `width` floats apart:
/// phase r at j is column S·(j − lead) + r, zero outside the row.
PW_INLINE void stem_fill_phases(const pw_depthwise_geometry *g, const float *in, ptrdiff_t step, float *phases) {
    const ptrdiff_t S = g->stride, W = g->width, lead = stem_phase_lead(g), width = stem_phase_width(g);
    if (!in) {
        for (ptrdiff_t j = 0; j < S * width; j++) phases[j] = 0.0f;
        return;
    }
    if (step != 1) {
        for (ptrdiff_t r = 0; r < S; r++) {
            for (ptrdiff_t j = 0; j < width; j++) {
                const ptrdiff_t iw = S * (j - lead) + r;
                phases[r * width + j] = iw >= 0 && iw < W ? in[iw * step] : 0.0f;
            }
        }
        return;
    }
    ptrdiff_t start = 0;  // the first j whose vectors run from column S·(j − lead) ≥ 0
    if (S == 2) {
        // Both phases from the same two loads: even lanes to phase 0, odd lanes to phase 1.
        start = lead;
        ptrdiff_t j = start;
        for (; j + 8 <= width && 2 * (j - lead) + 16 <= W; j += 8) {
            const v8f a = v8_load(in + 2 * (j - lead)), b = v8_load(in + 2 * (j - lead) + 8);
            v8_store(phases + j, __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14));
            v8_store(phases + width + j, __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15));
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

/// Channels-first: M output channels (1…6) × NV vectors (1 or 2) of 8 pixels from column `ow`:
/// bias, the taps in order, the activation, then the row's valid pixels stored into the M output
/// planes. `tap[t]` points at tap t's input for output column 0; `w` is weights [taps][ldw] from
/// channel o.
PW_INLINE void stem_block(const int M, const int NV, const pw_depthwise_geometry *g, ptrdiff_t taps,
                          const float *const *tap, const float *w, ptrdiff_t ldw, const float *bias,
                          float *y, ptrdiff_t plane, ptrdiff_t ow) {
    v8f acc[6][2];
    PW_UNROLL
    for (int j = 0; j < M; j++) {
        PW_UNROLL
        for (int v = 0; v < NV; v++) acc[j][v] = v8_splat(bias ? bias[j] : 0.0f);
    }
    for (ptrdiff_t t = 0; t < taps; t++) {
        const float *p = tap[t] + ow, *wt = w + t * ldw;
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
        float *out = y + j * plane + ow;
        PW_UNROLL
        for (int v = 0; v < NV; v++) {
            const v8f value = v8_activate(acc[j][v], g->activation);
            const ptrdiff_t valid = g->out_width - (ow + 8 * v);
            if (valid >= 8) {
                v8_store(out + 8 * v, value);
            } else if (valid > 0) {
                float lanes[8];
                v8_store(lanes, value);
                for (ptrdiff_t i = 0; i < valid; i++) out[8 * v + i] = lanes[i];
            }
        }
    }
}

/// Channels-first: one output row of channels o ..< o + M (M = 1…6), across the row in blocks of
/// 16 pixels (the last one of 8 where 8 suffice).
PW_INLINE void stem_channels(const int M, const pw_depthwise_geometry *g, ptrdiff_t taps, const float *const *tap,
                             const float *w, ptrdiff_t ldw, const float *bias, float *y, ptrdiff_t plane) {
    ptrdiff_t ow = 0;
    for (; ow + 8 < g->out_width; ow += 16) stem_block(M, 2, g, taps, tap, w, ldw, bias, y, plane, ow);
    if (ow < g->out_width) stem_block(M, 1, g, taps, tap, w, ldw, bias, y, plane, ow);
}

/// Channels-last: P pixels (1…6) from column `ow` × NV vectors (1 or 2) of 8 output channels from
/// channel o, of which `valid` (≥ 1) exist: bias, the taps in order, the activation, then the
/// valid channels stored. The roles swap against the channels-first block — the weights of 8
/// channels are a vector and each pixel's input a broadcast — so the order of the sums, and
/// every output's bits, stay the same. `w` is weights [taps][ldw] from channel o, ldw a
/// multiple of 8 whose padding is zeros.
PW_INLINE void stem_block_nhwc(const int P, const int NV, const pw_depthwise_geometry *g, ptrdiff_t taps,
                               const float *const *tap, const float *w, ptrdiff_t ldw, const float *bias,
                               ptrdiff_t valid, float *y, ptrdiff_t cout, ptrdiff_t ow) {
    v8f start[2];
    PW_UNROLL
    for (int v = 0; v < NV; v++) {
        float lanes[8] = {0};
        for (ptrdiff_t i = 0; bias && i < 8 && 8 * v + i < valid; i++) lanes[i] = bias[8 * v + i];
        start[v] = v8_load(lanes);
    }
    v8f acc[6][2];
    PW_UNROLL
    for (int p = 0; p < P; p++) {
        PW_UNROLL
        for (int v = 0; v < NV; v++) acc[p][v] = start[v];
    }
    for (ptrdiff_t t = 0; t < taps; t++) {
        const float *in = tap[t] + ow, *wt = w + t * ldw;
        v8f weight[2];
        PW_UNROLL
        for (int v = 0; v < NV; v++) weight[v] = v8_load(wt + 8 * v);
        PW_UNROLL
        for (int p = 0; p < P; p++) {
            const v8f x = v8_splat(in[p]);
            PW_UNROLL
            for (int v = 0; v < NV; v++) acc[p][v] = weight[v] * x + acc[p][v];
        }
    }
    PW_UNROLL
    for (int p = 0; p < P; p++) {
        float *out = y + (ow + p) * cout;
        PW_UNROLL
        for (int v = 0; v < NV; v++) {
            const v8f value = v8_activate(acc[p][v], g->activation);
            const ptrdiff_t left = valid - 8 * v;
            if (left >= 8) {
                v8_store(out + 8 * v, value);
            } else {
                float lanes[8];
                v8_store(lanes, value);
                for (ptrdiff_t i = 0; i < left; i++) out[8 * v + i] = lanes[i];
            }
        }
    }
}

/// Channels-last: one output row (y at its first pixel), 16 channels at a time (then 8, then the
/// rest in a padded vector), across the row in blocks of 6 pixels.
PW_INLINE void stem_row_nhwc(const pw_depthwise_geometry *g, ptrdiff_t taps, const float *const *tap,
                             const float *w, ptrdiff_t ldw, const float *bias, ptrdiff_t cout, float *y) {
    for (ptrdiff_t o = 0; o < cout; o += 16) {
        const ptrdiff_t valid = cout - o < 16 ? cout - o : 16;
        const float *b = bias ? bias + o : 0;
        ptrdiff_t ow = 0;
#define PW_STEM_NHWC_BLOCK(P)                                                                                   \
    (valid > 8 ? stem_block_nhwc(P, 2, g, taps, tap, w + o, ldw, b, valid, y + o, cout, ow)                       \
               : stem_block_nhwc(P, 1, g, taps, tap, w + o, ldw, b, valid, y + o, cout, ow))
        for (; ow + 6 <= g->out_width; ow += 6) PW_STEM_NHWC_BLOCK(6);
        switch (g->out_width - ow) {
        case 5: PW_STEM_NHWC_BLOCK(5); break;
        case 4: PW_STEM_NHWC_BLOCK(4); break;
        case 3: PW_STEM_NHWC_BLOCK(3); break;
        case 2: PW_STEM_NHWC_BLOCK(2); break;
        case 1: PW_STEM_NHWC_BLOCK(1); break;
        default: break;
        }
#undef PW_STEM_NHWC_BLOCK
    }
}

/// Whether n channels split into blocks of 5 and 6 (every n ≥ 20 does).
PW_INLINE int stem_splits_into_5_and_6(ptrdiff_t n) {
    return n >= 20 || n == 0 || n == 5 || n == 6 || n == 10 || n == 11 || n == 12 || (n >= 15 && n <= 18);
}

/// The width of the next block of output channels when `left` remain: all of them up to 6, else
/// 6 or 5 so that the rest still splits into 5s and 6s where it can (32 = 6+6+5+5+5+5). Blocks
/// of 5 and 6 keep 10 or 12 accumulator chains in flight, enough to hide the FMA latency;
/// 32 = 6·4 + 4·2 would leave two blocks of 4 with only 8.
PW_INLINE int stem_channel_block(ptrdiff_t left) {
    if (left <= 6) return (int)left;
    if (stem_splits_into_5_and_6(left - 6)) return 6;
    return stem_splits_into_5_and_6(left - 5) ? 5 : 6;
}

/// Output rows [row_begin, row_end) of one image: channels-first x [cin][H][W] → y [cout][OH][OW],
/// or channels-last x [H][W][cin] → y [OH][OW][cout]; weights packed tap-major [cin·K·K][ldw]
/// with ldw = cout rounded up to a multiple of 8 (zeros after cout), bias [cout] or NULL;
/// `scratch` holds `pw_stem_scratch_floats(g, cin)` floats.
PW_INLINE void stem_rows_body(const pw_depthwise_geometry *g, ptrdiff_t cin, ptrdiff_t cout, int32_t channels_last,
                              const float *x, const float *w, const float *bias, float *y, ptrdiff_t row_begin,
                              ptrdiff_t row_end, float *scratch) {
    const ptrdiff_t K = g->kernel, S = g->stride, taps = cin * K * K, plane = g->out_height * g->out_width;
    const ptrdiff_t width = stem_phase_width(g), lead = stem_phase_lead(g);
    // The phase rows are a ring of K input rows per input channel: input row ih lives in slot
    // ih mod K, so the K − S rows consecutive output rows share are split only once. After the
    // ring come the tap pointers, then each slot's row number.
    const float **tap = (const float **)(scratch + stem_phase_floats(g, cin));
    ptrdiff_t *held = (ptrdiff_t *)(tap + taps);
    for (ptrdiff_t slot = 0; slot < K; slot++) held[slot] = PTRDIFF_MIN;
    for (ptrdiff_t oh = row_begin; oh < row_end; oh++) {
        for (ptrdiff_t kh = 0; kh < K; kh++) {
            const ptrdiff_t ih = oh * S - g->pad_top + kh, slot = (ih % K + K) % K;
            if (held[slot] == ih) continue;
            held[slot] = ih;
            for (ptrdiff_t c = 0; c < cin; c++) {
                const float *in = ih < 0 || ih >= g->height ? 0
                                  : channels_last ? x + ih * g->width * cin + c
                                                  : x + (c * g->height + ih) * g->width;
                stem_fill_phases(g, in, channels_last ? cin : 1, scratch + (c * K + slot) * S * width);
            }
        }
        for (ptrdiff_t t = 0; t < taps; t++) {
            const ptrdiff_t c = t / (K * K), kh = t / K % K, kw = t % K;
            const ptrdiff_t ih = oh * S - g->pad_top + kh, slot = (ih % K + K) % K;
            // kw − left = S·q + r with 0 ≤ r < S (floor division).
            const ptrdiff_t shifted = kw - g->pad_left;
            const ptrdiff_t q = shifted >= 0 ? shifted / S : -((-shifted + S - 1) / S), r = shifted - S * q;
            tap[t] = scratch + ((c * K + slot) * S + r) * width + lead + q;
        }
        const ptrdiff_t ldw = (cout + 7) / 8 * 8;
        if (channels_last) {
            stem_row_nhwc(g, taps, tap, w, ldw, bias, cout, y + oh * g->out_width * cout);
            continue;
        }
        float *row = y + oh * g->out_width;
        for (ptrdiff_t o = 0; o < cout;) {
            const int M = stem_channel_block(cout - o);
            const float *b = bias ? bias + o : 0;
            switch (M) {
            case 6: stem_channels(6, g, taps, tap, w + o, ldw, b, row + o * plane, plane); break;
            case 5: stem_channels(5, g, taps, tap, w + o, ldw, b, row + o * plane, plane); break;
            case 4: stem_channels(4, g, taps, tap, w + o, ldw, b, row + o * plane, plane); break;
            case 3: stem_channels(3, g, taps, tap, w + o, ldw, b, row + o * plane, plane); break;
            case 2: stem_channels(2, g, taps, tap, w + o, ldw, b, row + o * plane, plane); break;
            default: stem_channels(1, g, taps, tap, w + o, ldw, b, row + o * plane, plane); break;
            }
            o += M;
        }
    }
}

#endif
