import Foundation

/// One convolution shape of the benchmark suite: `[n, cin, h, w]` → `cout` channels, 1×1.
public struct BenchmarkShape: Sendable, Codable, Equatable {
    public var name: String
    public var n: Int
    public var cin: Int
    public var cout: Int
    public var h: Int
    public var w: Int

    /// A shape; `name` labels it in tables.
    public init(name: String, n: Int, cin: Int, cout: Int, h: Int, w: Int) {
        (self.name, self.n, self.cin, self.cout, self.h, self.w) = (name, n, cin, cout, h, w)
    }

    /// The most elements each of the input, output and weight may have (2³⁰, 4 GiB of Float32):
    /// the benchmark allocates them, and the reference loops time them.
    public static let maximumElements = 1 << 30

    /// Multiply-adds × 2 (in floating point, so that any shape has a value).
    public var flops: Double { 2 * Double(n) * Double(cin) * Double(cout) * Double(h) * Double(w) }
    /// Bytes the convolution must move at least: input, output and weights, once each.
    public var bytes: Double {
        4 * (Double(n) * Double(h) * Double(w) * (Double(cin) + Double(cout)) + Double(cin) * Double(cout) + Double(cout))
    }
    /// Memory-bound by the definition: Cin or Cout ≤ 16.
    public var isMemoryBound: Bool { cin <= 16 || cout <= 16 }
    /// Compute-bound by the definition: Cin, Cout ≥ 64 and H·W ≥ 49.
    public var isComputeBound: Bool { cin >= 64 && cout >= 64 && Double(h) * Double(w) >= 49 }

    /// Throws unless every dimension is ≥ 1 and the input `[n, cin, h, w]`, the output
    /// `[n, cout, h, w]` and the weight `[cout, cin]` each have at most `maximumElements` elements.
    /// - Throws: `BenchmarkError.invalidShape` or `.tooLarge`, naming the shape.
    public func validate() throws(BenchmarkError) {
        guard [n, cin, cout, h, w].allSatisfy({ $0 >= 1 }) else { throw .invalidShape(name) }
        for tensor in [[n, cin, h, w], [n, cout, h, w], [cout, cin]] {
            guard let count = Tensor.nonZeroProduct(of: tensor), count <= Self.maximumElements else {
                throw .tooLarge(name)
            }
        }
    }
}

/// A benchmark suite file: `{"about": "…", "shapes": [{"name", "n", "cin", "cout", "h", "w"}, …]}`.
public struct BenchmarkSuite: Sendable, Codable {
    public var about: String?
    public var shapes: [BenchmarkShape]

    /// Parses a suite, checking every shape (`BenchmarkShape.validate()`).
    /// - Throws: `DecodingError` for malformed JSON, `BenchmarkError` for impossible shapes.
    public init(json: Data) throws {
        self = try JSONDecoder().decode(BenchmarkSuite.self, from: json)
        for shape in shapes { try shape.validate() }
    }

    /// A suite of the given shapes.
    public init(about: String? = nil, shapes: [BenchmarkShape]) {
        self.about = about
        self.shapes = shapes
    }
}

/// A benchmark could not run as asked.
public enum BenchmarkError: Error, CustomStringConvertible, Equatable {
    /// A suite shape has a dimension below 1.
    case invalidShape(String)
    /// A suite shape's input, output or weight has more than `BenchmarkShape.maximumElements` elements.
    case tooLarge(String)

    /// What was wrong.
    public var description: String {
        switch self {
        case .invalidShape(let name): "shape '\(name)' has a dimension below 1"
        case .tooLarge(let name):
            "shape '\(name)' is too large: its input, output and weight may have at most "
                + "\(BenchmarkShape.maximumElements) elements each"
        }
    }
}

/// The timing of one shape: reference and fast path, and the fast path against the ceilings.
public struct BenchmarkResult: Sendable, Codable {
    public var name: String
    public var n: Int, cin: Int, cout: Int, h: Int, w: Int
    /// Median milliseconds of the reference loops (nil when skipped).
    public var referenceMilliseconds: Double?
    /// Median milliseconds of the fast path.
    public var fastMilliseconds: Double
    /// The fast path's GFLOP/s.
    public var fastGflops: Double
    /// fastGflops / the measured FMA peak.
    public var peakFraction: Double
    /// Bytes moved per second / the measured copy bandwidth, for memory-bound shapes.
    public var bandwidthFraction: Double?
    /// The roofline's least time (`MachineProfile.rooflineMilliseconds`) / the fast path's time.
    public var rooflineFraction: Double
    /// Median milliseconds of the backward GEMM for dX (nil unless the backward pass was timed).
    public var backwardInputMilliseconds: Double?
    /// Its GFLOP/s over the measured FMA peak.
    public var backwardInputPeakFraction: Double?
    /// Median milliseconds of the backward GEMM for dW (nil unless the backward pass was timed).
    public var backwardWeightMilliseconds: Double?
    /// Its GFLOP/s over the measured FMA peak.
    public var backwardWeightPeakFraction: Double?

