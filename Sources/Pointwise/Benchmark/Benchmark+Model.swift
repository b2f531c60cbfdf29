/// The latency of a whole model: the median over repeated batch-1 runs, and where the time goes.
public struct ModelTiming: Sendable, Codable {
    /// The model's name, e.g. `efficientnet-lite0`.
    public var model: String
    /// Worker threads.
    public var threads: Int
    /// Timed runs (after warm-up).
    public var runs: Int
    /// Median milliseconds of one forward pass.
    public var medianMilliseconds: Double
    /// The fastest run's milliseconds.
    public var minimumMilliseconds: Double
    /// Median milliseconds per layer kind (`stem`, `1x1`, `depthwise`, `head`), taken in separate
    /// instrumented runs; they add up to about the median.
    public var breakdownMilliseconds: [String: Double]

    enum CodingKeys: String, CodingKey {
        case model, threads, runs
        case medianMilliseconds = "median_ms"
        case minimumMilliseconds = "min_ms"
        case breakdownMilliseconds = "breakdown_ms"
    }
}

extension Benchmark {
    /// Times `model` on `input`: `warmUp` untimed runs, then at least `runs` timed runs (and at
    /// least one second of them), then as many instrumented runs for the per-kind breakdown.
    /// - Parameters:
    ///   - name: the model's name for the report.
    ///   - input: a preprocessed batch, e.g. `[1, 3, 224, 224]`.
    ///   - threads: worker threads.
    /// - Throws: `LayerError` when the input does not fit the model.
    public static func time(
        _ model: EfficientNetLite, name: String, input: Tensor, threads: Int, runs: Int = 30, warmUp: Int = 5
    ) throws(LayerError) -> ModelTiming {
        let options = ExecutionOptions(threads: threads)
        var workspace = EfficientNetLite.Workspace()
        var noTimings: [EfficientNetLite.LayerKind: Double]? = nil
        for _ in 0..<warmUp { _ = try model.logits(input, options: options, workspace: &workspace, timings: &noTimings) }
        var times: [Double] = []
        let start = EfficientNetLite.now()
        while times.count < runs || EfficientNetLite.now() - start < 1000 {
            let begin = EfficientNetLite.now()
            _ = try model.logits(input, options: options, workspace: &workspace, timings: &noTimings)
            times.append(EfficientNetLite.now() - begin)
        }
        var breakdowns: [EfficientNetLite.LayerKind: [Double]] = [:]
        for _ in 0..<times.count {
            var timings: [EfficientNetLite.LayerKind: Double]? = [:]
            _ = try model.logits(input, options: options, workspace: &workspace, timings: &timings)
            for (kind, ms) in timings ?? [:] { breakdowns[kind, default: []].append(ms) }
        }
        return ModelTiming(
            model: name, threads: threads, runs: times.count, medianMilliseconds: median(times),
            minimumMilliseconds: times.min() ?? 0,
            breakdownMilliseconds: Dictionary(uniqueKeysWithValues: breakdowns.map { ($0.key.rawValue, median($0.value)) }))
    }

    /// The middle value (the mean of the two middle values for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
