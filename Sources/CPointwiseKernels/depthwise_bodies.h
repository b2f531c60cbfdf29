// The depthwise convolution bodies (one filter per channel, K×K taps, stride 1 or 2), always
// inlined into each instruction-set variant (see kernels.inc) with K and the stride constant, so
// the tap loops unroll and the taps stay in registers.
#ifndef PW_DEPTHWISE_BODIES_H
#define PW_DEPTHWISE_BODIES_H

#include "vector.h"

/// Eight consecutive inputs (stride 1) or every other one of sixteen (stride 2), from p on.
PW_INLINE v8f depthwise_load(const float *p, const int stride) {
    if (stride == 1) return v8_load(p);
    return __builtin_shufflevector(v8_load(p), v8_load(p + 8), 0, 2, 4, 6, 8, 10, 12, 14);
}

/// The floats of the zero-padded copy of one plane that `depthwise_plane_body` reads.
PW_INLINE ptrdiff_t depthwise_padded_width(const pw_depthwise_geometry *g) {
    const ptrdiff_t vectors = (g->out_width + 7) / 8;
    return vectors * 8 * g->stride + g->kernel + 8;
}

/// One channels-first plane: y[oh][ow] = act(bias + Σ w[kh][kw] · x[oh·S + kh − top][ow·S + kw −
/// left]). The plane is first copied into `padded` with its padding made of zeros (rows of
/// `depthwise_padded_width` floats, 8 of them slack for the last vector's loads), so the
/// loops below have no edges: every output vector is K·K loads and FMAs.
PW_INLINE void depthwise_plane_body(const int K, const int S, const pw_depthwise_geometry *g,
                                    const float *restrict x, const float *restrict w, float bias,
                                    float *restrict y, float *restrict padded) {
    const ptrdiff_t rows = (g->out_height - 1) * S + K, width = depthwise_padded_width(g);
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = padded + r * width;
        const ptrdiff_t ih = r - g->pad_top;
        ptrdiff_t begin = g->pad_left, end = g->pad_left + g->width;
        if (ih < 0 || ih >= g->height) begin = end = 0;
        if (begin > width) begin = width;
        if (end > width) end = width;
        for (ptrdiff_t c = 0; c < begin; c++) row[c] = 0.0f;
        if (end > begin) __builtin_memcpy(row + begin, x + ih * g->width, (size_t)(end - begin) * sizeof(float));
        for (ptrdiff_t c = end > begin ? end : begin; c < width; c++) row[c] = 0.0f;
    }
    v8f taps[25];
    for (int t = 0; t < K * K; t++) taps[t] = v8_splat(w[t]);
    const v8f start = v8_splat(bias);
    for (ptrdiff_t oh = 0; oh < g->out_height; oh++) {
        const float *base = padded + oh * S * width;
        float *out = y + oh * g->out_width;
        for (ptrdiff_t ow = 0; ow < g->out_width; ow += 8) {
            v8f acc = start;
            for (int kh = 0; kh < K; kh++) {
                const float *row = base + kh * width + ow * S;
                for (int kw = 0; kw < K; kw++) acc = taps[kh * K + kw] * depthwise_load(row + kw, S) + acc;
            }
            acc = v8_activate(acc, g->activation);
            if (ow + 8 <= g->out_width) {
                v8_store(out + ow, acc);
            } else {
                float tail[8];
                v8_store(tail, acc);
                __builtin_memcpy(out + ow, tail, (size_t)(g->out_width - ow) * sizeof(float));
            }
        }
    }
}

/// Output rows [row_begin, row_end) of one channels-last image: per output pixel, eight channels
/// at a time, the taps inside the input (padding contributes nothing). w holds the taps as
/// [K·K][channels], bias `channels` values or NULL. The channel tail goes through a zero-padded
/// vector, so every channel gets the same arithmetic.
PW_INLINE void depthwise_rows_body(const int K, const int S, const pw_depthwise_geometry *g,
                                   ptrdiff_t channels, const float *restrict x,
                                   const float *restrict w, const float *restrict bias,
                                   float *restrict y, ptrdiff_t row_begin, ptrdiff_t row_end) {
    for (ptrdiff_t oh = row_begin; oh < row_end; oh++) {
        const ptrdiff_t ih0 = oh * S - g->pad_top;
        const int kh0 = ih0 < 0 ? (int)-ih0 : 0;
        const int kh1 = g->height - ih0 < K ? (int)(g->height - ih0) : K;
        for (ptrdiff_t ow = 0; ow < g->out_width; ow++) {
            const ptrdiff_t iw0 = ow * S - g->pad_left;
            const int kw0 = iw0 < 0 ? (int)-iw0 : 0;
            const int kw1 = g->width - iw0 < K ? (int)(g->width - iw0) : K;
            float *out = y + (oh * g->out_width + ow) * channels;
            for (ptrdiff_t c = 0; c < channels; c += 8) {
                const ptrdiff_t lanes = channels - c < 8 ? channels - c : 8;
                float xt[8] = {0}, wt[8] = {0}, bt[8] = {0};
                v8f acc = v8_splat(0.0f);
                if (bias) {
                    if (lanes == 8) {
                        acc = v8_load(bias + c);
                    } else {
                        __builtin_memcpy(bt, bias + c, (size_t)lanes * sizeof(float));
                        acc = v8_load(bt);
                    }
                }
                for (int kh = kh0; kh < kh1; kh++) {
                    for (int kw = kw0; kw < kw1; kw++) {
                        const float *xp = x + ((ih0 + kh) * g->width + iw0 + kw) * channels + c;
                        const float *wp = w + (kh * K + kw) * channels + c;
                        if (lanes == 8) {
                            acc = v8_load(wp) * v8_load(xp) + acc;
                        } else {
                            __builtin_memcpy(xt, xp, (size_t)lanes * sizeof(float));
                            __builtin_memcpy(wt, wp, (size_t)lanes * sizeof(float));
                            acc = v8_load(wt) * v8_load(xt) + acc;
                        }
                    }
                }
                acc = v8_activate(acc, g->activation);
                if (lanes == 8) {
                    v8_store(out + c, acc);
                } else {
                    v8_store(xt, acc);
                    __builtin_memcpy(out + c, xt, (size_t)lanes * sizeof(float));
                }
            }
        }
    }
}

#endif
