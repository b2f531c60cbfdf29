/// Nearest-neighbour upsampling of images by a whole factor, with the semantics of PyTorch's
/// `nn.Upsample(scale_factor=s, mode="nearest")` on `[N, C, H, W]`: each pixel becomes an s×s
/// block (FPN's top-down path uses s = 2).
public struct Upsample: ParameterFreeLayer {
    /// How many times larger each spatial side becomes.
    public let scaleFactor: Int

    /// An upsampling layer.
    /// - Parameter scaleFactor: ≥ 1.
    /// - Throws: `LayerError.setting` for a factor below 1.
    public init(scaleFactor: Int = 2) throws(LayerError) {
        guard scaleFactor >= 1 else { throw .setting(name: "scaleFactor", value: "\(scaleFactor)", expected: "≥ 1") }
        self.scaleFactor = scaleFactor
    }

    /// Upsamples `input`.
    /// - Parameter input: `[N, C, H, W]`, either layout.
    /// - Returns: `[N, C, s·H, s·W]` in the input's layout, `y[…, h, w] = x[…, h / s, w / s]`.
    /// - Throws: `LayerError.shape` when the input is not four-dimensional.
    public func callAsFunction(_ input: Tensor) throws(LayerError) -> Tensor {
        // x: [N, C, H, W]  →  y: [N, C, s·H, s·W]
        var output = try Tensor.zeros(like: input, shape: try outputShape(forInput: input.shape))
        let x = input.pointer, y = output.mutablePointer()
        forEachSource(input: input, output: output) { i, o in y[o] = x[i] }
        return output
    }

    private func outputShape(forInput shape: [Int]) throws(LayerError) -> [Int] {
        guard shape.count == 4 else { throw .shape(role: "input", expected: "[N, C, H, W]", actual: shape) }
        // Bounding the whole output's count bounds each of its sides, so they cannot overflow.
        guard let count = Tensor.nonZeroProduct(of: shape + [scaleFactor, scaleFactor]), count <= Tensor.maximumCount else {
            throw .shape(role: "input", expected: "[N, C, H, W] with \(scaleFactor)·H and \(scaleFactor)·W "
                         + "fitting in a tensor", actual: shape)
        }
        return [shape[0], shape[1], shape[2] * scaleFactor, shape[3] * scaleFactor]
    }

    /// Calls `body(inputIndex, outputIndex)` for every output element and the input it copies.
    private func forEachSource(input: Tensor, output: Tensor, _ body: (Int, Int) -> Void) {
        let width = input.shape[3], (rows, columns) = (output.shape[2], output.shape[3])
        for n in 0..<input.batchSize {
            for c in 0..<input.channels {
                for oh in 0..<rows {
                    let sourceRow = oh / scaleFactor * width
                    for ow in 0..<columns {
                        body(input.memoryIndex(batch: n, channel: c, position: sourceRow + ow / scaleFactor),
                             output.memoryIndex(batch: n, channel: c, position: oh * columns + ow))
                    }
                }
            }
        }
    }

    // MARK: - Backward

    /// Adds to each input pixel the sum of dL/dy over its s×s block.
    /// - Parameters:
    ///   - input: the forward input `[N, C, H, W]`.
    ///   - outputGradient: dL/dy, `[N, C, s·H, s·W]`.
    ///   - inputGradient: dL/dx, in the input's shape and layout.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // x: [N, C, H, W]  dy: [N, C, s·H, s·W]  →  dx[h, w] += Σ over the block of dy
        let dyTensor = try checkedOutputGradient(
            outputGradient, outputShape: try outputShape(forInput: input.shape), input: input,
            inputGradient: inputGradient)
        let dy = dyTensor.pointer, dx = inputGradient.mutablePointer()
        forEachSource(input: input, output: dyTensor) { i, o in dx[i] += dy[o] }
    }
}
