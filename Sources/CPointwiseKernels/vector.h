// Eight-lane float vectors through the compiler's vector extensions, and the activations on them;
// sixteen-lane ones for the AVX-512 kernels' loads, stores and FMAs.
// Included by each instruction-set variant, which compiles the same inline code for its target.
#ifndef PW_VECTOR_H
#define PW_VECTOR_H

#include <stdint.h>
#include "CPointwiseKernels.h"

// These helpers take and return 32-byte vectors by value. They are always inlined, so no call
// with the AVX calling convention ever exists and clang's ABI warning does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

#define PW_INLINE static inline __attribute__((always_inline))

/// The target features of the AVX-512 family (kernels.c), and a function of that family kept out
/// of line (each starting on a 64-byte line, as the family's kernels do): a register tile that
/// clang allocates best on its own, apart from the code around it (`depthwise_tile_width`).
#define PW_AVX512_FEATURES "avx512f,avx512vl,avx2,fma"
#define PW_AVX512_APART __attribute__((noinline, target(PW_AVX512_FEATURES), aligned(64))) static

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

PW_INLINE v8f v8_load(const float *p) { v8f v; __builtin_memcpy(&v, p, sizeof v); return v; }
PW_INLINE void v8_store(float *p, v8f v) { __builtin_memcpy(p, &v, sizeof v); }
/// The n (0…8) floats at p in the first lanes, zeros in the others; nothing past p + n is read.
PW_INLINE v8f v8_load_first(const float *p, ptrdiff_t n) {
    float lanes[8] = {0};
    for (ptrdiff_t i = 0; i < n && i < 8; i++) lanes[i] = p[i];
    return v8_load(lanes);
}
/// Stores the first n lanes of v at p (none when n < 1, all eight when n ≥ 8) in at most three
/// moves of 4, 2 and 1 lanes, where a memcpy of a run-time length would call the C library.
PW_INLINE void v8_store_first(float *p, v8f v, ptrdiff_t n) {
    typedef float v4f __attribute__((vector_size(16)));
    typedef float v2f __attribute__((vector_size(8)));
    if (n >= 8) {
        v8_store(p, v);
        return;
    }
    v4f quad = __builtin_shufflevector(v, v, 0, 1, 2, 3);
    if (n >= 4) {
        __builtin_memcpy(p, &quad, sizeof quad);
        quad = __builtin_shufflevector(v, v, 4, 5, 6, 7);
        p += 4;
        n -= 4;
    }
    v2f pair = __builtin_shufflevector(quad, quad, 0, 1);
    if (n >= 2) {
        __builtin_memcpy(p, &pair, sizeof pair);
        pair = __builtin_shufflevector(quad, quad, 2, 3);
        p += 2;
        n -= 2;
    }
    if (n >= 1) p[0] = pair[0];
}

/// Hides a pointer's value from the optimizer, so that a loop storing through it is not turned
/// into a call of memset or memcpy (which costs more than the short rows these kernels fill).
#define PW_OPAQUE(p) __asm__("" : "+r"(p))

/// The even lanes of a then b (lanes 0, 2, …, 14 of the two in a row), and the odd ones.
PW_INLINE v8f v8_even(v8f a, v8f b) { return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14); }
PW_INLINE v8f v8_odd(v8f a, v8f b) { return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15); }

