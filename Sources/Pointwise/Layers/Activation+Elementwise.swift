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

    /// dL/dz = dy · act'(z) as a new tensor (dy and z of the same shape and layout).
    func gradient(outputGradient dy: Tensor, preActivation z: Tensor, kernels: KernelConfig) -> Tensor {
        var dz = dy
        let target = dz.mutablePointer()
        if dz.count > 0 { backward(target, dy.pointer, z.pointer, count: dz.count, kernels: kernels) }
        return dz
    }
}
