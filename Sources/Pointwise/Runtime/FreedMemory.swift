import CPointwiseKernels

/// How much of the memory freed by tensors the process keeps for reuse.
///
/// A training step allocates and frees tensors of several megabytes each (activations, their
/// gradients). glibc's allocator maps blocks that large from the operating system afresh, or trims
/// its heap once more than twice that is free, so every step faults the same memory in again page
/// by page, each page zeroed by the kernel. Keeping it costs nothing but the memory held.
public enum FreedMemory {
    /// Makes the C library's allocator keep up to `bytes` of freed memory for the next
    /// allocations instead of handing it back to the operating system, for the whole process
    /// (glibc only; blocks over 32 MiB are still mapped one by one). The `pointwise` command does
    /// this when it starts; a program that trains in a loop should do it once. On one Zen 5 core,
    /// seven interleaved rounds of `pointwise bench --train` (6.4 MB activations) took a median of
    /// 16.1 ms per step without it and 14.3 ms with it. Threads other than the main one allocate
    /// from glibc's per-thread arenas, which still unmap a heap they no longer use at all.
    /// - Parameter bytes: the most freed memory kept (default 256 MiB).
    /// - Returns: whether the allocator took the setting (false where it is not glibc's).
    @discardableResult
    public static func retain(upTo bytes: Int = 256 << 20) -> Bool {
        pw_retain_freed_memory(max(bytes, 0)) != 0
    }

    /// What the C library's allocator holds, over all its arenas (glibc 2.33 or later).
    public struct Statistics: Sendable, Equatable {
        /// Bytes in its heaps, in use or free.
        public var heap: Int
        /// Bytes in blocks mapped from the operating system one by one (handed back when freed).
        public var mapped: Int
        /// Bytes free within its heaps, kept for the next allocations.
        public var free: Int
    }

    /// The allocator's current statistics, or nil where they are not known.
    public static var statistics: Statistics? {
        var (heap, mapped, free) = (0, 0, 0)
        guard pw_allocator_statistics(&heap, &mapped, &free) != 0 else { return nil }
        return Statistics(heap: heap, mapped: mapped, free: free)
    }
}
