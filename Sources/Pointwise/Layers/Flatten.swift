/// Flattens each image to a vector in PyTorch's order, `nn.Flatten()` / `x.flatten(1)` on an NCHW
/// tensor: `[N, C, *spatial] → [N, C · |spatial|]`, element `(c, s)` at `c · |spatial| + s`. It is
/// the step between a convolutional trunk and a `Linear` head.
public struct Flatten: ParameterFreeLayer {
    /// The layer (it has no settings).
    public init() {}

    /// The flattened input: a view without copying for channels-first input, a transposing copy for
    /// channels-last (whose memory order is not PyTorch's flattening order).
    /// - Parameter input: `[N, C, *spatial]`, either layout.
    /// - Returns: `[N, C · |spatial|]`, labelled with the input's layout (with no spatial
    ///   dimensions both layouts are the same memory).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        // x: [N, C, *S]  →  y: [N, C·|S|]
        let planes = input.converted(to: .channelsFirst)
        return Tensor(shape: [input.batchSize, input.channels * input.pixelsPerImage], layout: input.layout,
                      count: input.count, storage: planes.storage, offset: planes.offset)
    }

    // MARK: - Backward

    /// Adds dL/dy, unflattened to the input's shape, into `inputGradient`.
    /// - Parameters:
    ///   - input: the forward input `[N, C, *spatial]`.
    ///   - outputGradient: dL/dy, `[N, C · |spatial|]`.
    ///   - inputGradient: dL/dx, in the input's shape and layout.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // dy: [N, C·|S|]  →  dx: [N, C, *S] += dy
        try outputGradient.check("output gradient", shape: [input.batchSize, input.channels * input.pixelsPerImage])
        try inputGradient.checkGradientBuffer(for: input)
        let planes = Tensor(shape: input.shape, layout: .channelsFirst, count: input.count,
                            storage: outputGradient.storage, offset: outputGradient.offset)
        inputGradient.add(planes.converted(to: input.layout))
    }
}
