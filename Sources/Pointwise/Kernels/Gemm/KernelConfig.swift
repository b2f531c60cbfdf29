import CPointwiseKernels

/// The kernel family that runs on this CPU: the single registry of which microkernels are used.
///
/// `best` picks AVX2+FMA kernels on x86-64 CPUs that have them and the portable kernels elsewhere
/// (NEON on arm64). The choice is made at run time, so no build flags are needed, by this package
/// or by packages that depend on it.
public struct KernelConfig: @unchecked Sendable {
    let table: UnsafePointer<pw_kernel_config>

    /// The fastest kernels this CPU supports.
    public static let best = KernelConfig(table: pw_kernel_config_best())
    /// The portable kernels (compiler vector extensions): always available, used in tests to check
    /// the code path that arm64 runs.
    public static let portable = KernelConfig(table: pw_kernel_config_portable())

    /// The microkernel family, e.g. `gemm-6x16-fma3`.
    public var name: String { String(cString: table.pointee.name) }
    /// The instruction set it was compiled for: `avx2+fma`, `neon` or `generic`.
    public var instructionSet: String { String(cString: table.pointee.isa) }

    /// Rows of C in the largest register tile.
    public static let tileRows = Int(PW_GEMM_MR)
    /// Columns of C in the largest register tile.
    public static let tileColumns = Int(PW_GEMM_NR)

    /// x = act(x), with the epilogue's arithmetic.
    func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: Activation) {
        table.pointee.activate(x, count, activation.kernelCode)
    }

    /// dz = dy · act'(z).
    func activationBackward(
        _ dz: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>,
        count: Int, _ activation: Activation
    ) {
        table.pointee.activation_backward(dz, dy, z, count, activation.kernelCode)
    }

    /// Runs `iterations` steps of register-only FMAs and returns the flops done.
    func fmaPeakLoop(iterations: Int) -> Double { table.pointee.fma_peak_loop(Int64(iterations)) }
}
