extension Conv2d {
    /// How many zeros surround the input, per side.
    public enum Padding: Sendable, Equatable, CustomStringConvertible {
        /// `p` rows and columns on every side (PyTorch's `padding=p`; 0 is TensorFlow's "VALID").
        case symmetric(Int)
        /// Each side on its own, e.g. ZeroPad2d((left, right, top, bottom)) before an unpadded
        /// convolution.
        case explicit(top: Int, bottom: Int, left: Int, right: Int)
        /// TensorFlow's "SAME": the output has ⌈size / stride⌉ rows and columns, and the padding
        /// they need, `total = max((out − 1)·stride + dilation·(k − 1) + 1 − size, 0)`, is split
        /// `total / 2` before and the rest after (so an odd total puts the extra row at the
        /// bottom and the extra column on the right, as TF does for stride 2).
        case same

        /// No padding (TensorFlow's "VALID").
        public static let valid = Padding.symmetric(0)

        /// `1`, `(top, bottom, left, right)` or `same`.
        public var description: String {
            switch self {
            case .symmetric(let p): "\(p)"
            case .explicit(let top, let bottom, let left, let right): "(\(top), \(bottom), \(left), \(right))"
            case .same: "same"
            }
        }

        /// Throws unless every amount is ≥ 0 and at most `Tensor.maximumCount`.
        func validate() throws(LayerError) {
            let amounts: [Int]
            switch self {
            case .symmetric(let p): amounts = [p]
            case .explicit(let top, let bottom, let left, let right): amounts = [top, bottom, left, right]
            case .same: amounts = []
            }
            guard amounts.allSatisfy({ $0 >= 0 }) else {
                throw .setting(name: "padding", value: description, expected: "every side ≥ 0")
            }
            guard amounts.allSatisfy({ $0 <= Tensor.maximumCount }) else {
                throw .setting(name: "padding", value: description, expected: "every side at most \(Tensor.maximumCount)")
            }
        }

        /// The zeros before and after an axis of `size` elements, for a kernel of `taps` taps.
        func amounts(axis: Axis, size: Int, taps: Int, stride: Int, dilation: Int) -> (before: Int, after: Int) {
            switch self {
            case .symmetric(let p): return (p, p)
            case .explicit(let top, let bottom, let left, let right):
                return axis == .height ? (top, bottom) : (left, right)
            case .same:
                let output = (size + stride - 1) / stride
                let total = max((output - 1) * stride + dilation * (taps - 1) + 1 - size, 0)
                return (total / 2, total - total / 2)
            }
        }

        enum Axis { case height, width }
    }
}

/// Where each output element of a 2-D convolution reads its input: sizes, stride, dilation and
/// the padding before the first row and column (the padding after follows from the output size).
struct Conv2dGeometry: Equatable {
    let height: Int, width: Int
    let outputHeight: Int, outputWidth: Int
    let kernelHeight: Int, kernelWidth: Int
    let stride: Int, dilation: Int
    let top: Int, left: Int

    /// The geometry of `conv` on an `height`×`width` input.
    /// - Throws: `LayerError.shape` when the kernel (dilated) is larger than the padded input.
    init(_ conv: Conv2d, height: Int, width: Int, inputShape: [Int]) throws(LayerError) {
        let (top, bottom) = conv.padding.amounts(
            axis: .height, size: height, taps: conv.kernelHeight, stride: conv.stride, dilation: conv.dilation)
        let (left, right) = conv.padding.amounts(
            axis: .width, size: width, taps: conv.kernelWidth, stride: conv.stride, dilation: conv.dilation)
        let spanHeight = conv.dilation * (conv.kernelHeight - 1) + 1
        let spanWidth = conv.dilation * (conv.kernelWidth - 1) + 1
        guard height + top + bottom >= spanHeight, width + left + right >= spanWidth else {
            throw .shape(
                role: "input",
                expected: "[N, \(conv.inputChannels), H, W] with H + \(top + bottom) ≥ \(spanHeight) and "
                    + "W + \(left + right) ≥ \(spanWidth) (the padded input must hold the dilated kernel)",
                actual: inputShape)
        }
        self.height = height
        self.width = width
        outputHeight = (height + top + bottom - spanHeight) / conv.stride + 1
        outputWidth = (width + left + right - spanWidth) / conv.stride + 1
        kernelHeight = conv.kernelHeight
        kernelWidth = conv.kernelWidth
        stride = conv.stride
        dilation = conv.dilation
        self.top = top
        self.left = left
    }

    var outputPixels: Int { outputHeight * outputWidth }
    var taps: Int { kernelHeight * kernelWidth }

    /// The input row that output row `oh` reads through kernel row `kh` (outside 0..<height in the padding).
    @inline(__always) func inputRow(_ oh: Int, _ kh: Int) -> Int { oh * stride - top + kh * dilation }
    /// The input column that output column `ow` reads through kernel column `kw`.
    @inline(__always) func inputColumn(_ ow: Int, _ kw: Int) -> Int { ow * stride - left + kw * dilation }
}
