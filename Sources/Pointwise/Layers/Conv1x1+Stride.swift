// Stride > 1 is a subsampling of the input followed by a stride-1 convolution: the fast and
// reference paths both run on the sampled grid, and backward scatters the sampled gradient back.

extension Conv1x1 {
    /// For each output position (linear, row-major), the linear input position it reads.
    func sampledPositions(inputSpatial: [Int]) -> [Int] {
        var positions = [0]
        var inputStride = 1
        for size in inputSpatial.reversed() {
            let sampled = size == 0 ? 0 : (size - 1) / stride + 1
            let inner = positions
            positions = []
            positions.reserveCapacity(sampled * inner.count)
            for o in 0..<sampled {
                for p in inner { positions.append(o * stride * inputStride + p) }
            }
            inputStride *= size
        }
        return positions
    }

    /// The input on the output grid: every `stride`-th position along each spatial axis.
    func subsampled(_ input: Tensor) throws(ConvolutionError) -> Tensor {
        guard stride > 1, !input.spatialShape.isEmpty else { return input }
        let positions = sampledPositions(inputSpatial: input.spatialShape)
        let shape = [input.batchSize, input.channels] + input.spatialShape.map { $0 == 0 ? 0 : ($0 - 1) / stride + 1 }
        var output: Tensor
        do { output = try Tensor(zeros: shape, layout: input.layout) } catch { throw .tensor(error) }
        let target = output.mutablePointer(), source = input.pointer
        forEachSampledRun(input: input, positions: positions) { from, to, count in
            (target + to).update(from: source + from, count: count)
        }
        return output
    }

    /// full[sampled positions] += sampled.
    func scatterAdd(_ sampled: Tensor, into full: inout Tensor) {
        let positions = sampledPositions(inputSpatial: full.spatialShape)
        let target = full.mutablePointer(), source = sampled.pointer
        forEachSampledRun(input: full, positions: positions) { from, to, count in
            for e in 0..<count { target[from + e] += source[to + e] }
        }
    }

    /// Calls `body(inputOffset, sampledOffset, count)` for each contiguous run of elements that
    /// moves between the full input grid and the sampled grid.
    private func forEachSampledRun(input: Tensor, positions: [Int], _ body: (Int, Int, Int) -> Void) {
        let images = input.batchSize, channels = input.channels
        let inputPixels = input.pixelsPerImage, sampledPixels = positions.count
        switch input.layout {
        case .channelsFirst:
            for plane in 0..<images * channels {
                for (o, p) in positions.enumerated() {
                    body(plane * inputPixels + p, plane * sampledPixels + o, 1)
                }
            }
        case .channelsLast:
            for n in 0..<images {
                for (o, p) in positions.enumerated() {
                    body((n * inputPixels + p) * channels, (n * sampledPixels + o) * channels, channels)
                }
            }
        }
    }
}
