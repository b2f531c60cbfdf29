// The depthwise convolution bodies (one filter per channel, K×K taps, stride 1 or 2), always
// inlined into each instruction-set variant (see kernels.inc) with K and the stride constant, so
// the tap loops unroll and the taps stay in registers.
#ifndef PW_DEPTHWISE_BODIES_H
#define PW_DEPTHWISE_BODIES_H

#include "vector.h"

/// Unrolls the next loop completely (its trip count is a constant once inlined), so that the
/// accumulators of a tile are registers, not an array indexed at run time.
#define PW_UNROLL _Pragma("clang loop unroll(full)")

/// The floats before the left padding in each row of the zero-padded copy of a plane that
/// `depthwise_planes_body` reads (0…15): enough that the input's first column lands on a multiple
/// of 16 floats, so the copy's vector stores are aligned. (On a Zen 3 core, 1 thread:
/// EfficientNet's 5×5 layer at 28×28, 240 channels, whose left padding of 2 put every store 8 bytes
/// off a 32-byte boundary, 0.164 → 0.154 ms called alone, best of 3,000 calls, and 0.165–0.166 →
/// 0.161–0.163 ms in `bench --depthwise`; a 3×3 layer at 112×112, 32 channels, 0.195 → 0.190 ms
/// alone.)
PW_INLINE ptrdiff_t depthwise_padded_shift(const pw_depthwise_geometry *g) {
    return (16 - g->pad_left % 16) % 16;
}

/// The floats of one row of the zero-padded copy of a plane that `depthwise_planes_body` reads:
/// the shift (`depthwise_padded_shift`), the padded row of whole 16-lane vectors and 16 floats of
/// slack for the last vector's loads, rounded up to a 64-byte line so that every row of a
/// line-aligned scratch starts on one.
PW_INLINE ptrdiff_t depthwise_padded_width(const pw_depthwise_geometry *g) {
    const ptrdiff_t row = (g->out_width + 15) / 16 * 16 * g->stride + g->kernel + 16;
    return (depthwise_padded_shift(g) + row + 15) / 16 * 16;
}

/// Zeros over [p, p + n), in whole vectors (so up to 7 floats past it).
PW_INLINE void depthwise_zeros(float *p, ptrdiff_t n) {
    const v8f zero = v8_splat(0.0f);
    for (ptrdiff_t c = 0; c < n; c += 8) {
        float *q = p + c;
        PW_OPAQUE(q);
        v8_store(q, zero);
    }
}

/// Copies n floats from source to p: whole vectors, the last one overlapping the one before it
/// when n is not a multiple of 8 (reading nothing past source + n).
PW_INLINE void depthwise_copy(float *p, const float *source, ptrdiff_t n) {
    if (n < 8) {
        for (ptrdiff_t c = 0; c < n; c++) {
            float *q = p + c;
            PW_OPAQUE(q);
            *q = source[c];
        }
        return;
    }
    for (ptrdiff_t c = 0; c + 8 <= n; c += 8) {
        float *q = p + c;
        PW_OPAQUE(q);
        v8_store(q, v8_load(source + c));
    }
    if (n % 8) v8_store(p + n - 8, v8_load(source + n - 8));
}

// The register tiles, at 8 lanes (`depthwise_tiles_8`, …) and 16 (`depthwise_tiles_16`, …).
#define PW_LANES 8
#include "depthwise_lanes.inc"
#define PW_LANES 16
#include "depthwise_lanes.inc"

