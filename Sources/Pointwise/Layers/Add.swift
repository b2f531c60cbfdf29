/// Elementwise addition of two tensors of the same shape, PyTorch's `a + b` without broadcasting:
/// ResNet's shortcut and FPN's top-down merge when nothing fuses them into a convolution's residual.
public struct Add: Sendable {
    /// The layer (it has no settings).
    public init() {}

    /// `lhs + rhs`.
    /// - Parameters:
    ///   - lhs: any shape, either layout.
    ///   - rhs: `lhs`'s shape, either layout.
    /// - Returns: `lhs`'s shape and layout.
    /// - Throws: `LayerError.shape` when the shapes differ.
    public func callAsFunction(_ lhs: Tensor, _ rhs: Tensor) throws(LayerError) -> Tensor {
        // a: [N, C, *S]  b: [N, C, *S]  →  y: [N, C, *S]
        try rhs.check("right operand", shape: lhs.shape)
        var output = lhs
        output.add(rhs.converted(to: lhs.layout))
        return output
    }

    // MARK: - Backward

    /// Adds dL/dy into both operands' gradient buffers (the sum passes the gradient through unchanged).
    /// - Parameters:
    ///   - outputGradient: dL/dy.
    ///   - lhsGradient: dL/da, dL/dy's shape, any layout.
    ///   - rhsGradient: dL/db, dL/dy's shape, any layout.
    /// - Throws: `LayerError.shape` when a buffer's shape differs from dL/dy's.
    public func accumulateInputGradients(
        outputGradient: Tensor, into lhsGradient: inout Tensor, _ rhsGradient: inout Tensor
    ) throws(LayerError) {
        // dy: [N, C, *S]  →  da += dy,  db += dy
        try lhsGradient.check("left operand gradient", shape: outputGradient.shape)
        try rhsGradient.check("right operand gradient", shape: outputGradient.shape)
        lhsGradient.add(outputGradient.converted(to: lhsGradient.layout))
        rhsGradient.add(outputGradient.converted(to: rhsGradient.layout))
    }
}
