/// The time of one 1×1 layer on data full of subnormal floats, against ordinary data.
public struct SubnormalTiming: Sendable, Codable {
    /// What was subnormal: "none", "weights", "inputs" or "products" (ordinary inputs and weights
    /// whose products and sums fall below 2⁻¹²⁶).
    public let data: String
    /// Median milliseconds.
    public let milliseconds: Double
    /// `milliseconds` over the ordinary data's.
    public let slowdown: Double
}

extension Benchmark {
    /// Times `shape` (channels-first, fast path) on ordinary values, subnormal weights, subnormal
    /// inputs and values whose products are subnormal, as PyTorch users met them (weights decayed
    /// towards zero, activations of a vanishing signal).
    public static func subnormalSlowdowns(_ shape: BenchmarkShape, threads: Int) throws -> [SubnormalTiming] {
        var random = SplitMix64(seed: 7)
        let x = try randomTensor([shape.n, shape.cin, shape.h, shape.w], using: &random)
        let w = try randomTensor([shape.cout, shape.cin], using: &random)
        let tiny = Float.leastNormalMagnitude / 16, small: Float = 1e-20  // tiny is subnormal; small² too
        let cases: [(String, Tensor, Tensor)] = [
            ("none", x, w), ("weights", x, w.scaled(by: tiny)), ("inputs", x.scaled(by: tiny), w),
            ("products", x.scaled(by: small), w.scaled(by: small)),
        ]
        let options = ExecutionOptions(threads: threads)
        let convolutions = try cases.map { try Conv1x1(weight: $0.2) }
        var output = Tensor.empty
        // Rounds that take the cases in turn, so a busy moment of the machine hits all of them;
        // each case keeps its best round.
        var best = [Double](repeating: .infinity, count: cases.count)
        for _ in 0..<5 {
            for (index, (_, input, _)) in cases.enumerated() {
                let ms = medianMilliseconds(minimumRuns: 5, minimumSeconds: 0.1) {
                    try! convolutions[index].forward(input, into: &output, options: options)  // shapes fixed above
                }
                best[index] = min(best[index], ms)
            }
        }
        let timings = cases.indices.map { index in
            SubnormalTiming(data: cases[index].0, milliseconds: best[index], slowdown: best[index] / best[0])
        }
        return timings
    }
}

private extension Tensor {
    /// Every element multiplied by `factor`.
    func scaled(by factor: Float) -> Tensor {
        try! Tensor(shape: shape, layout: layout, values: scalars.map { $0 * factor })  // same shape
    }
}
