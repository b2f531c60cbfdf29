/// The timing of one training step of a 1×1 per-pixel model.
public struct TrainingBenchmarkResult: Sendable, Codable {
    /// The shape: a batch `[n, cin, h, w]` trained through one `cin → cout` convolution.
    public var shape: BenchmarkShape
    /// Median milliseconds of a step: forward, MSE loss, backward (dX, dW, db), SGD update.
    public var milliseconds: Double
    /// The step's GEMM flops (3× the forward's: Y, dX and dW) per second, in billions.
    public var gflops: Double
    /// `gflops` over the machine's FMA peak.
    public var peakFraction: Double
}

extension Benchmark {
    /// Times training steps of `PixelNetwork(widths: [cin, cout])` on the batch's pixels as rows
    /// `[n·h·w, cin]` (one GEMM per pass): forward, mean squared error against a random target,
    /// backward with dX, dW and db, and an SGD step (with momentum).
    public static func runTraining(
        _ shape: BenchmarkShape, threads: Int, machine: MachineProfile
    ) throws -> TrainingBenchmarkResult {
        var random = SplitMix64(seed: 1)
        let rows = shape.n * shape.h * shape.w
        let x = try randomTensor([rows, shape.cin], layout: .channelsLast, using: &random)
        let target = try randomTensor([rows, shape.cout], layout: .channelsLast, using: &random)
        let net = try PixelNetwork(widths: [shape.cin, shape.cout], seed: 1)
        var sgd = try SGD(learningRate: 1e-4, momentum: 0.9)
        let options = ExecutionOptions(threads: threads)
        let milliseconds = medianMilliseconds(minimumRuns: 10, minimumSeconds: 1) {
            let (y, trace) = try! net.trainingForward(x, options: options)
            let loss = try! Loss.meanSquaredError(prediction: y, target: target)
            net.zeroGradients()
            try! net.backward(trace, outputGradient: loss.gradient, options: options)
            try! net.step(&sgd)
        }
        let gflops = 3 * shape.flops / milliseconds / 1e6
        return TrainingBenchmarkResult(shape: shape, milliseconds: milliseconds, gflops: gflops,
                                       peakFraction: gflops / machine.fmaPeakGflops)
    }
}
