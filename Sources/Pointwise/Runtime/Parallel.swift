import CPointwiseKernels
import Foundation

/// Splitting work across an explicit number of threads.
enum Parallel {
    /// The number of CPUs this process may run on: the default thread count.
    static var availableProcessors: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Calls `body(t)` for t in 0..<`count`, concurrently when `count` > 1, and returns when all
    /// calls have. Each `t` is one worker's share of the work, decided by the caller, so how the
    /// work is divided never depends on scheduling.
    ///
    /// The workers are a pool kept between calls (`pw_parallel_run`): a 1×1 convolution often
    /// takes less time than waking a sleeping thread, so the workers spin for a while after each
    /// loop before they sleep. A call made from inside another runs its shares one after another.
    ///
    /// Every share runs with subnormal floats flushed to zero (x86 FTZ + DAZ, arm64 FZ), as
    /// TensorFlow runs its threads: on many CPUs an FMA that meets a subnormal takes a microcode
    /// assist of ~100 cycles, which made PyTorch layers 10–100× slower on decayed weights. The
    /// workers keep the mode; the calling thread gets its own mode back on return.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let wasFlushing = pw_flush_subnormals(1) != 0
        defer { if !wasFlushing { pw_flush_subnormals(0) } }
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        // The workers write disjoint parts of the output through raw pointers, which the
        // compiler cannot see; the closure is only shared for the duration of this call.
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { task in
                pw_parallel_run(Int32(count), { context, worker in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(worker))
                }, task)
            }
        }
    }

    /// Splits the output rows of a batch — `images` × `rowsPerImage`, taken in order — into
    /// `threads` contiguous shares (at most one per row) and calls `body(worker, image, rows)` for
    /// each image's part of each share, the shares in parallel.
    static func forEachRowRange(
        images: Int, rowsPerImage: Int, threads: Int, _ body: (_ worker: Int, _ image: Int, _ rows: Range<Int>) -> Void
    ) {
        let rows = images * rowsPerImage, workers = rowRangeWorkers(images: images, rowsPerImage: rowsPerImage, threads: threads)
        forEach(workers) { worker in
            var row = rows * worker / workers
            let end = rows * (worker + 1) / workers
            while row < end {
                let (image, first) = row.quotientAndRemainder(dividingBy: rowsPerImage)
                let last = min(rowsPerImage, first + end - row)
                body(worker, image, first..<last)
                row += last - first
            }
        }
    }

    /// The workers `forEachRowRange` runs (at most one per row), which per-worker scratch is sized by.
    static func rowRangeWorkers(images: Int, rowsPerImage: Int, threads: Int) -> Int {
        max(1, min(threads, images * rowsPerImage))
    }
}