/// `count` channels-first planes, one at a time: y[oh][ow] = act(bias + Σ w[kh][kw] · x[oh·S + kh −
/// top][ow·S + kw − left]) for each, x and y the first input and output planes (the others x_plane
/// and y_plane floats apart), w their taps [count][K·K], bias NULL or `count` values. Each plane is
/// copied into `padded` (rows of `depthwise_padded_width` floats, each starting with
/// `depthwise_padded_shift` unused ones) whose padding is made of zeros, so the loops below have no
/// edges; then its output is computed in tiles (`depthwise_tiles`), or in rolling strips
/// (`depthwise_strips`) for 3×3 stride-1 planes at 16 lanes. The padding is zeroed once, and each
/// plane's copy writes only the input's own columns and rows, which are the same for every plane.
/// The dispatch sends stride 2, and narrow planes, to `depthwise_group_body` instead
/// (`depthwise_groups`).
PW_INLINE void depthwise_planes_body(const int WIDE, const int K, const int S, const pw_depthwise_geometry *g,
                                     ptrdiff_t count, const float *restrict x, ptrdiff_t x_plane,
                                     const float *restrict w, const float *restrict bias, float *restrict y,
                                     ptrdiff_t y_plane, float *restrict padded) {
    const ptrdiff_t height = g->height, in_width = g->width, top = g->pad_top, left = g->pad_left;
    const ptrdiff_t rows = (g->out_height - 1) * S + K, width = depthwise_padded_width(g);
    const ptrdiff_t shift = depthwise_padded_shift(g);
    // The input rows and columns that windows reach: rows [first, end) of the copy, and in each
    // `columns` floats from column `lead`.
    const ptrdiff_t first = top < 0 ? 0 : top < rows ? top : rows;
    const ptrdiff_t end = top + height < first ? first : top + height < rows ? top + height : rows;
    const ptrdiff_t lead = shift + left < width ? shift + left : width;
    const ptrdiff_t columns = lead + in_width <= width ? in_width : width - lead;
    depthwise_zeros(padded, rows * width);
    // 5×5 in tiles of 2 rows × 4 vectors, 3×3 in tiles of 4 rows × 2: eight FMA chains either way.
    // (On a Zen 3 core the 2 × 4 tiles, and no memset calls for the padding, took EfficientNet's
    // 5×5 layer at 28×28, 240 channels, from about 0.29 to 0.17 ms; one row of 4 vectors with the
    // row's taps held in registers had only four chains.) With 16 lanes (`WIDE`), 5×5 runs in eight
    // chains too, as 2 rows × 4 vectors on planes 4 or more vectors wide and as 4 rows × 2 vectors
    // on narrower ones, and other tiles in 2 × 2. (On a Zen 5 core, 5×5 layers called alone,
    // against 2 × 2 tiles: 28×28, 240 channels, 0.080 → 0.063 ms; 56×56, 120 channels, 0.150 →
    // 0.133 ms; 112×112, 32 channels, 0.171 → 0.152 ms. Each 16-lane tile is a function of its own,
    // `depthwise_tile_16_5x5s1_4x2`.) 3×3 at stride 1 there runs in rolling strips of 4 vectors
    // instead (`depthwise_strips`: each input row loaded once, the 9 taps in registers):
    // EfficientNet's 3×3 layer at 112×112, 32 channels, went from 0.091 to 0.070–0.076 ms. At 5×5
    // the strips' 25 taps and 10 or more sums do not fit in the 32 registers, and they were no
    // faster than the tiles.
    for (ptrdiff_t c = 0; c < count; c++) {
        const float *plane = x + c * x_plane;
        for (ptrdiff_t r = first; r < end; r++)
            depthwise_copy(padded + r * width + lead, plane + (r - top) * in_width, columns);
        const float start = bias ? bias[c] : 0.0f, *taps = w + c * K * K;
        float *out = y + c * y_plane;
        if (WIDE && K == 3 && S == 1 && g->out_height >= K - 1)
            depthwise_strips_16(K, g, padded + shift, width, taps, start, out);
        else if (WIDE && K == 5 && g->out_width > 3 * 16)
            depthwise_tiles_16(K, S, 2, 4, g, padded + shift, width, taps, start, out);
        else if (WIDE && K == 5) depthwise_tiles_16(K, S, 4, 2, g, padded + shift, width, taps, start, out);
        else if (WIDE) depthwise_tiles_16(K, S, 2, 2, g, padded + shift, width, taps, start, out);
        else if (K > 3) depthwise_tiles_8(K, S, 2, 4, g, padded + shift, width, taps, start, out);
        else depthwise_tiles_8(K, S, 4, 2, g, padded + shift, width, taps, start, out);
    }
}

