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
    /// Median milliseconds of each layer, in execution order, from the instrumented runs.
    public var layers: [LayerTiming]

    /// One layer's median time.
    public struct LayerTiming: Sendable, Codable {
        /// The layer.
        public var name: String
        /// Its kind (`stem`, `1x1`, `depthwise`, `head`).
        public var kind: String
        /// Median milliseconds.
        public var milliseconds: Double

        enum CodingKeys: String, CodingKey {
            case name, kind
            case milliseconds = "ms"
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, threads, runs
        case medianMilliseconds = "median_ms"
        case minimumMilliseconds = "min_ms"
        case breakdownMilliseconds = "breakdown_ms"
        case layers
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
        var noTimings: [EfficientNetLite.LayerTime]? = nil
        for _ in 0..<warmUp { _ = try model.logits(input, options: options, workspace: &workspace, timings: &noTimings) }
        var times: [Double] = []
        let start = EfficientNetLite.now()
        while times.count < runs || EfficientNetLite.now() - start < 1000 {
            let begin = EfficientNetLite.now()
            _ = try model.logits(input, options: options, workspace: &workspace, timings: &noTimings)
            times.append(EfficientNetLite.now() - begin)
        }
        var breakdowns: [EfficientNetLite.LayerKind: [Double]] = [:]
        var layerTimes: [[Double]] = []
        var layerNames: [EfficientNetLite.LayerTime] = []
        for _ in 0..<times.count {
            var timings: [EfficientNetLite.LayerTime]? = []
            _ = try model.logits(input, options: options, workspace: &workspace, timings: &timings)
            let pass = timings ?? []
            var kinds: [EfficientNetLite.LayerKind: Double] = [:]
            for layer in pass { kinds[layer.kind, default: 0] += layer.milliseconds }
            for (kind, ms) in kinds { breakdowns[kind, default: []].append(ms) }
            if layerTimes.isEmpty { (layerTimes, layerNames) = (Array(repeating: [], count: pass.count), pass) }
            for (index, layer) in pass.enumerated() { layerTimes[index].append(layer.milliseconds) }
        }
        return ModelTiming(
            model: name, threads: threads, runs: times.count, medianMilliseconds: median(times),
            minimumMilliseconds: times.min() ?? 0,
            breakdownMilliseconds: Dictionary(uniqueKeysWithValues: breakdowns.map { ($0.key.rawValue, median($0.value)) }),
            layers: zip(layerNames, layerTimes).map {
                ModelTiming.LayerTiming(name: $0.name, kind: $0.kind.rawValue, milliseconds: median($1))
            })
    }

    /// The middle value (the mean of the two middle values for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
