// How much freed memory the C library's allocator keeps for reuse, rather than handing it back to
// the operating system (glibc only; elsewhere nothing changes).
#define _GNU_SOURCE
#include "CPointwiseKernels.h"

#if defined(__GLIBC__)
#include <limits.h>
#include <malloc.h>
#endif

int pw_retain_freed_memory(size_t bytes) {
#if defined(__GLIBC__)
    // glibc refuses an mmap threshold above 32 MiB on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX,
    // the most its own dynamic threshold reaches), so larger blocks are mapped as before; nor is it
    // set below glibc's starting 128 KiB, which would map more blocks, not fewer.
    const size_t least = (size_t)128 * 1024, most = (size_t)4 * 1024 * 1024 * sizeof(long);
    const size_t threshold = bytes < least ? least : bytes < most ? bytes : most;
    const size_t trim = bytes < INT_MAX ? bytes : INT_MAX;
    return mallopt(M_MMAP_THRESHOLD, (int)threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim) == 1;
#else
    (void)bytes;
    return 0;
#endif
}

int pw_allocator_statistics(size_t *heap, size_t *mapped, size_t *free_in_heap) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 info = mallinfo2();
    *heap = info.arena;
    *mapped = info.hblkhd;
    *free_in_heap = info.fordblks;
    return 1;
#else
    *heap = *mapped = *free_in_heap = 0;
    return 0;
#endif
}