/// Output pixel `ow` at the left or right edge, whose window keeps only some kernel columns (and
/// rows [kh0, kh1)) inside the input; `in` is column 0 of the window's first row, channel c. G
/// groups of eight channels (c … c + 8G − 1, of which the last group has `lanes` valid) run as G
/// independent FMA chains, so that an edge pixel is not bound by the FMA latency of a single
/// chain of K·K taps. The same sums as `depthwise_pixels`, the taps outside the input skipped.
PW_INLINE void depthwise_edge_pixel(const int K, const int S, const int G, const int lanes,
                                    const pw_depthwise_geometry *g, ptrdiff_t ow, const float *in, ptrdiff_t channels,
                                    ptrdiff_t row_stride, int kh0, int kh1, const float *w, const float *bias,
                                    float *out) {
    const ptrdiff_t iw0 = ow * S - g->pad_left;
    const int kw0 = iw0 < 0 ? (int)-iw0 : 0;
    const int kw1 = g->width - iw0 < K ? (int)(g->width - iw0) : K;
    v8f acc[4];
    PW_UNROLL
    for (int i = 0; i < G; i++)
        acc[i] = bias ? depthwise_channels_8(bias + 8 * i, i == G - 1 ? lanes : 8) : v8_splat(0.0f);
    for (int kh = kh0; kh < kh1; kh++) {
        for (int kw = kw0; kw < kw1; kw++) {
            const float *x = in + kh * row_stride + (iw0 + kw) * channels, *t = w + (kh * K + kw) * channels;
            PW_UNROLL
            for (int i = 0; i < G; i++) {
                const int n = i == G - 1 ? lanes : 8;
                acc[i] = depthwise_channels_8(t + 8 * i, n) * depthwise_channels_8(x + 8 * i, n) + acc[i];
            }
        }
    }
    PW_UNROLL
    for (int i = 0; i < G; i++)
        v8_store_first(out + ow * channels + 8 * i, v8_activate(acc[i], g->activation), i == G - 1 ? lanes : 8);
}

/// Where one output row of a channels-last image reads: its first input row `in`, the kernel rows
/// [kh0, kh1) inside the input, and the interior output columns [first, end) whose windows lie
/// inside the input horizontally.
typedef struct depthwise_row_window {
    const float *in;
    float *out;
    int kh0, kh1;
    ptrdiff_t first, end;
} depthwise_row_window;

/// The output columns [*first, *end) whose windows lie inside the input horizontally:
/// ow·S − left ≥ 0 and ow·S − left + K ≤ width.
PW_INLINE void depthwise_interior(const int K, const int S, const pw_depthwise_geometry *g, ptrdiff_t *first,
                                  ptrdiff_t *end) {
    const ptrdiff_t reach = g->width - K + g->pad_left, out_width = g->out_width;
    *first = (g->pad_left + S - 1) / S;
    *end = reach < 0 ? 0 : reach / S + 1;
    if (*first > out_width) *first = out_width;
    if (*end > out_width) *end = out_width;
    if (*end < *first) *end = *first;
}

PW_INLINE depthwise_row_window depthwise_window(const int K, const int S, const pw_depthwise_geometry *g,
                                                ptrdiff_t channels, const float *x, float *y, ptrdiff_t oh) {
    depthwise_row_window r;
    const ptrdiff_t ih0 = oh * S - g->pad_top, out_width = g->out_width;
    r.in = x + ih0 * g->width * channels;
    r.out = y + oh * out_width * channels;
    r.kh0 = ih0 < 0 ? (int)-ih0 : 0;
    r.kh1 = g->height - ih0 < K ? (int)(g->height - ih0) : K;
    depthwise_interior(K, S, g, &r.first, &r.end);
    return r;
}

