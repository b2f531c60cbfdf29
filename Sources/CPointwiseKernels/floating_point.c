// Subnormal floats: flush-to-zero and denormals-are-zero for the calling thread.
//
// x86: MXCSR bits FTZ (15) and DAZ (6). arm64: FPCR bit FZ (24), which does both.
#include "CPointwiseKernels.h"

#if defined(__x86_64__)
static unsigned read_control(void) {
    unsigned value;
    __asm__ volatile("stmxcsr %0" : "=m"(value));
    return value;
}
static void write_control(unsigned value) { __asm__ volatile("ldmxcsr %0" : : "m"(value)); }
static const unsigned flush_bits = (1u << 15) | (1u << 6);
#elif defined(__aarch64__)
static unsigned long read_control(void) {
    unsigned long value;
    __asm__ volatile("mrs %0, fpcr" : "=r"(value));
    return value;
}
static void write_control(unsigned long value) { __asm__ volatile("msr fpcr, %0" : : "r"(value)); }
static const unsigned long flush_bits = 1ul << 24;
#endif

int pw_flush_subnormals(int enable) {
#if defined(__x86_64__) || defined(__aarch64__)
    const int was = (read_control() & flush_bits) == flush_bits;
    write_control(enable ? (read_control() | flush_bits) : (read_control() & ~flush_bits));
    return was;
#else
    (void)enable;
    return 0;
#endif
}
