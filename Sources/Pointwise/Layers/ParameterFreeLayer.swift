/// A layer without parameters (activation, pooling, upsampling, flattening): a value that maps one
/// tensor to another and back-propagates to its input only, so it can stand anywhere in a network.
public protocol ParameterFreeLayer: Sendable {
    /// The layer's output for `input`.
    /// - Throws: `LayerError` when the input's shape does not fit the layer.
    func callAsFunction(_ input: Tensor) throws(LayerError) -> Tensor

    /// Adds dL/dx into `inputGradient`, given the forward input and dL/dy.
    /// - Parameters:
    ///   - input: the forward input.
    ///   - outputGradient: dL/dy, shaped like the output (any layout).
    ///   - inputGradient: dL/dx, in `input`'s shape and layout; the gradient is added to it.
    /// - Throws: `LayerError` when a shape does not fit.
    func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError)
}

extension ParameterFreeLayer {
    /// dL/dx, in `input`'s shape and layout, given the forward input and dL/dy.
    /// - Throws: `LayerError` when a shape does not fit.
    public func inputGradient(input: Tensor, outputGradient: Tensor) throws(LayerError) -> Tensor {
        var gradient = Tensor.zeros(like: input)
        try accumulateInputGradient(input: input, outputGradient: outputGradient, into: &gradient)
        return gradient
    }
}

extension ParameterFreeLayer {
    /// The checks every backward pass starts with: dL/dy has `outputShape` and the gradient buffer
    /// has the input's shape and layout. Returns dL/dy in the input's layout.
    func checkedOutputGradient(
        _ outputGradient: Tensor, outputShape: [Int], input: Tensor, inputGradient: Tensor
    ) throws(LayerError) -> Tensor {
        try outputGradient.check("output gradient", shape: outputShape)
        try inputGradient.checkGradientBuffer(for: input)
        return outputGradient.converted(to: input.layout)
    }
}