/// The transpose of an 8×8 block held in eight vectors, rows in, columns out.
PW_INLINE void transpose8x8(v8f v[8]) {
    v8f t[8], u[8];
    for (int r = 0; r < 8; r += 2) {
        t[r] = __builtin_shufflevector(v[r], v[r + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[r + 1] = __builtin_shufflevector(v[r], v[r + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int r = 0; r < 8; r += 4) {
        u[r] = __builtin_shufflevector(t[r], t[r + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[r + 1] = __builtin_shufflevector(t[r], t[r + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[r + 2] = __builtin_shufflevector(t[r + 1], t[r + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[r + 3] = __builtin_shufflevector(t[r + 1], t[r + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int c = 0; c < 4; c++) {
        v[c] = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v[c + 4] = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

PW_INLINE v8f v8_splat(float x) { return (v8f){x, x, x, x, x, x, x, x}; }

// Sixteen-lane vectors: one AVX-512 register (two on AVX2, whose kernels do not use them).
typedef float v16f __attribute__((vector_size(64)));

PW_INLINE v16f v16_load(const float *p) { v16f v; __builtin_memcpy(&v, p, sizeof v); return v; }
PW_INLINE void v16_store(float *p, v16f v) { __builtin_memcpy(p, &v, sizeof v); }
PW_INLINE v16f v16_splat(float x) { return (v16f){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
PW_INLINE v8f v16_low(v16f v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7); }
PW_INLINE v8f v16_high(v16f v) { return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15); }
PW_INLINE v16f v16_join(v8f low, v8f high) {
    return __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
/// Stores the first n lanes of v at p (none when n < 1, all sixteen when n ≥ 16).
PW_INLINE void v16_store_first(float *p, v16f v, ptrdiff_t n) {
    if (n >= 16) {
        v16_store(p, v);
        return;
    }
    v8_store_first(p, v16_low(v), n);
    if (n > 8) v8_store_first(p + 8, v16_high(v), n - 8);
}
/// `v8_max` and `v8_min` on sixteen lanes.
PW_INLINE v16f v16_max(v16f a, v16f b) {
    typedef int32_t v16i __attribute__((vector_size(64)));
    const v16i take_b = a < b;
    return (v16f)((take_b & (v16i)b) | (~take_b & (v16i)a));
}
PW_INLINE v16f v16_min(v16f a, v16f b) {
    typedef int32_t v16i __attribute__((vector_size(64)));
    const v16i take_b = a > b;
    return (v16f)((take_b & (v16i)b) | (~take_b & (v16i)a));
}

/// The even lanes of a then b (lanes 0, 2, …, 30 of the two in a row).
PW_INLINE v16f v16_even(v16f a, v16f b) {
    return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

/// The transpose of 8 rows of 16 held in eight 16-lane vectors, rows in: v[c] comes out holding
/// column c in its low half and column c + 8 in its high half. The 8×8 transpose's three rounds
/// of shuffles, on both halves at once.
PW_INLINE void transpose8x16(v16f v[8]) {
    v16f t[8], u[8];
    for (int r = 0; r < 8; r += 2) {
        t[r] = __builtin_shufflevector(v[r], v[r + 1], 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
        t[r + 1] = __builtin_shufflevector(v[r], v[r + 1], 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
    }
    for (int r = 0; r < 8; r += 4) {
        for (int i = 0; i < 2; i++) {
            const v16f a = t[r + i], b = t[r + i + 2];
            u[r + 2 * i] = __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
            u[r + 2 * i + 1] =
                __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        }
    }
    // u[r] (r < 4) holds, by 128-bit lane, columns r, r + 4, r + 8, r + 12 of rows 0…3; u[r + 4]
    // the same columns of rows 4…7.
    for (int c = 0; c < 4; c++) {
        v[c] = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        v[c + 4] = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    }
}
/// max(a, b) and min(a, b) where a NaN in `a` comes through, as in PyTorch's relu, relu6 and
/// clamp (and in the reference's Swift.max(z, 0)): IEEE maxNum would return b. `b` is a constant
/// at every call. On x86 each is one vmaxps/vminps with its operands in that order.
PW_INLINE v8f v8_max(v8f a, v8f b) {
    const v8i take_b = a < b;
    return (v8f)((take_b & (v8i)b) | (~take_b & (v8i)a));
}
PW_INLINE v8f v8_min(v8f a, v8f b) {
    const v8i take_b = a > b;
    return (v8f)((take_b & (v8i)b) | (~take_b & (v8i)a));
}

/// e^x to about 2 ulp over the float range (Cephes' expf polynomial, range-reduced by ln 2).
/// Arguments are clamped to [-87, 88], so results stay finite and normal; NaN stays NaN (its
/// lanes run as 0 and are put back at the end: converting NaN to an integer is undefined in C).
PW_INLINE v8f v8_exp(v8f input) {
    const v8i nan = input != input;
    v8f x = (v8f)(~nan & (v8i)v8_min(v8_max(input, v8_splat(-87.0f)), v8_splat(88.0f)));
    // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick (exact for |v| < 2^22),
    // which needs no rounding instruction on any target.
    const v8f magic = v8_splat(12582912.0f);
    v8f n = (x * v8_splat(1.44269504088896341f) + magic) - magic;
    v8f r = x - n * v8_splat(0.693359375f);
    r = r - n * v8_splat(-2.12194440e-4f);
    v8f p = v8_splat(1.9875691500e-4f);
    p = p * r + v8_splat(1.3981999507e-3f);
    p = p * r + v8_splat(8.3334519073e-3f);
    p = p * r + v8_splat(4.1665795894e-2f);
    p = p * r + v8_splat(1.6666665459e-1f);
    p = p * r + v8_splat(5.0000001201e-1f);
    p = p * (r * r) + r + v8_splat(1.0f);
    v8i scale = (__builtin_convertvector(n, v8i) + 127) << 23;
    return (v8f)((nan & (v8i)input) | (~nan & (v8i)(p * (v8f)scale)));
}

PW_INLINE v8f v8_sigmoid(v8f x) { return v8_splat(1.0f) / (v8_splat(1.0f) + v8_exp(-x)); }

/// tanh(x) = 1 − 2/(e^{2x} + 1): exact at ±∞ and 0, absolute error ≈ 1e-7 elsewhere.
PW_INLINE v8f v8_tanh(v8f x) {
    return v8_splat(1.0f) - v8_splat(2.0f) / (v8_exp(x + x) + v8_splat(1.0f));
}

PW_INLINE v8f v8_activate(v8f x, int32_t activation) {
    switch (activation) {
    case PW_ACTIVATION_RELU: return v8_max(x, v8_splat(0.0f));
    case PW_ACTIVATION_RELU6: return v8_min(v8_max(x, v8_splat(0.0f)), v8_splat(6.0f));
    case PW_ACTIVATION_SIGMOID: return v8_sigmoid(x);
    case PW_ACTIVATION_TANH: return v8_tanh(x);
    case PW_ACTIVATION_SILU: return x * v8_sigmoid(x);
    case PW_ACTIVATION_HARDSWISH:
        return x * v8_min(v8_max(x + v8_splat(3.0f), v8_splat(0.0f)), v8_splat(6.0f)) / v8_splat(6.0f);
    default: return x;
    }
}

/// `v8_activate` on each half: the same bits lane for lane. ReLU and ReLU6 run on the whole vector
/// (the same lane-wise max and min), without splitting it.
PW_INLINE v16f v16_activate(v16f x, int32_t activation) {
    if (activation == PW_ACTIVATION_IDENTITY) return x;
    if (activation == PW_ACTIVATION_RELU) return v16_max(x, v16_splat(0.0f));
    if (activation == PW_ACTIVATION_RELU6) return v16_min(v16_max(x, v16_splat(0.0f)), v16_splat(6.0f));
    return v16_join(v8_activate(v16_low(x), activation), v8_activate(v16_high(x), activation));
}

/// act'(z), the derivative with respect to the pre-activation z. At the kinks it follows PyTorch:
/// ReLU and ReLU6 pass the gradient only where 0 < z (< 6); hard-swish uses z/3 + 1/2 at ±3.
PW_INLINE v8f v8_activation_derivative(v8f z, int32_t activation) {
    const v8f one = v8_splat(1.0f), zero = v8_splat(0.0f);
    switch (activation) {
    case PW_ACTIVATION_RELU: {
        v8i pass = z > zero;
        return (v8f)(pass & (v8i)one);
    }
    case PW_ACTIVATION_RELU6: {
        v8i pass = (z > zero) & (z < v8_splat(6.0f));
        return (v8f)(pass & (v8i)one);
    }
    case PW_ACTIVATION_SIGMOID: {
        v8f s = v8_sigmoid(z);
        return s * (one - s);
    }
    case PW_ACTIVATION_TANH: {
        v8f t = v8_tanh(z);
        return one - t * t;
    }
    case PW_ACTIVATION_SILU: {
        v8f s = v8_sigmoid(z);
        return s * (one + z * (one - s));
    }
    case PW_ACTIVATION_HARDSWISH: {
        // 0 below −3, z/3 + 1/2 on [−3, 3] (PyTorch's choice at both ends), 1 above 3.
        v8i middle = (z >= v8_splat(-3.0f)) & (z <= v8_splat(3.0f));
        v8i above = z > v8_splat(3.0f);
        v8f slope = z / v8_splat(3.0f) + v8_splat(0.5f);
        return (v8f)((middle & (v8i)slope) | (above & (v8i)one));
    }
    default: return one;
    }
}

#endif