/// P interior output pixels from column ow (or one edge pixel when P is 0) of one output row,
/// channels [c_begin, c_end): sixteen at a time when `WIDE` (interior pixels), then eight at a
/// time, then the channel tail through zero-padded vectors, so every channel gets the same
/// arithmetic.
PW_INLINE void depthwise_column_block(const int WIDE, const int K, const int S, const int P,
                                      const pw_depthwise_geometry *g, ptrdiff_t channels,
                                      const depthwise_row_window *r, const float *w, const float *bias, ptrdiff_t ow,
                                      ptrdiff_t c_begin, ptrdiff_t c_end) {
    const ptrdiff_t row_stride = g->width * channels;
    const float *in = r->in + (ow * S - g->pad_left) * channels;
    float *out = r->out + ow * channels;
    ptrdiff_t c = c_begin;
    if (P == 0) {
        for (; c + 32 <= c_end; c += 32)
            depthwise_edge_pixel(K, S, 4, 8, g, ow, r->in + c, channels, row_stride, r->kh0, r->kh1, w + c,
                                 bias ? bias + c : NULL, r->out + c);
        for (; c < c_end; c += 8) {
            const int lanes = c_end - c < 8 ? (int)(c_end - c) : 8;
            if (lanes == 8)
                depthwise_edge_pixel(K, S, 1, 8, g, ow, r->in + c, channels, row_stride, r->kh0, r->kh1, w + c,
                                     bias ? bias + c : NULL, r->out + c);
            else
                depthwise_edge_pixel(K, S, 1, lanes, g, ow, r->in + c, channels, row_stride, r->kh0, r->kh1, w + c,
                                     bias ? bias + c : NULL, r->out + c);
        }
        return;
    }
    for (; WIDE && c + 16 <= c_end; c += 16) {
        const v16f start = bias ? v16_load(bias + c) : v16_splat(0.0f);
        depthwise_pixels_16(K, S, P, 16, in + c, channels, row_stride, r->kh0, r->kh1, w + c, start, g->activation,
                            out + c);
    }
    for (; c < c_end; c += 8) {
        const int lanes = c_end - c < 8 ? (int)(c_end - c) : 8;
        if (lanes == 8) {
            const v8f start = bias ? v8_load(bias + c) : v8_splat(0.0f);
            depthwise_pixels_8(K, S, P, 8, in + c, channels, row_stride, r->kh0, r->kh1, w + c, start,
                               g->activation, out + c);
        } else {
            const v8f start = bias ? depthwise_channels_8(bias + c, lanes) : v8_splat(0.0f);
            depthwise_pixels_8(K, S, P, lanes, in + c, channels, row_stride, r->kh0, r->kh1, w + c, start,
                               g->activation, out + c);
        }
    }
}

/// Output row oh of one channels-last image, channels [c0, c1): the edge pixels one by
/// one (32 channels at a time), the interior in blocks of 7 pixels when it has 7 or 14, of 8 when
/// it has at least 16, else of 4 (the last block overlapping the one before it rather than
/// shrinking), or one block of the 1…3 there are; each pixel block runs through the channels, as
/// consecutive channel groups share cache lines. (On a Zen 3 core the 32-channel edge groups
/// took EfficientNet-Lite0's 5×5 layers at 7×7 from about 0.21 to 0.13 ms, and 8-pixel blocks the
/// 5×5 layer at 28×28 from about 0.27 to 0.23 ms. Blocks of 7, seven FMA chains, fit the 7- and
/// 14-pixel interiors of EfficientNet's padded copies exactly, where blocks of 4 had four chains:
/// the channels-first 5×5 layer at 14×14, 672 channels, went from 0.172 to 0.133 ms.)
PW_INLINE void depthwise_row_body(const int WIDE, const int K, const int S, const pw_depthwise_geometry *g,
                                  ptrdiff_t channels, const float *restrict x, const float *restrict w,
                                  const float *restrict bias, float *restrict y, ptrdiff_t oh, ptrdiff_t c0,
                                  ptrdiff_t c1) {
    const depthwise_row_window r = depthwise_window(K, S, g, channels, x, y, oh);
    const ptrdiff_t interior = r.end - r.first;
#define PW_COLUMNS(P, OW) depthwise_column_block(WIDE, K, S, P, g, channels, &r, w, bias, OW, c0, c1)
    for (ptrdiff_t ow = 0; ow < r.first; ow++) PW_COLUMNS(0, ow);
    switch (interior) {
    case 0: break;
    case 1: PW_COLUMNS(1, r.first); break;
    case 2: PW_COLUMNS(2, r.first); break;
    case 3: PW_COLUMNS(3, r.first); break;
    default:
        if (interior == 7 || interior == 14) {
            for (ptrdiff_t i = 0; i < interior; i += 7) PW_COLUMNS(7, r.first + i);
        } else if (interior >= 16) {
            for (ptrdiff_t i = 0; i < interior; i += 8) PW_COLUMNS(8, i + 8 > interior ? r.end - 8 : r.first + i);
        } else {
            for (ptrdiff_t i = 0; i < interior; i += 4) PW_COLUMNS(4, i + 4 > interior ? r.end - 4 : r.first + i);
        }
    }
    for (ptrdiff_t ow = r.end; ow < g->out_width; ow++) PW_COLUMNS(0, ow);
#undef PW_COLUMNS
}

