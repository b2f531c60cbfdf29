/// Concatenation along the channel axis, PyTorch's `torch.cat(tensors, dim=1)`: Inception's branch
/// merge, DenseNet's feature reuse, U-Net's skip connections.
public struct Concat: Sendable {
    /// The layer (it has no settings).
    public init() {}

    /// Stacks the inputs' channels, first input first.
    /// - Parameter inputs: one or more `[N, C_k, *spatial]` tensors with the same N and spatial
    ///   shape, in any layouts.
    /// - Returns: `[N, Σ C_k, *spatial]` in the first input's layout.
    /// - Throws: `LayerError.shape` when there is no input or the batch or spatial shapes differ.
    public func callAsFunction(_ inputs: [Tensor]) throws(LayerError) -> Tensor {
        // x_k: [N, C_k, *S]  →  y: [N, Σ C_k, *S]
        guard let first = inputs.first else {
            throw .shape(role: "inputs", expected: "at least one tensor", actual: [])
        }
        for input in inputs where input.shape.count != first.shape.count || input.batchSize != first.batchSize
            || input.spatialShape != first.spatialShape {
            let expected = "[\(first.batchSize), C] + \(first.spatialShape) like the first input"
            throw .shape(role: "input", expected: expected, actual: input.shape)
        }
        let channels = inputs.reduce(0) { $0 + $1.channels }
        var output = try Tensor.zeros(like: first, shape: [first.batchSize, channels] + first.spatialShape)
        let y = output.mutablePointer()
        var offset = 0
        for input in inputs {
            let part = input.converted(to: first.layout), x = part.pointer
            Self.forEachRun(whole: output, part: part, channelOffset: offset) { w, p, count in
                (y + w).update(from: x + p, count: count)
            }
            offset += part.channels
        }
        return output
    }

    /// Calls `body(wholeOffset, partOffset, count)` for each contiguous run of elements that channels
    /// `channelOffset ..< channelOffset + part.channels` of `whole` share with `part` (same layout).
    private static func forEachRun(whole: Tensor, part: Tensor, channelOffset: Int, _ body: (Int, Int, Int) -> Void) {
        let pixels = part.pixelsPerImage, (wholeChannels, partChannels) = (whole.channels, part.channels)
        switch whole.layout {
        case .channelsFirst:
            for n in 0..<part.batchSize {
                body((n * wholeChannels + channelOffset) * pixels, n * partChannels * pixels, partChannels * pixels)
            }
        case .channelsLast:
            for row in 0..<part.batchSize * pixels {
                body(row * wholeChannels + channelOffset, row * partChannels, partChannels)
            }
        }
    }

    // MARK: - Backward

    /// dL/dx_k for each input: the output gradient's channels that came from it.
    /// - Parameters:
    ///   - inputs: the forward inputs.
    ///   - outputGradient: dL/dy, `[N, Σ C_k, *spatial]`.
    /// - Returns: one gradient per input, in its shape and layout.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func inputGradients(inputs: [Tensor], outputGradient: Tensor) throws(LayerError) -> [Tensor] {
        var gradients = inputs.map { Tensor.zeros(like: $0) }
        try accumulateInputGradients(outputGradient: outputGradient, into: &gradients)
        return gradients
    }

    /// Adds to each input's gradient buffer its slice of the output gradient's channels.
    /// - Parameters:
    ///   - outputGradient: dL/dy, `[N, Σ C_k, *spatial]`.
    ///   - inputGradients: dL/dx_k, one per input in its shape and layout (the shapes say where
    ///     each slice starts).
    /// - Throws: `LayerError.shape` when the buffers do not add up to the output gradient's shape.
    public func accumulateInputGradients(
        outputGradient: Tensor, into inputGradients: inout [Tensor]
    ) throws(LayerError) {
        // dy: [N, Σ C_k, *S]  →  dx_k += dy[:, offset_k ..< offset_k + C_k]
        let (batch, spatial) = (outputGradient.batchSize, outputGradient.spatialShape)
        let channels = inputGradients.reduce(0) { $0 + $1.channels }
        for buffer in inputGradients { try buffer.check("input gradient", shape: [batch, buffer.channels] + spatial) }
        try outputGradient.check("output gradient", shape: [batch, channels] + spatial)
        var offset = 0
        for k in inputGradients.indices {
            let whole = outputGradient.converted(to: inputGradients[k].layout)
            let dy = whole.pointer, dx = inputGradients[k].mutablePointer()
            Self.forEachRun(whole: whole, part: inputGradients[k], channelOffset: offset) { w, p, count in
                for e in 0..<count { dx[p + e] += dy[w + e] }
            }
            offset += inputGradients[k].channels
        }
    }
}
