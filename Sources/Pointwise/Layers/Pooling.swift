/// The window geometry PyTorch's `MaxPool2d` and `AvgPool2d` share: a square kernel, stride and
/// implicit padding, output sizes rounded down (`ceil_mode=False`), dilation 1.
struct PoolingWindow: Sendable {
    let kernelSize: Int
    let stride: Int
    let padding: Int

    /// Checks the settings as PyTorch does: padding at most half the kernel, so every window
    /// holds at least one input element.
    init(kernelSize: Int, stride: Int?, padding: Int) throws(LayerError) {
        // Bounded by the largest tensor, so that a side plus the padding cannot overflow.
        let largest = Tensor.maximumCount
        guard kernelSize >= 1 else { throw .setting(name: "kernelSize", value: "\(kernelSize)", expected: "≥ 1") }
        guard kernelSize <= largest else {
            throw .setting(name: "kernelSize", value: "\(kernelSize)", expected: "at most \(largest)")
        }
        let stride = stride ?? kernelSize
        guard stride >= 1 else { throw .setting(name: "stride", value: "\(stride)", expected: "≥ 1") }
        guard stride <= largest else { throw .setting(name: "stride", value: "\(stride)", expected: "at most \(largest)") }
        guard padding >= 0, padding <= kernelSize / 2 else {
            throw .setting(name: "padding", value: "\(padding)",
                           expected: "0…\(kernelSize / 2) (at most half the kernel)")
        }
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    /// `[N, C, H', W']` with `H' = ⌊(H + 2·padding − kernelSize) / stride⌋ + 1`, likewise W'.
    func outputShape(forInput shape: [Int]) throws(LayerError) -> [Int] {
        let smallest = kernelSize - 2 * padding
        guard shape.count == 4, shape[2] >= smallest, shape[3] >= smallest else {
            throw .shape(role: "input", expected: "[N, C, H, W] with H, W ≥ \(max(smallest, 0))", actual: shape)
        }
        do { _ = try Tensor.validatedCount(of: shape) } catch { throw .tensor(error) }
        return Array(shape[0..<2]) + shape[2...].map { ($0 + 2 * padding - kernelSize) / stride + 1 }
    }

    /// The input elements under one output element's window.
    struct Window {
        let base: Int, rowStep: Int, columnStep: Int
        let rows: Range<Int>, columns: Range<Int>
        /// The window's area counting padding (PyTorch's divisor for `count_include_pad`).
        let paddedArea: Int

        /// Calls `body` with the memory index of each element, row by row.
        func forEachIndex(_ body: (Int) -> Void) {
            for h in rows {
                for w in columns { body(base + h * rowStep + w * columnStep) }
            }
        }
    }

    /// Calls `body(outputIndex, window)` for every element of `output` (both in the same layout).
    func forEachWindow(input: Tensor, output: Tensor, _ body: (Int, Window) -> Void) {
        let (height, width) = (input.shape[2], input.shape[3]), (rows, columns) = (output.shape[2], output.shape[3])
        let columnStep = input.strides.position, rowStep = width * columnStep
        for n in 0..<input.batchSize {
            for c in 0..<input.channels {
                let base = input.memoryIndex(batch: n, channel: c, position: 0)
                for oh in 0..<rows {
                    let top = oh * stride - padding, bottom = min(top + kernelSize, height + padding)
                    for ow in 0..<columns {
                        let left = ow * stride - padding, right = min(left + kernelSize, width + padding)
                        let window = Window(
                            base: base, rowStep: rowStep, columnStep: columnStep,
                            rows: max(top, 0)..<min(bottom, height), columns: max(left, 0)..<min(right, width),
                            paddedArea: (bottom - top) * (right - left))
                        body(output.memoryIndex(batch: n, channel: c, position: oh * columns + ow), window)
                    }
                }
            }
        }
    }
}