    enum CodingKeys: String, CodingKey {
        case name, n, cin, cout, h, w
        case referenceMilliseconds = "reference_ms", fastMilliseconds = "fast_ms", fastGflops = "fast_gflops"
        case peakFraction = "peak_fraction", bandwidthFraction = "bandwidth_fraction", rooflineFraction = "roofline_fraction"
        case backwardInputMilliseconds = "backward_input_ms", backwardInputPeakFraction = "backward_input_peak_fraction"
        case backwardWeightMilliseconds = "backward_weight_ms"
        case backwardWeightPeakFraction = "backward_weight_peak_fraction"
    }

    /// Reference time over fast time.
    public var speedup: Double? { referenceMilliseconds.map { $0 / fastMilliseconds } }
}

/// Times 1×1 convolutions: `pointwise bench` and the tests of the benchmark itself use it.
public enum Benchmark {
    /// The median of `body`'s wall time in milliseconds, after one warm-up, over at least
    /// `minimumRuns` runs and at least `minimumSeconds` of running.
    public static func medianMilliseconds(minimumRuns: Int, minimumSeconds: Double, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        var total = 0.0
        while times.count < minimumRuns || total < minimumSeconds {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            times.append(seconds * 1000)
            total += seconds
            if times.count >= 1000 { break }
        }
        times.sort()
        return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    }

    /// A tensor of `shape` (logical, `[N, C, *spatial]`) in `layout`, its values uniform in [-1, 1]
    /// drawn in channels-first order.
    static func randomTensor(_ shape: [Int], layout: Layout = .channelsFirst, using random: inout SplitMix64) throws -> Tensor {
        let values = (0..<(try Tensor.validatedCount(of: shape))).map { _ in random.nextFloat(in: -1...1) }
        return try Tensor(shape: shape, values: values).converted(to: layout)
    }

    /// Times `shape` (in `layout`, with bias) on the fast path and, unless `skipReference`, the
    /// reference loops; with `backward`, also the two GEMMs of the backward pass (dX and dW, each
    /// as many flops as the forward pass).
    public static func run(
        _ shape: BenchmarkShape, threads: Int, machine: MachineProfile, skipReference: Bool = false,
        backward: Bool = false, layout: Layout = .channelsFirst
    ) throws -> BenchmarkResult {
        var random = SplitMix64(seed: 1)
        let conv = try Conv1x1(inputChannels: shape.cin, outputChannels: shape.cout, seed: 1)
        let x = try randomTensor([shape.n, shape.cin, shape.h, shape.w], layout: layout, using: &random)
        let fastOptions = ExecutionOptions(threads: threads)
        // The output is allocated once and reused, as a network's buffers are (and as ONNX Runtime
        // is timed by scripts/compare_peers.py, with a bound output).
        var y = try conv(x, options: fastOptions)
        let fast = medianMilliseconds(minimumRuns: 10, minimumSeconds: 0.5) { try! conv.forward(x, into: &y, options: fastOptions) }
        var reference: Double? = nil
        if !skipReference {
            let options = ExecutionOptions(algorithm: .reference)
            reference = medianMilliseconds(minimumRuns: 3, minimumSeconds: 0) { try! conv.forward(x, into: &y, options: options) }
        }
        let gflops = shape.flops / fast / 1e6
        var result = BenchmarkResult(
            name: shape.name, n: shape.n, cin: shape.cin, cout: shape.cout, h: shape.h, w: shape.w,
            referenceMilliseconds: reference, fastMilliseconds: fast, fastGflops: gflops,
            peakFraction: gflops / machine.fmaPeakGflops,
            bandwidthFraction: shape.isMemoryBound ? shape.bytes / fast / 1e6 / machine.copyGbps : nil,
            rooflineFraction: machine.rooflineMilliseconds(flops: shape.flops, bytes: shape.bytes) / fast)
        if backward {
            let (input, weight) = try timeBackward(conv, input: x, outputShape: y.shape, threads: threads, random: &random)
            result.backwardInputMilliseconds = input
            result.backwardInputPeakFraction = shape.flops / input / 1e6 / machine.fmaPeakGflops
            result.backwardWeightMilliseconds = weight
            result.backwardWeightPeakFraction = shape.flops / weight / 1e6 / machine.fmaPeakGflops
        }
        return result
    }

    /// Median milliseconds of the dX and the dW GEMMs of `conv`'s backward pass, each adding into
    /// a buffer reused across runs, as a training step's gradient accumulation does.
    private static func timeBackward(
        _ conv: Conv1x1, input x: Tensor, outputShape: [Int], threads: Int, random: inout SplitMix64
    ) throws -> (input: Double, weight: Double) {
        let dz = try randomTensor(outputShape, layout: x.layout, using: &random)
        var dx = Tensor.zeros(like: x)
        var dw = try Tensor(zeros: conv.weight.shape)
        let problems = conv.backwardProblems(x, preActivationGradient: dz, inputGradient: dx.mutablePointer(),
                                             weightGradient: dw.mutablePointer())
        let kernels = KernelConfig.best
        return withExtendedLifetime((dx, dw, dz, x)) {
            (medianMilliseconds(minimumRuns: 10, minimumSeconds: 0.5) {
                Gemm.run(problems.input, threads: threads, kernels: kernels, disjointOutputs: true)
            },
             medianMilliseconds(minimumRuns: 10, minimumSeconds: 0.5) {
                Gemm.run(problems.weight, threads: threads, kernels: kernels)
            })
        }
    }
}
