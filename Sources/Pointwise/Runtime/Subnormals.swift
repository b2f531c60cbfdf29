import CPointwiseKernels

/// Control of subnormal (denormal) floats for the calling thread.
public enum Subnormals {
    /// Makes the calling thread flush subnormal results to zero and read subnormal inputs as
    /// zero (x86 MXCSR FTZ + DAZ, arm64 FPCR FZ), or restores IEEE behaviour.
    /// - Returns: whether flushing was on before.
    @discardableResult
    public static func flushToZero(_ enable: Bool) -> Bool {
        pw_flush_subnormals(enable ? 1 : 0) != 0
    }
}
