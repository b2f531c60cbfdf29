/// Which implementation computes a convolution.
public enum Algorithm: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Packed, cache-blocked SIMD microkernels, multithreaded.
    case fast
    /// The plain loops of the definition (the "direct" method), accumulating in double precision.
    /// Slow; kept as the oracle the fast path is tested against.
    case reference

    /// `fast` or `reference`.
    public var description: String { rawValue }
}

/// How to run a convolution: implementation, threads and kernel family.
public struct ExecutionOptions: Sendable {
    /// Worker threads for the fast path (results are bit-identical for any count).
    public var threads: Int
    /// The implementation.
    public var algorithm: Algorithm
    /// The microkernel family (tests use `.portable` to check the code path arm64 runs).
    public var kernels: KernelConfig

    /// Options for running on `threads` threads (default: every available CPU).
    /// - Parameters:
    ///   - threads: worker threads, ≥ 1.
    ///   - algorithm: `.fast` (default) or `.reference`.
    ///   - kernels: the microkernel family; `.best` picks the fastest this CPU supports.
    public init(threads: Int? = nil, algorithm: Algorithm = .fast, kernels: KernelConfig = .best) {
        self.threads = threads ?? Parallel.availableProcessors
        self.algorithm = algorithm
        self.kernels = kernels
    }

    func validatedThreads() throws(ConvolutionError) -> Int {
        guard threads >= 1 else { throw .threads(threads) }
        return threads
    }
}
