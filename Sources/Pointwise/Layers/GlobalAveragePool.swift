/// The mean of each channel over all spatial positions, keeping the spatial axes as ones: PyTorch's
/// `nn.AdaptiveAvgPool2d(1)` on `[N, C, H, W]` (and its 1-D and 3-D versions), the pooling before
/// a classifier.
public struct GlobalAveragePool: ParameterFreeLayer {
    /// The layer (it has no settings).
    public init() {}

    /// Averages each channel of each image.
    /// - Parameter input: `[N, C, *spatial]` with 1 to 3 spatial dimensions, none of size 0.
    /// - Returns: `[N, C, 1, …]` (as many ones as spatial dimensions), in the input's layout.
    /// - Throws: `LayerError.shape` when there are no spatial positions.
    public func callAsFunction(_ input: Tensor) throws(LayerError) -> Tensor {
        // x: [N, C, *S]  →  y: [N, C, 1, …]
        var output = try Tensor.zeros(like: input, shape: try outputShape(forInput: input.shape))
        let x = input.pointer, y = output.mutablePointer(), pixels = input.pixelsPerImage, channels = input.channels
        // Each channel's positions are summed in order in Double, whichever loop is outside: the
        // one that walks memory contiguously (positions inside channels-first, channels inside
        // channels-last), so both layouts give the same bits.
        var sums = [Double](repeating: 0, count: channels)
        for n in 0..<input.batchSize {
            if input.layout == .channelsLast {
                for c in 0..<channels { sums[c] = 0 }
                for s in 0..<pixels {
                    let row = x + input.memoryIndex(batch: n, channel: 0, position: s)
                    for c in 0..<channels { sums[c] += Double(row[c]) }
                }
            } else {
                for c in 0..<channels {
                    let plane = x + input.memoryIndex(batch: n, channel: c, position: 0)
                    var sum = 0.0
                    for s in 0..<pixels { sum += Double(plane[s]) }
                    sums[c] = sum
                }
            }
            for c in 0..<channels { y[output.memoryIndex(batch: n, channel: c, position: 0)] = Float(sums[c] / Double(pixels)) }
        }
        return output
    }

    private func outputShape(forInput shape: [Int]) throws(LayerError) -> [Int] {
        guard shape.count >= 3, shape.dropFirst(2).allSatisfy({ $0 >= 1 }) else {
            throw .shape(role: "input", expected: "[N, C, *spatial] with 1 to 3 spatial dimensions, each ≥ 1",
                         actual: shape)
        }
        return Array(shape[0..<2]) + Array(repeating: 1, count: shape.count - 2)
    }

    // MARK: - Backward

    /// Adds dL/dy / (positions per image) to every position of its channel.
    /// - Parameters:
    ///   - input: the forward input `[N, C, *spatial]`.
    ///   - outputGradient: dL/dy, `[N, C, 1, …]`.
    ///   - inputGradient: dL/dx, in the input's shape and layout.
    /// - Throws: `LayerError.shape` when a shape does not fit.
    public func accumulateInputGradient(
        input: Tensor, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // x: [N, C, *S]  dy: [N, C, 1, …]  →  dx += dy / |S|
        let dy = try checkedOutputGradient(
            outputGradient, outputShape: try outputShape(forInput: input.shape), input: input,
            inputGradient: inputGradient)
        let dx = inputGradient.mutablePointer(), pixels = input.pixelsPerImage
        for n in 0..<input.batchSize {
            for c in 0..<input.channels {
                let share = dy[batch: n, channel: c, position: 0] / Float(pixels)
                for s in 0..<pixels { dx[input.memoryIndex(batch: n, channel: c, position: s)] += share }
            }
        }
    }
}