/// The channels one pass of `depthwise_rows_body` convolves down all its rows: 64 for a 5×5
/// kernel, every channel for a 3×3 one. A block's five input rows (36 KiB for 64 channels 28
/// pixels wide) stay in or near L1 from one output row to the next, where every channel's
/// (134 KiB for 240 channels) came from L2 again for each output row. (On a Zen 3 core, 1 thread,
/// channels-last: the 5×5 layer at 28×28, 240 channels, 0.168 → 0.145–0.149 ms, at 14×14 stride
/// 2, 672 channels, 0.061 → 0.050–0.051 ms; in EfficientNet-Lite0 blocks.4's 0.175 → 0.153 ms and
/// blocks.11's 0.072 → 0.059 ms. Blocks of 32 were as fast, of 16 slower, with their edge pixels
/// down to one FMA chain. For a 3×3 kernel blocking was slower: 144 channels at 56×56 0.174 →
/// 0.189 ms, 96 at 112×112 stride 2 0.161 → 0.185 ms.)
PW_INLINE ptrdiff_t depthwise_channel_block(const int K, ptrdiff_t channels) {
    return K >= 5 && channels > 64 ? 64 : channels;
}

/// Output rows [row_begin, row_end) of one channels-last image; taps outside the input contribute
/// nothing. w holds the taps as [K·K][channels], bias `channels` values or NULL. The channels go
/// in blocks (`depthwise_channel_block`), each block down every row (`depthwise_row_body`).
PW_INLINE void depthwise_rows_body(const int WIDE, const int K, const int S, const pw_depthwise_geometry *g,
                                   ptrdiff_t channels, const float *restrict x,
                                   const float *restrict w, const float *restrict bias,
                                   float *restrict y, ptrdiff_t row_begin, ptrdiff_t row_end) {
    const ptrdiff_t block = depthwise_channel_block(K, channels);
    for (ptrdiff_t c0 = 0; c0 < channels; c0 += block) {
        const ptrdiff_t c1 = c0 + block < channels ? c0 + block : channels;
        for (ptrdiff_t oh = row_begin; oh < row_end; oh++)
            depthwise_row_body(WIDE, K, S, g, channels, x, w, bias, y, oh, c0, c1);
    }
}

/// The pixels in one row of a zero-padded channels-last copy (`depthwise_padded_rows_body`'s, and
/// a group's interleaved copy): the row the output's windows span, and room for every input
/// column even where the padding after them is negative.
PW_INLINE ptrdiff_t depthwise_row_pitch(const pw_depthwise_geometry *g) {
    const ptrdiff_t spanned = (g->out_width - 1) * g->stride + g->kernel, reach = g->pad_left + g->width;
    return spanned > reach ? spanned : reach;
}

/// The input rows output rows [row_begin, row_end) read: [*first, *end), inside the input.
PW_INLINE void depthwise_input_rows(const pw_depthwise_geometry *g, ptrdiff_t row_begin, ptrdiff_t row_end,
                                    ptrdiff_t *first, ptrdiff_t *end) {
    const ptrdiff_t a = row_begin * g->stride - g->pad_top, b = (row_end - 1) * g->stride - g->pad_top + g->kernel;
    *first = a < 0 ? 0 : a > g->height ? g->height : a;
    *end = b < *first ? *first : b > g->height ? g->height : b;
}

/// Whether channels-last rows are convolved on a zero-padded copy (`depthwise_padded_rows_body`):
/// at stride 1 where edge pixels are a fifth of a row or more, such as a 5×5 kernel's four at
/// 14×14 and 7×7 and a 3×3 kernel's two at 7×7. (On a Zen 3 core, 1 thread: EfficientNet-Lite0's
/// 5×5 layers at 14×14, 672 channels, 0.17 → 0.12 ms and at 7×7, 1152 channels, 0.082 →
/// 0.058 ms, with the blocks of 7 of `depthwise_rows_body`; its 3×3 layer at 7×7 0.033 → 0.028
/// ms. At 14×14 a 3×3 kernel's two edge pixels cost less than the copy, as do stride 2's.)
PW_INLINE int depthwise_pads_rows(const pw_depthwise_geometry *g) {
    if (g->stride != 1) return 0;
    ptrdiff_t first, end;
    depthwise_interior(g->kernel, 1, g, &first, &end);
    return 5 * (first + g->out_width - end) >= g->out_width;
}

