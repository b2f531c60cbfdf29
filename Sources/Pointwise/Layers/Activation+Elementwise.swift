// An activation over a whole buffer, through the same C code as the GEMM epilogue, so a separate
// activation pass gives bit-for-bit what a fused one would.

extension Activation {
    /// x = act(x), elementwise over `count` values.
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int, kernels: KernelConfig) {
        kernels.activate(x, count: count, self)
    }

    /// dz = dy · act'(z), elementwise over `count` values.
    func backward(
        _ dz: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>,
        count: Int, kernels: KernelConfig
    ) {
        kernels.activationBackward(dz, dy, z, count: count, self)
    }
}
