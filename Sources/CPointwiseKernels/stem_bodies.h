// The network stem: a dense K×K convolution of an image with few input channels (RGB), computed
// directly, one output row at a time. Each row's patches (cin·K·K taps × the row's pixels) are
// gathered into an L1-sized scratch, then 4 output channels × 16 pixels are accumulated in
// registers over the taps — the im2col + GEMM path would write and re-read the whole patch
// matrix (1.35 MB for a 224×224 stem) through memory.
#ifndef PW_STEM_BODIES_H
#define PW_STEM_BODIES_H

#include "vector.h"
#include "depthwise_bodies.h"  // depthwise_load: eight inputs at stride 1 or 2

/// Pixels of a patch-scratch row: the output width rounded up to whole vectors.
PW_INLINE ptrdiff_t stem_row_floats(const pw_depthwise_geometry *g) { return (g->out_width + 7) / 8 * 8; }

/// Gathers output row `oh`'s patches: row t = (c·K + kh)·K + kw holds x[c][oh·S − top + kh][ow·S − left + kw]
/// for every ow (zero outside the image), then zeros up to a whole vector.
PW_INLINE void stem_gather(const pw_depthwise_geometry *g, ptrdiff_t cin, const float *x, ptrdiff_t oh, float *patches) {
    const ptrdiff_t K = g->kernel, S = g->stride, OW = g->out_width, row = stem_row_floats(g);
    for (ptrdiff_t c = 0; c < cin; c++) {
        for (ptrdiff_t kh = 0; kh < K; kh++) {
            const ptrdiff_t ih = oh * S - g->pad_top + kh;
            for (ptrdiff_t kw = 0; kw < K; kw++) {
                float *p = patches + ((c * K + kh) * K + kw) * row;
                if (ih < 0 || ih >= g->height) {
                    for (ptrdiff_t ow = 0; ow < row; ow++) p[ow] = 0.0f;
                    continue;
                }
                const float *in = x + (c * g->height + ih) * g->width;
                const ptrdiff_t shift = kw - g->pad_left;  // iw = ow·S + shift
                ptrdiff_t ow = 0;
                for (; ow < OW && ow * S + shift < 0; ow++) p[ow] = 0.0f;
                // Whole vectors while their loads (8·S floats from iw) stay inside the input row.
                if (S == 1) {
                    for (; ow + 8 <= OW && ow + shift + 8 <= g->width; ow += 8) v8_store(p + ow, v8_load(in + ow + shift));
                } else if (S == 2) {
                    for (; ow + 8 <= OW && ow * 2 + shift + 16 <= g->width; ow += 8)
                        v8_store(p + ow, depthwise_load(in + ow * 2 + shift, 2));
                }
                for (; ow < OW; ow++) {
                    const ptrdiff_t iw = ow * S + shift;
                    p[ow] = (iw >= 0 && iw < g->width) ? in[iw] : 0.0f;
                }
                for (ow = OW; ow < row; ow++) p[ow] = 0.0f;
            }
        }
    }
}

/// 4 output channels × NV (1 or 2) vectors of 8 pixels starting at `ow`: bias, the taps in order, activation,
/// then the valid pixels stored into the 4 output planes (row `oh`).
PW_INLINE void stem_block(const int NV, const pw_depthwise_geometry *g, ptrdiff_t taps, const float *patches,
                          const float *w4, const float *bias4, float *y, ptrdiff_t plane, ptrdiff_t oh, ptrdiff_t ow) {
    const ptrdiff_t row = stem_row_floats(g);
    v8f acc[4][2];
    for (int j = 0; j < 4; j++)
        for (int v = 0; v < NV; v++) acc[j][v] = v8_splat(bias4 ? bias4[j] : 0.0f);
    for (ptrdiff_t t = 0; t < taps; t++) {
        const float *p = patches + t * row + ow;
        v8f in[2];
        for (int v = 0; v < NV; v++) in[v] = v8_load(p + 8 * v);
        for (int j = 0; j < 4; j++) {
            const v8f weight = v8_splat(w4[t * 4 + j]);
            for (int v = 0; v < NV; v++) acc[j][v] += weight * in[v];
        }
    }
    for (int j = 0; j < 4; j++) {
        float *out = y + j * plane + oh * g->out_width + ow;
        for (int v = 0; v < NV; v++) {
            const v8f value = v8_activate(acc[j][v], g->activation);
            const ptrdiff_t valid = g->out_width - (ow + 8 * v);
            if (valid >= 8) {
                v8_store(out + 8 * v, value);
            } else {
                float lanes[8];
                v8_store(lanes, value);
                for (ptrdiff_t i = 0; i < valid; i++) out[8 * v + i] = lanes[i];
            }
        }
    }
}

/// Output rows [row_begin, row_end) of one channels-first image: x [cin][H][W], weights packed
/// as [cout/4][cin·K·K][4], bias [cout] or NULL, y [cout][OH][OW]; `patches` holds
/// cin·K·K·stem_row_floats(g) floats.
PW_INLINE void stem_rows_body(const pw_depthwise_geometry *g, ptrdiff_t cin, ptrdiff_t cout, const float *x,
                              const float *w4, const float *bias, float *y, ptrdiff_t row_begin, ptrdiff_t row_end,
                              float *patches) {
    const ptrdiff_t taps = cin * g->kernel * g->kernel, plane = g->out_height * g->out_width;
    const ptrdiff_t row = stem_row_floats(g);
    for (ptrdiff_t oh = row_begin; oh < row_end; oh++) {
        stem_gather(g, cin, x, oh, patches);
        for (ptrdiff_t o = 0; o < cout; o += 4) {
            const float *w = w4 + o * taps, *b = bias ? bias + o : 0;
            float *out = y + o * plane;
            ptrdiff_t ow = 0;
            // Two vectors per block: 8 accumulators leave the compiler registers to spare (with
            // three, 12 accumulators + 3 inputs + 1 weight fill all 16, and it spills).
            for (; ow + 16 <= row; ow += 16) stem_block(2, g, taps, patches, w, b, out, plane, oh, ow);
            if (ow + 8 <= row) stem_block(1, g, taps, patches, w, b, out, plane, oh, ow);
        }
    }
}

#endif