/// `depthwise_rows_body` on a copy of the input rows it reads whose columns are zero-padded on
/// both sides, so that every output pixel is an interior one: for narrow images, whose edge
/// pixels (two of every 7 or 14 columns on each side for a 5×5 kernel) would otherwise go one by
/// one. The taps outside the input add their products with the zero padding instead of being
/// skipped, as the channels-first kernels do; such a product adds nothing, so every output is
/// the one `depthwise_rows_body` computes (up to the sign of a zero sum). `scratch` holds
/// `pw_depthwise_rows_scratch_floats(g, channels, row_end − row_begin)` floats.
PW_INLINE void depthwise_padded_rows_body(const int WIDE, const int K, const int S, const pw_depthwise_geometry *g,
                                          ptrdiff_t channels, const float *restrict x, const float *restrict w,
                                          const float *restrict bias, float *restrict y, ptrdiff_t row_begin,
                                          ptrdiff_t row_end, float *restrict scratch) {
    ptrdiff_t first, end;
    depthwise_input_rows(g, row_begin, row_end, &first, &end);
    const ptrdiff_t pitch = depthwise_row_pitch(g), row = g->width * channels, left = g->pad_left * channels;
    for (ptrdiff_t ih = first; ih < end; ih++) {
        float *copy = scratch + (ih - first) * pitch * channels;
        depthwise_zeros(copy, left);
        depthwise_copy(copy + left, x + ih * row, row);
        depthwise_zeros(copy + left + row, pitch * channels - left - row);
    }
    const pw_depthwise_geometry padded = {
        .height = end - first, .width = pitch, .out_height = g->out_height, .out_width = g->out_width,
        .kernel = K, .stride = S, .pad_top = g->pad_top + first, .pad_left = 0, .activation = g->activation};
    depthwise_rows_body(WIDE, K, S, &padded, channels, scratch, w, bias, y, row_begin, row_end);
}

// MARK: - Channels-first planes in groups of 8 or 16

/// Whether channels-first planes are convolved in groups (`depthwise_group_body`) rather
/// than one by one (`depthwise_planes_body`): at stride 2, whose taps one plane's vectors could
/// only gather with shuffles, and on planes whose rows fill few vectors, where one plane's tiles
/// are mostly edges. (On a Zen 3 core, 1 thread, channels-first: EfficientNet-Lite0's 5×5
/// stride-2 layer at 14×14, 672 channels, 0.19 → 0.067 ms, and at 56×56, 144 channels,
/// 0.23 → 0.16 ms; the 3×3 stride-2 layer at 112×112, 96 channels, 0.36 → 0.30 ms; 3×3 stride 1
/// at 7×7, 1152 channels, 0.12 → 0.063 ms, at 56×56, 144 channels, 0.275 → 0.253 ms. Single
/// planes stayed as fast or faster for 5×5 stride 1 from 28 wide, 0.18 against 0.19 ms, and
/// 3×3 stride 1 at 112×112.)
PW_INLINE int depthwise_groups(const pw_depthwise_geometry *g) {
    return g->stride == 2 || g->out_width <= (g->kernel == 3 ? 56 : 24);
}

/// The rows of a group's interleaved copy: those the output's windows reach.
PW_INLINE ptrdiff_t depthwise_group_rows(const pw_depthwise_geometry *g) {
    return (g->out_height - 1) * g->stride + g->kernel;
}

