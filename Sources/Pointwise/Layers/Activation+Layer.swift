// Any activation as a layer of its own (PyTorch's nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.SiLU,
// nn.Hardswish), for the places where nothing before it can fuse it.

extension Activation: ParameterFreeLayer {
    /// act(x), elementwise.
    /// - Parameter input: any shape, either layout; the output has the same shape and layout.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        // x: [N, C, *S]  →  y: [N, C, *S]
        var output = input
        apply(output.mutablePointer(), count: output.count, kernels: .best)
        return output
    }

    // MARK: - Backward

    /// Adds dL/dx = dL/dy · act'(x) into `inputGradient` (PyTorch's choices at the kinks: see
    /// `referenceDerivative`).
    /// - Parameters:
    ///   - input: the forward input x.
    ///   - outputGradient: dL/dy, shaped like x.
    ///   - inputGradient: dL/dx, in x's shape and layout.
    /// - Throws: `LayerError.shape` when the shapes differ.
    public func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // x: [N, C, *S]  dy: [N, C, *S]  →  dx += dy · act'(x)
        let dy = try checkedOutputGradient(
            outputGradient, outputShape: input.shape, input: input, inputGradient: inputGradient)
        var dz = Tensor.zeros(like: input)
        backward(dz.mutablePointer(), dy.pointer, input.pointer, count: input.count, kernels: .best)
        inputGradient.add(dz)
    }
}
