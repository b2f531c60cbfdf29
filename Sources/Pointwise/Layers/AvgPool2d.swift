/// Average pooling with the semantics of PyTorch's
/// `nn.AvgPool2d(kernel_size, stride, padding, count_include_pad)`: each output is the mean of its
/// window, the padding counted as zeros (the default) or left out.
public struct AvgPool2d: ParameterFreeLayer {
    let window: PoolingWindow

    /// The window's side.
    public var kernelSize: Int { window.kernelSize }
    /// The step between windows.
    public var stride: Int { window.stride }
    /// Implicit zero padding on each side.
    public var padding: Int { window.padding }
    /// Whether padded zeros count in the mean's divisor (PyTorch's `count_include_pad`).
    public let countIncludePad: Bool

    /// A pooling layer.
    /// - Parameters:
    ///   - kernelSize: ≥ 1.
    ///   - stride: ≥ 1; nil means `kernelSize`, as in PyTorch.
    ///   - padding: 0 to `kernelSize / 2`.
    ///   - countIncludePad: divide by the whole window (true, PyTorch's default) or by the input
    ///     elements under it.
    /// - Throws: `LayerError.setting` for a value out of range.
    public init(
        kernelSize: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true
    ) throws(LayerError) {
        window = try PoolingWindow(kernelSize: kernelSize, stride: stride, padding: padding)
        self.countIncludePad = countIncludePad
    }

    /// `[N, C, H', W']` with `H' = ⌊(H + 2·padding − kernelSize) / stride⌋ + 1`, likewise W'.
    /// - Throws: `LayerError.shape` unless the input is `[N, C, H, W]` with room for one window.
    public func outputShape(forInput shape: [Int]) throws(LayerError) -> [Int] {
        try window.outputShape(forInput: shape)
    }

    /// Pools `input`.
    /// - Parameter input: `[N, C, H, W]`, either layout.
    /// - Returns: `[N, C, H', W']` in the input's layout.
    /// - Throws: `LayerError.shape` when the input is not four-dimensional or too small.
    public func callAsFunction(_ input: Tensor) throws(LayerError) -> Tensor {
        // x: [N, C, H, W]  →  y: [N, C, H', W']
        var output = try Tensor.zeros(like: input, shape: try outputShape(forInput: input.shape))
        let x = input.pointer, y = output.mutablePointer()
        window.forEachWindow(input: input, output: output) { o, window in
            var sum: Float = 0
            window.forEachIndex { sum += x[$0] }
            y[o] = sum / divisor(of: window)
        }
        return output
    }

    private func divisor(of window: PoolingWindow.Window) -> Float {
        Float(countIncludePad ? window.paddedArea : window.rows.count * window.columns.count)
    }

    // MARK: - Backward

    /// Adds dL/dy of each output, divided by its divisor, to every input element of its window.
    /// - Parameters:
    ///   - input: the forward input `[N, C, H, W]`.
    ///   - outputGradient: dL/dy, `[N, C, H', W']`.
    ///   - inputGradient: dL/dx, in the input's shape and layout.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // x: [N, C, H, W]  dy: [N, C, H', W']  →  dx[window] += dy / divisor
        let dyTensor = try checkedOutputGradient(
            outputGradient, outputShape: try outputShape(forInput: input.shape), input: input,
            inputGradient: inputGradient)
        let dy = dyTensor.pointer, dx = inputGradient.mutablePointer()
        window.forEachWindow(input: input, output: dyTensor) { o, window in
            let share = dy[o] / divisor(of: window)
            window.forEachIndex { dx[$0] += share }
        }
    }
}