/// Output rows [oh0, oh0 + rows) of a plane of geometry g as a plane of its own, whose input starts
/// at input row `*first_row`: the rows above it become padding or are left out, those below it
/// stay (the kernels read only the rows the band's windows reach). Each output keeps its window.
PW_INLINE pw_depthwise_geometry depthwise_band(const pw_depthwise_geometry *g, ptrdiff_t oh0, ptrdiff_t rows,
                                               ptrdiff_t *first_row) {
    pw_depthwise_geometry band = *g;
    const ptrdiff_t reach = oh0 * g->stride - g->pad_top;
    const ptrdiff_t first = reach < 0 ? 0 : reach > g->height ? g->height : reach;
    band.pad_top = first - reach;
    band.height = g->height - first;
    band.out_height = rows;
    *first_row = first;
    return band;
}

/// The planes a group interleaves: 8, or 16 where the channels-last loops run 16-lane vectors
/// (`WIDE`).
#define PW_DEPTHWISE_GROUP_PLANES(WIDE) ((WIDE) ? 16 : 8)

/// The output rows of one band of a group of G planes: as many as keep the band's interleaved
/// input within 128 KiB, so that it and the band's output stay in L2 (at least one row, at most
/// the plane). (On a Zen 3 core, 1 thread: the 3×3 stride-2 layer at 112×112, 96 channels, whose
/// whole interleaved input took 408 KiB, 0.278 → 0.245 ms in bands of 17 output rows; budgets of
/// 64 and 32 KiB gained less there and cut the 5×5 stride-2 layer at 56×56, 144 channels, into
/// more bands: 0.139 → 0.143–0.148 ms.)
PW_INLINE ptrdiff_t depthwise_group_band(const pw_depthwise_geometry *g, ptrdiff_t G) {
    const ptrdiff_t input_rows = (128 << 10) / (depthwise_row_pitch(g) * G * (ptrdiff_t)sizeof(float));
    const ptrdiff_t band = input_rows < g->kernel ? 1 : (input_rows - g->kernel) / g->stride + 1;
    return band < g->out_height ? band : g->out_height;
}

/// The floats of the interleaved input of a band of `band` output rows in a group of G planes: its
/// input rows, each `depthwise_row_pitch` pixels of G channels.
PW_INLINE ptrdiff_t depthwise_group_input_floats(const pw_depthwise_geometry *g, ptrdiff_t G, ptrdiff_t band) {
    return G * ((band - 1) * g->stride + g->kernel) * depthwise_row_pitch(g);
}

/// The scratch of a group of G planes: the band's interleaved input, then its interleaved output.
PW_INLINE ptrdiff_t depthwise_group_floats(const pw_depthwise_geometry *g, ptrdiff_t G) {
    const ptrdiff_t band = depthwise_group_band(g, G);
    return depthwise_group_input_floats(g, G, band) + G * band * g->out_width;
}

/// Copies G planes (8 or 16: `source[l]`, height×width each) into `copy` interleaved, pixel by
/// pixel with the G channels of a pixel side by side, zero-padded to `depthwise_group_rows` rows
/// of `depthwise_row_pitch` pixels: a channels-last image of G channels with its padding made of
/// zeros. Rows go eight pixels of eight planes at a time through 8×8 register transposes, the last
/// eight pixels overlapping the ones before them.
PW_INLINE void depthwise_interleave(const ptrdiff_t G, const pw_depthwise_geometry *g, const float *const source[16],
                                    float *copy) {
    const ptrdiff_t height = g->height, width = g->width, left = g->pad_left;
    const ptrdiff_t rows = depthwise_group_rows(g), pitch = depthwise_row_pitch(g);
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = copy + r * pitch * G;
        const ptrdiff_t ih = r - g->pad_top;
        if (ih < 0 || ih >= height) {
            depthwise_zeros(row, pitch * G);
            continue;
        }
        depthwise_zeros(row, left * G);
        depthwise_zeros(row + (left + width) * G, (pitch - left - width) * G);
        float *pixels = row + left * G;
        if (width < 8) {
            for (ptrdiff_t iw = 0; iw < width; iw++) {
                for (ptrdiff_t l = 0; l < G; l++) pixels[iw * G + l] = source[l][ih * width + iw];
            }
            continue;
        }
        for (ptrdiff_t iw0 = 0; iw0 < width; iw0 += 8) {
            const ptrdiff_t iw = iw0 + 8 > width ? width - 8 : iw0;
            for (ptrdiff_t h = 0; h < G; h += 8) {
                v8f v[8];
                for (int l = 0; l < 8; l++) v[l] = v8_load(source[h + l] + ih * width + iw);
                transpose8x8(v);
                for (int q = 0; q < 8; q++) v8_store(pixels + (iw + q) * G + h, v[q]);
            }
        }
    }
}

