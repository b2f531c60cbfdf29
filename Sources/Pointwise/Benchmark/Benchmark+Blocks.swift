/// One stage of a block timed on its own: what it is, which kind of work, and its median time.
public struct BlockStageTiming: Sendable, Codable {
    /// The stage, e.g. `expand 1×1 24→144`.
    public var name: String
    /// `pointwise`, `depthwise` or `elementwise` (batch norm, activation, residual add).
    public var kind: String
    /// Median milliseconds of the stage alone, on the output of the stage before it.
    public var milliseconds: Double
}

extension Benchmark {
    /// The per-layer time of a MobileNetV2 inverted residual block (24 → 144 → 24 channels,
    /// t = 6, 3×3 depthwise, stride 1, on a [1, 24, 56, 56] input), each stage timed on its own on
    /// the previous stage's output, in the order the block runs them, plus the whole block.
    /// The stages are the block's own layers, unfused (batch norm not folded), as `InvertedResidual`
    /// runs them.
    public static func invertedResidualBreakdown(threads: Int) throws -> (stages: [BlockStageTiming], block: Double) {
        let block = try InvertedResidual(inputChannels: 24, outputChannels: 24, expansion: 6, seed: 3)
        var random = SplitMix64(seed: 4)
        let x = try randomTensor([1, 24, 56, 56], using: &random)
        let options = ExecutionOptions(threads: threads)
        var stages: [BlockStageTiming] = []
        func time(_ name: String, _ kind: String, _ body: () throws -> Tensor) throws -> Tensor {
            let output = try body()
            let ms = medianMilliseconds(minimumRuns: 20, minimumSeconds: 0.2) { _ = try? body() }
            stages.append(BlockStageTiming(name: name, kind: kind, milliseconds: ms))
            return output
        }
        var h = x
        if let expandConv = block.expandConv, let expandNorm = block.expandNorm {
            h = try time("expand 1×1 24→144", "pointwise") { try expandConv(h, options: options) }
            h = try time("batch norm", "elementwise") { try expandNorm(h) }
            h = try time("\(block.activation)", "elementwise") { block.activation(h) }
        }
        h = try time("depthwise 3×3 144", "depthwise") { try block.depthwise(h, options: options) }
        h = try time("batch norm", "elementwise") { try block.depthwiseNorm(h) }
        h = try time("\(block.activation)", "elementwise") { block.activation(h) }
        h = try time("project 1×1 144→24", "pointwise") { try block.project(h, options: options) }
        h = try time("batch norm", "elementwise") { try block.projectNorm(h) }
        _ = try time("residual add", "elementwise") {
            var sum = h
            sum.add(x)
            return sum
        }
        let whole = medianMilliseconds(minimumRuns: 20, minimumSeconds: 0.2) { _ = try? block(x, options: options) }
        return (stages, whole)
    }
}
