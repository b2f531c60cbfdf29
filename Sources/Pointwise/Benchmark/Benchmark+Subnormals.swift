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
        var timings: [SubnormalTiming] = []
        for (data, input, weight) in cases {
            let conv = try Conv1x1(weight: weight)
            var output = Tensor.empty
            let ms = medianMilliseconds(minimumRuns: 10, minimumSeconds: 0.5) {
                try! conv.forward(input, into: &output, options: options)  // shapes fixed above
            }
            timings.append(SubnormalTiming(data: data, milliseconds: ms, slowdown: ms / (timings.first?.milliseconds ?? ms)))
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
