/// Max pooling with the semantics of PyTorch's `nn.MaxPool2d(kernel_size, stride, padding)`:
/// each output is the largest input under its window (padding never wins).
public struct MaxPool2d: ParameterFreeLayer {
    let window: PoolingWindow

    /// The window's side.
    public var kernelSize: Int { window.kernelSize }
    /// The step between windows.
    public var stride: Int { window.stride }
    /// Implicit padding on each side.
    public var padding: Int { window.padding }

    /// A pooling layer.
    /// - Parameters:
    ///   - kernelSize: ≥ 1.
    ///   - stride: ≥ 1; nil means `kernelSize`, as in PyTorch.
    ///   - padding: 0 to `kernelSize / 2`.
    /// - Throws: `LayerError.setting` for a value out of range.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) throws(LayerError) {
        window = try PoolingWindow(kernelSize: kernelSize, stride: stride, padding: padding)
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
        window.forEachWindow(input: input, output: output) { o, window in y[o] = x[Self.largest(in: window, of: x)] }
        return output
    }

    /// The index of the window's largest element: the first in row order, as PyTorch picks it
    /// (a NaN counts as largest).
    private static func largest(in window: PoolingWindow.Window, of x: UnsafePointer<Float>) -> Int {
        var best = -1
        window.forEachIndex { i in
            if best < 0 || x[i] > x[best] || x[i].isNaN { best = i }
        }
        return best
    }

    // MARK: - Backward

    /// Adds dL/dy of each output to the input element it took (its window's first maximum).
    /// - Parameters:
    ///   - input: the forward input `[N, C, H, W]`.
    ///   - outputGradient: dL/dy, `[N, C, H', W']`.
    ///   - inputGradient: dL/dx, in the input's shape and layout.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // x: [N, C, H, W]  dy: [N, C, H', W']  →  dx[argmax of each window] += dy
        let dyTensor = try checkedOutputGradient(
            outputGradient, outputShape: try outputShape(forInput: input.shape), input: input,
            inputGradient: inputGradient)
        let x = input.pointer, dy = dyTensor.pointer, dx = inputGradient.mutablePointer()
        window.forEachWindow(input: input, output: dyTensor) { o, window in
            dx[Self.largest(in: window, of: x)] += dy[o]
        }
    }
}
