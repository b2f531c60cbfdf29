extension Benchmark {
    /// The median time of running an alternative's convolutions one after another on random
    /// data (random weights, batch 1, channels-first, the fast path).
    /// - Returns: milliseconds.
    /// - Throws: `LayerError` when a spec cannot be built.
    public static func measure(_ alternative: CostComparison.Alternative, threads: Int) throws -> Double {
        var random = SplitMix64(seed: 9)
        let options = ExecutionOptions(threads: threads)
        let first = alternative.layers[0]
        let input = try randomTensor([1, first.inputChannels, first.height, first.width], using: &random)
        var layers: [(Tensor) throws -> Tensor] = []
        for spec in alternative.layers {
            if spec.kernel == 1 && spec.groups == 1 && spec.stride == 1 {
                let conv = try Conv1x1(inputChannels: spec.inputChannels, outputChannels: spec.outputChannels, bias: false)
                layers.append { try conv($0, options: options) }
            } else {
                let conv = try Conv2d(inputChannels: spec.inputChannels, outputChannels: spec.outputChannels,
                                      kernelSize: spec.kernel, stride: spec.stride, padding: .same, groups: spec.groups,
                                      bias: false)
                layers.append { try conv($0, options: options) }
            }
        }
        func run() throws -> Tensor { try layers.reduce(input) { try $1($0) } }
        _ = try run()
        return medianMilliseconds(minimumRuns: 10, minimumSeconds: 0.2) { _ = try? run() }
    }
}
