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
    /// The most worker threads a convolution may be asked for. The pool runs at most 256 at once
    /// (a larger count runs its shares one after another); the bound keeps the per-thread scratch
    /// and the work division's arithmetic far from overflowing.
    public static let maximumThreads = 1024

    /// Worker threads for the fast path, 1…`maximumThreads` (results are bit-identical for any count).
    public var threads: Int
    /// The implementation.
    public var algorithm: Algorithm
    /// The microkernel family (tests use `.portable` to check the code path arm64 runs).
    public var kernels: KernelConfig

    /// Options for running on `threads` threads (default: every available CPU).
    /// - Parameters:
    ///   - threads: worker threads, 1…`maximumThreads` (checked when the options are used).
    ///   - algorithm: `.fast` (default) or `.reference`.
    ///   - kernels: the microkernel family; `.best` picks the fastest this CPU supports.
    public init(threads: Int? = nil, algorithm: Algorithm = .fast, kernels: KernelConfig = .best) {
        self.threads = threads ?? Parallel.availableProcessors
        self.algorithm = algorithm
        self.kernels = kernels
    }

    func validatedThreads() throws(ConvolutionError) -> Int {
        try Self.validated(threads: threads)
    }

    /// `threads`, when it is in 1…`maximumThreads`.
    /// - Throws: `ConvolutionError.threads` otherwise.
    static func validated(threads: Int) throws(ConvolutionError) -> Int {
        guard (1...maximumThreads).contains(threads) else { throw .threads(threads) }
        return threads
    }
}
