import Foundation
import CPointwiseKernels

/// The kernel family that runs on this CPU: the single registry of which microkernels are used.
///
/// `best` picks AVX-512 kernels on x86-64 CPUs that have AVX-512 F and VL, AVX2+FMA kernels on
/// those that have only AVX2, and the portable kernels elsewhere (NEON on arm64). The choice is
/// made at run time, so no build flags are needed, by this package or by packages that depend on
/// it. The AVX-512 and AVX2 kernels give the same bits; the portable ones on x86-64, without FMA,
/// round each product before adding it.
///
/// The environment variable `POINTWISE_KERNELS` (`avx512`, `avx2` or `portable`) makes `best`
/// another family this CPU runs, to compare them or to keep 512-bit instructions off a CPU that
/// slows its clock for them; `environmentProblem` says why a value was not taken.
public struct KernelConfig: @unchecked Sendable {
    let table: UnsafePointer<pw_kernel_config>

    /// The kernels every run uses unless told otherwise: `fastest`, or the family that
    /// `POINTWISE_KERNELS` names when this CPU runs it.
    public static let best: KernelConfig = {
        guard let name = environmentName, let chosen = named(name) else { return fastest }
        return chosen
    }()
    /// The fastest kernels this CPU supports.
    public static let fastest = KernelConfig(table: pw_kernel_config_best())
    /// The portable kernels (compiler vector extensions): always available, used in tests to check
    /// the code path that arm64 runs.
    public static let portable = KernelConfig(table: pw_kernel_config_portable())
    /// The AVX2+FMA kernels, or nil where this CPU lacks them.
    public static let avx2: KernelConfig? = pw_kernel_config_avx2().map(KernelConfig.init(table:))
    /// The AVX-512 kernels (16-lane GEMM tiles), or nil where this CPU lacks AVX-512 F and VL.
    public static let avx512: KernelConfig? = pw_kernel_config_avx512().map(KernelConfig.init(table:))

    /// Each family's short name and its kernels where this CPU runs them, fastest first: the one
    /// list that `available`, `named(_:)`, `names` and `shortName` read.
    private static let families: [(name: String, kernels: KernelConfig?)] =
        [("avx512", avx512), ("avx2", avx2), ("portable", portable)]

    /// Every family this CPU runs, fastest first: the ones the tests run.
    public static var available: [KernelConfig] { families.compactMap(\.kernels) }

    /// The family a short name stands for (`avx512`, `avx2`, `portable`), or nil when the name is
    /// unknown or this CPU does not run that family.
    public static func named(_ name: String) -> KernelConfig? {
        families.first { $0.name == name }?.kernels
    }

    /// The short names `named(_:)` knows.
    public static let names = families.map(\.name)

    private static var environmentName: String? {
        guard let value = ProcessInfo.processInfo.environment["POINTWISE_KERNELS"], !value.isEmpty else { return nil }
        return value
    }

    /// Why `POINTWISE_KERNELS` was not taken (an unknown name, or a family this CPU lacks), or nil
    /// when it is unset or was taken.
    public static var environmentProblem: String? {
        guard let name = environmentName else { return nil }
        guard names.contains(name) else {
            return "unknown kernel family '\(name)'; the families are \(names.joined(separator: ", "))"
        }
        guard named(name) != nil else {
            let here = available.map(\.shortName).joined(separator: ", ")
            return "this CPU cannot run the '\(name)' kernels; it runs \(here)"
        }
        return nil
    }

    /// Whether the strip path copies and sweeps two 16-column strips at once in 16-lane vectors
    /// (the AVX-512 family), as `--explain` reports.
    var copiesStripPairs: Bool { table == Self.avx512?.table }

    /// The family's short name, as `named(_:)` takes it.
    public var shortName: String {
        Self.families.first { $0.kernels?.table == table }?.name ?? "portable"
    }

    /// The microkernel family, e.g. `gemm-6x16-fma3`.
    public var name: String { String(cString: table.pointee.name) }
    /// The instruction set it was compiled for: `avx512f`, `avx2+fma`, `neon` or `generic`.
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
