import Foundation

/// This machine's ceilings, measured rather than looked up: the FMA throughput of the kernels'
/// instruction set and the memory copy bandwidth, both at a given thread count.
public struct MachineProfile: Sendable, Codable {
    /// Peak fp32 GFLOP/s of register-only fused multiply-adds (2 flops each).
    public let fmaPeakGflops: Double
    /// Copy bandwidth in GB/s, counting bytes read plus bytes written (as STREAM's Copy does).
    public let copyGbps: Double
    /// The thread count both were measured at.
    public let threads: Int

    enum CodingKeys: String, CodingKey {
        case fmaPeakGflops = "fma_peak_gflops", copyGbps = "copy_gbps", threads
    }

    /// The roofline's least time, in milliseconds, for work of `flops` that must move `bytes`: the
    /// longer of the flops at the FMA peak and the bytes at the copy bandwidth. A layer whose
    /// flops take the longer is compute-bound on this machine, whatever its channel counts, and
    /// cannot reach the copy bandwidth: 16→96 at 112×112 moves 5.6 MB in 38.5 MFLOP, which at
    /// 103 GFLOP/s take 0.375 ms, where 5.6 MB at 19.6 GB/s take 0.287 ms (77% of it at best).
    public func rooflineMilliseconds(flops: Double, bytes: Double) -> Double {
        max(flops / (fmaPeakGflops * 1e6), bytes / (copyGbps * 1e6))
    }

    /// Measures both ceilings on `threads` threads (about a second in all).
    /// - Parameters:
    ///   - threads: 1…`ExecutionOptions.maximumThreads`; the copy moves 256 MiB per thread, 2 GiB
    ///     in all past 8 threads.
    ///   - kernels: the microkernel family whose FMA peak is measured.
    /// - Throws: `ConvolutionError.threads` for a thread count out of range.
    public static func measure(threads: Int, kernels: KernelConfig = .best) throws(ConvolutionError) -> MachineProfile {
        let threads = try ExecutionOptions.validated(threads: threads)
        return MachineProfile(
            fmaPeakGflops: measureFMAPeak(threads: threads, kernels: kernels),
            copyGbps: measureCopyBandwidth(threads: threads), threads: threads)
    }

    /// Best of five runs of independent FMA chains on every thread.
    static func measureFMAPeak(threads: Int, kernels: KernelConfig) -> Double {
        let iterations = 20_000_000
        // The flops of one thread's loop: 8- or 16-lane vectors, as the family's kernels use.
        let flops = kernels.fmaPeakLoop(iterations: 1) * Double(iterations)
        var best = 0.0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEach(threads) { _ in _ = kernels.fmaPeakLoop(iterations: iterations) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, flops * Double(threads) / seconds / 1e9)
        }
        return best
    }

    /// Best of five copies of a 128 MiB buffer per thread, far beyond the caches; past 8 threads,
    /// of 1 GiB shared among them (at least 1 MiB each), so that many threads do not ask for
    /// hundreds of GiB while the copy as a whole still dwarfs the caches.
    static func measureCopyBandwidth(threads: Int) -> Double {
        let bytes = max(1 << 20, min(128 << 20, (1 << 30) / threads / 64 * 64))
        let sources = (0..<threads).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        let targets = (0..<threads).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        defer { (sources + targets).forEach { $0.deallocate() } }
        for t in 0..<threads {
            memset(sources[t], 1, bytes)
            memset(targets[t], 0, bytes)
        }
        var best = 0.0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEach(threads) { t in memcpy(targets[t], sources[t], bytes) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, 2 * Double(bytes) * Double(threads) / seconds / 1e9)
        }
        return best
    }
}
