// An activation over a buffer: the C kernels for the activations they know, a Swift loop for
// hard-swish. Hard-swish is not in the C epilogue's activation codes, and the C kernels belong to the
// kernel work; until it is added there (one more case in `pw_activation` and its two loops), a
// convolution with hard-swish runs its GEMM with no activation and this pass after it.

extension Activation {
    /// Whether the C kernels implement this activation, so a GEMM epilogue can fuse it.
    var hasKernel: Bool { self != .hardSwish }

    /// x = act(x), elementwise over `count` values.
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int, kernels: KernelConfig) {
        guard !hasKernel else { return kernels.activate(x, count: count, self) }
        for i in 0..<count { x[i] = x[i] * min(max(x[i] + 3, 0), 6) / 6 }
    }

    /// dz = dy · act'(z), elementwise over `count` values.
    func backward(
        _ dz: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>,
        count: Int, kernels: KernelConfig
    ) {
        guard !hasKernel else { return kernels.activationBackward(dz, dy, z, count: count, self) }
        for i in 0..<count { dz[i] = z[i] < -3 ? 0 : z[i] <= 3 ? dy[i] * (z[i] / 3 + 0.5) : dy[i] }
    }
}