/// Copies the interleaved output (`pixels` pixels of G channels, G = 8 or 16) back into the first
/// `count` planes of `target` (`plane` floats apart), eight pixels of eight channels at a time
/// through 8×8 register transposes, the last eight pixels overlapping the ones before them.
PW_INLINE void depthwise_deinterleave(const ptrdiff_t G, const float *interleaved, ptrdiff_t pixels, ptrdiff_t count,
                                      float *target, ptrdiff_t plane) {
    if (pixels < 8) {
        for (ptrdiff_t q = 0; q < pixels; q++) {
            for (ptrdiff_t l = 0; l < count; l++) target[l * plane + q] = interleaved[q * G + l];
        }
        return;
    }
    for (ptrdiff_t q0 = 0; q0 < pixels; q0 += 8) {
        const ptrdiff_t q = q0 + 8 > pixels ? pixels - 8 : q0;
        for (ptrdiff_t h = 0; h < count; h += 8) {
            v8f v[8];
            for (int i = 0; i < 8; i++) v[i] = v8_load(interleaved + (q + i) * G + h);
            transpose8x8(v);
            for (ptrdiff_t l = 0; l < 8 && h + l < count; l++) v8_store(target + (h + l) * plane + q, v[l]);
        }
    }
}

/// `count` (1…`PW_DEPTHWISE_GROUP_PLANES(WIDE)`) channels-first planes at once: x and y their first
/// planes (the others x_plane and y_plane floats apart), w their taps [count][K·K], bias NULL or
/// `count` values. The planes are interleaved into a zero-padded channels-last copy of 8 or 16
/// channels (`depthwise_interleave`; missing channels repeat the last one), convolved by the
/// channels-last loops with no edges left, and copied back, a band of output rows at a time
/// (`depthwise_group_band`). Each output sums bias and its taps in (kh, kw) order, padding
/// included, as `depthwise_planes_body` does, so both give the same bits.
/// `scratch` holds `pw_depthwise_group_scratch_floats(g)` floats.
PW_INLINE void depthwise_group_body(const int WIDE, const int K, const int S, const pw_depthwise_geometry *g,
                                    ptrdiff_t count, const float *restrict x, ptrdiff_t x_plane,
                                    const float *restrict w, const float *restrict bias, float *restrict y,
                                    ptrdiff_t y_plane, float *restrict scratch) {
    const ptrdiff_t G = PW_DEPTHWISE_GROUP_PLANES(WIDE);
    const float *source[16];
    float taps[25 * 16], start[16];
    for (ptrdiff_t l = 0; l < G; l++) {
        const ptrdiff_t c = l < count ? l : count - 1;
        source[l] = x + c * x_plane;
        for (int t = 0; t < K * K; t++) taps[t * G + l] = w[c * K * K + t];
        start[l] = bias ? bias[c] : 0.0f;
    }
    const ptrdiff_t band = depthwise_group_band(g, G), out_width = g->out_width;
    float *copy = scratch, *out = scratch + depthwise_group_input_floats(g, G, band);
    for (ptrdiff_t oh0 = 0; oh0 < g->out_height; oh0 += band) {
        const ptrdiff_t rows = g->out_height - oh0 < band ? g->out_height - oh0 : band;
        ptrdiff_t first;
        const pw_depthwise_geometry b = depthwise_band(g, oh0, rows, &first);
        const float *shifted[16];
        for (ptrdiff_t l = 0; l < G; l++) shifted[l] = source[l] + first * g->width;
        depthwise_interleave(G, &b, shifted, copy);
        const pw_depthwise_geometry padded = {
            .height = depthwise_group_rows(&b), .width = depthwise_row_pitch(&b),
            .out_height = rows, .out_width = out_width, .kernel = K, .stride = S,
            .pad_top = 0, .pad_left = 0, .activation = g->activation};
        depthwise_rows_body(WIDE, K, S, &padded, G, copy, taps, start, out, 0, rows);
        depthwise_deinterleave(G, out, rows * out_width, count, y + oh0 * out_width, y_plane);
    }
}

#endif
