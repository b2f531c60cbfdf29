import ArgumentParser
import Foundation
import Pointwise

/// `pointwise bench`: times the suite of real layer shapes and compares with the machine's ceilings.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark 1×1 convolutions against this machine's FMA peak and copy bandwidth.",
        discussion: """
            Runs each shape (channels-first, batch and bias as given) on the reference loops and the \
            fast path, and reports median ms, GFLOP/s, the speed-up, % of the FMA peak and, for \
            memory-bound shapes (Cin or Cout ≤ 16), % of the copy bandwidth, and % of the roofline \
            (the longer of the FLOPs at the peak and the bytes at the bandwidth, over the time). The \
            peak and bandwidth are measured by the tool at the same thread count. The default suite \
            holds real layer shapes (ResNet-50, MobileNetV2, FPN, multispectral fusion, grayscale). \
            --model, --subnormal, --depthwise, --train and --block each run another benchmark instead, \
            one at a time; an option that the chosen benchmark does not use is refused.
            """)

    @Option(parsing: .unconditional, help: "Worker threads (default: every CPU).")
    var threads: Int?

    @Option(help: ArgumentHelp("A suite JSON file (default: the built-in suite).", valueName: "file"))
    var suite: String?

    @Option(name: .customLong("shape"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An extra shape N,CIN,COUT,H,W (repeatable); with --shape and no --suite only these run.",
                               valueName: "n,cin,cout,h,w"))
    var shapes: [String] = []

    @Option(help: ArgumentHelp("Also write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Flag(help: "Skip the (slow) reference loops.")
    var skipReference = false

    @Flag(help: "Also time the backward pass: the dX and dW GEMMs, each against the FMA peak.")
    var backward = false

    @Flag(help: "Time MobileNet's depthwise layers and the MobileNetV2 stem instead of the 1×1 suite.")
    var depthwise = false

    @Flag(help: "Instead of the suite, time training steps of a per-pixel 256→256 model on a [32, 256, 14, 14] batch (forward, backward with dX, dW, db, SGD step).")
    var train = false

    @Flag(help: "Instead of the suite, time each layer of a MobileNetV2 inverted residual block (24→144→24, 56×56) on its own.")
    var block = false

    @Flag(help: "Instead of the suite, time each shape (default: 1,256,256,56,56) with subnormal weights, inputs and products against ordinary data.")
    var subnormal = false

    @Option(name: .customLong("layout"), help: "Memory layout of the input and output: nchw (default) or nhwc.")
    var layoutOption: Layout?

    /// The layout the suite and --depthwise run in.
    var layout: Layout { layoutOption ?? .channelsFirst }

    @Option(help: "Instead of the suite, time a whole pretrained model at batch 1: efficientnet-lite0.")
    var model: String?

    @Option(help: ArgumentHelp("The model's weights (default: the stored file from `pointwise models fetch`).",
                               valueName: "FILE"))
    var weights: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --model: run blocks whose output has fewer positions than this channels-last (0: all channels-first; default: every layer channels-last).",
                               valueName: "positions"))
    var channelsLastBelow: Int?

    @Flag(help: "With --model: also print each layer's median time.")
    var layers = false

    @Option(help: ArgumentHelp("The model's input, a preprocessed [1, 3, H, W] .npy (default: a fixed pseudo-random 224×224 picture).",
                               valueName: "X.npy"))
    var input: String?

    func validate() throws {
        let modes = [("--model", model != nil), ("--subnormal", subnormal), ("--depthwise", depthwise), ("--train", train),
                     ("--block", block)].filter(\.1).map(\.0)
        guard modes.count <= 1 else {
            throw CLIError(modes.joined(separator: ", "), "choose one: each runs a benchmark of its own instead of the suite")
        }
        let mode = modes.first ?? "the suite"
        // Each option and the benchmarks that use it (--threads: all of them).
        let uses: [(option: String, given: Bool, modes: [String])] = [
            ("--shape", !shapes.isEmpty, ["the suite", "--subnormal"]), ("--suite", suite != nil, ["the suite", "--subnormal"]),
            ("--json", json != nil, ["the suite", "--train", "--model"]), ("--skip-reference", skipReference, ["the suite"]),
            ("--backward", backward, ["the suite"]), ("--layout", layoutOption != nil, ["the suite", "--depthwise"]),
            ("--weights", weights != nil, ["--model"]), ("--channels-last-below", channelsLastBelow != nil, ["--model"]),
            ("--layers", layers, ["--model"]), ("--input", input != nil, ["--model"]),
        ]
        if let stray = uses.first(where: { $0.given && !$0.modes.contains(mode) }) {
            throw CLIError(modes.isEmpty ? stray.option : "\(stray.option), \(mode)",
                           "\(stray.option) does not apply to \(mode); it is for \(stray.modes.joined(separator: " and "))")
        }
    }

    func run() throws {
        let threads = try threadCount(self.threads)
        try checkFiles(inputs: [("--suite", suite), ("--weights", weights), ("--input", input)], outputs: [("--json", json)])
        if let model { return try runModel(model, threads: threads) }
        if subnormal { return try runSubnormals(threads: threads) }
        let suite = try loadSuite()
        printError("measuring this machine's FMA peak and copy bandwidth on \(threads) thread(s)…")
        let machine = try MachineProfile.measure(threads: threads)
        print(String(format: "machine: FMA peak %.1f GFLOP/s, copy bandwidth %.1f GB/s, %d thread(s), kernels %@, layout %@",
                     machine.fmaPeakGflops, machine.copyGbps, threads, KernelConfig.best.name, layout.description))
        if depthwise { return try runConvolutions(threads: threads, machine: machine) }
        if train { return try runTraining(threads: threads, machine: machine) }
        if block { return try runBlockBreakdown(threads: threads) }
        print(Bench.header(backward: backward))
        var results: [BenchmarkResult] = []
        for (index, shape) in suite.shapes.enumerated() {
            printError("[\(index + 1)/\(suite.shapes.count)] \(shape.name)")
            let result = try Benchmark.run(shape, threads: threads, machine: machine, skipReference: skipReference,
                                       backward: backward, layout: layout)
            results.append(result)
            print(Bench.row(result, shape: shape))
        }
        print(Bench.rooflineLegend)
        if let json {
            let report = BenchmarkReport(machine: machine, results: results)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(report), to: json, argument: "--json")
            printError("wrote \(json)")
        }
    }

    /// The `--depthwise` table: each MobileNet layer's time, bytes per second, share of the copy
    /// bandwidth, GFLOP/s and share of the roofline.
    private func runConvolutions(threads: Int, machine: MachineProfile) throws {
        print("layer (\(layout))                 fast ms     GB/s  % copy bw  GFLOP/s  % roofline")
        for shape in ConvolutionBenchmarkShape.mobileNet {
            let r = try Benchmark.runConvolution(shape, threads: threads, machine: machine, layout: layout)
            print(String(format: "%-26@ %9.3f %8.2f %9.0f%% %8.1f %10.0f%%", r.name.padding(toLength: 26, withPad: " ", startingAt: 0),
                         r.milliseconds, r.gigabytesPerSecond, r.bandwidthFraction * 100, r.gflops, r.rooflineFraction * 100))
        }
        print(Bench.rooflineLegend)
    }

    /// `--model`: the median batch-1 latency and the per-layer-kind breakdown.
    private func runModel(_ name: String, threads: Int) throws {
        guard KnownModel(rawValue: name) == .efficientnetLite0 else {
            throw CLIError("--model \(name)", "unknown; known models: efficientnet-lite0")
        }
        let x: Tensor
        if let input {
            x = try readInput(input, argument: "--input")
        } else {
            var random = SplitMix64(seed: 224)
            x = try Tensor(shape: [1, 3, 224, 224], values: (0..<3 * 224 * 224).map { _ in random.nextFloat(in: -1...1) })
        }
        var network = try loadModel(weights: weights)
        if let channelsLastBelow {
            guard channelsLastBelow >= 0 else { throw CLIError("--channels-last-below", "must be ≥ 0, got \(channelsLastBelow)") }
            network.channelsLastBelow = channelsLastBelow
        }
        printError("timing \(name) on \(x.shape), \(threads) thread(s): warm-up, then ≥ 30 runs and ≥ 1 s…")
        let timing: ModelTiming
        do { timing = try Benchmark.time(network, name: name, input: x, threads: threads) } catch {
            throw CLIError(input ?? "--model", error)
        }
        print(String(format: "%@ batch 1 %@, %d thread(s): median %.2f ms, best %.2f ms over %d runs",
                     name, x.shape.dropFirst(2).map(String.init).joined(separator: "×"), threads,
                     timing.medianMilliseconds, timing.minimumMilliseconds, timing.runs))
        let total = timing.breakdownMilliseconds.values.reduce(0, +)
        print("layer kind        ms   share")
        for kind in EfficientNetLite.LayerKind.allCases {
            let ms = timing.breakdownMilliseconds[kind.rawValue] ?? 0
            print(String(format: "%-12@ %7.2f %6.1f%%", kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0),
                         ms, 100 * ms / max(total, 1e-9)))
        }
        if layers {
            print("layer                                          ms")
            for layer in timing.layers {
                print(String(format: "%-42@ %7.3f", layer.name.padding(toLength: 42, withPad: " ", startingAt: 0),
                             layer.milliseconds))
            }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(timing), to: json, argument: "--json")
            printError("wrote \(json)")
        }
    }

    /// `--block`: each stage's median time and share of the stages' total, then the whole block.
    private func runBlockBreakdown(threads: Int) throws {
        let (stages, whole) = try Benchmark.invertedResidualBreakdown(threads: threads)
        let total = stages.reduce(0) { $0 + $1.milliseconds }
        print("MobileNetV2 inverted residual 24→144→24, t = 6, 3×3, [1, 24, 56, 56], channels-first")
        print("stage                     kind          ms   share")
        for stage in stages {
            print(String(format: "%-25@ %-11@ %7.3f %6.1f%%", stage.name.padding(toLength: 25, withPad: " ", startingAt: 0),
                         stage.kind.padding(toLength: 11, withPad: " ", startingAt: 0), stage.milliseconds,
                         100 * stage.milliseconds / total))
        }
        for kind in ["pointwise", "depthwise", "elementwise"] {
            let ms = stages.filter { $0.kind == kind }.reduce(0) { $0 + $1.milliseconds }
            print(String(format: "all %-21@ %19.3f %6.1f%%", kind.padding(toLength: 21, withPad: " ", startingAt: 0), ms,
                         100 * ms / total))
        }
        print(String(format: "whole block (as InvertedResidual runs it)  %9.3f", whole))
    }

    /// `--train`: one line with the step time, GFLOP/s (3× the forward flops) and % of the FMA peak.
    private func runTraining(threads: Int, machine: MachineProfile) throws {
        let shape = BenchmarkShape(name: "train-b32-256to256-14x14", n: 32, cin: 256, cout: 256, h: 14, w: 14)
        let result = try Benchmark.runTraining(shape, threads: threads, machine: machine)
        print(String(format: "%@: %.2f ms per step (forward + backward dX, dW, db + SGD), %.1f GFLOP/s, %.0f%% of the FMA peak",
                     shape.name, result.milliseconds, result.gflops, result.peakFraction * 100))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(result), to: json, argument: "--json")
        }
    }

    /// What the `% roofline` column means, printed under the tables that have it.
    static let rooflineLegend = """
        % roofline: the roofline's least time, max(FLOPs at the FMA peak, bytes at the copy bandwidth), \
        over the measured time; where the FLOPs take longer, % copy bw cannot reach 100%.
        """

    static func header(backward: Bool) -> String {
        "shape                        ref ms    fast ms  GFLOP/s  speed-up  % peak  % copy bw  % roofline"
            + (backward ? "   dX ms  % peak   dW ms  % peak" : "")
    }

    static func row(_ r: BenchmarkResult, shape: BenchmarkShape) -> String {
        let reference = r.referenceMilliseconds.map { String(format: "%9.2f", $0) } ?? "        –"
        let speedup = r.speedup.map { String(format: "%8.0f×", $0) } ?? "        –"
        let bandwidth = r.bandwidthFraction.map { String(format: "%9.0f%%", $0 * 100) } ?? "          "
        var line = String(format: "%-26@ %@ %9.3f %8.1f %@ %6.0f%% %@ %10.0f%%",
                          r.name.padding(toLength: 26, withPad: " ", startingAt: 0),
                          reference, r.fastMilliseconds, r.fastGflops, speedup, r.peakFraction * 100, bandwidth,
                          r.rooflineFraction * 100)
        if let dx = r.backwardInputMilliseconds, let dxPeak = r.backwardInputPeakFraction,
           let dw = r.backwardWeightMilliseconds, let dwPeak = r.backwardWeightPeakFraction {
            line += String(format: " %7.3f %6.0f%% %7.3f %6.0f%%", dx, dxPeak * 100, dw, dwPeak * 100)
        }
        return line
    }

    func loadSuite() throws -> BenchmarkSuite {
        var extra: [BenchmarkShape] = []
        for text in shapes {
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 5, let values = parts as? [Int], values.allSatisfy({ $0 >= 1 }) else {
                throw CLIError("--shape \(text)", "expected five positive integers N,CIN,COUT,H,W")
            }
            let shape = BenchmarkShape(name: "\(values[0])x\(values[1])to\(values[2])-\(values[3])x\(values[4])",
                                       n: values[0], cin: values[1], cout: values[2], h: values[3], w: values[4])
            do { try shape.validate() } catch { throw CLIError("--shape \(text)", error) }
            extra.append(shape)
        }
        if suite == nil && !extra.isEmpty { return BenchmarkSuite(shapes: extra) }
        let (data, source): (Data, String)
        if let suite {
            guard let contents = FileManager.default.contents(atPath: suite) else {
                throw CLIError("--suite \(suite)", "cannot read the file")
            }
            (data, source) = (contents, "--suite \(suite)")
        } else {
            guard let url = Bundle.module.url(forResource: "shapes", withExtension: "json"),
                  let contents = try? Data(contentsOf: url) else {
                throw CLIError("the built-in suite is missing from the installation")
            }
            (data, source) = (contents, "built-in suite")
        }
        do {
            var parsed = try BenchmarkSuite(json: data)
            parsed.shapes += extra
            return parsed
        } catch let error as BenchmarkError {
            throw CLIError(source, error)
        } catch {
            throw CLIError(source, "not a suite file ({\"shapes\": [{\"name\", \"n\", \"cin\", \"cout\", \"h\", \"w\"}, …]}): \(error)")
        }
    }
}

/// The `--json` report of `pointwise bench`.
struct BenchmarkReport: Codable {
    var machine: MachineProfile
    var results: [BenchmarkResult]
}
