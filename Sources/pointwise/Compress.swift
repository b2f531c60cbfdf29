import ArgumentParser
import Foundation
import Pointwise

/// `pointwise compress`: EfficientNet-Lite0 with its 1×1 convolutions factored (SVD or activation PCA), per budget.
struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Low-rank (SVD) compression of EfficientNet-Lite0's 1×1 convolutions: FLOPs, latency and accuracy per budget.",
        discussion: """
            Every block expansion and projection and the head, W [Cout × Cin], is replaced by the two 1×1 \
            convolutions Cin → r → Cout of its truncated SVD, with one energy threshold for all layers chosen \
            so that the pointwise multiply-adds fit each budget. With --data-aware, each layer is factored by PCA \
            of its activations on calibration pictures instead (uncropped, at each --calibration-sizes, optionally \
            mirrored); without --calibrate those are the evaluated pictures themselves, which flatters the result \
            (--calibrate needs --data-aware or --distill-steps, the two things calibration pictures are for). \
            scripts/fetch_calibration_pictures.sh fetches a held-out set. With --distill-steps, each compressed \
            model is then fine-tuned by distillation from the original on random 224 crops of the calibration \
            pictures (no labels needed). For each budget the table gives the \
            pointwise multiply-adds, the batch-1 latency, whether each picture's top-1 class is unchanged, the \
            largest logit difference, and the relative error of the feature map before pooling.
            """)

    @Option(help: ArgumentHelp("Weights (default: the stored file from `pointwise models fetch`).", valueName: "FILE"))
    var weights: String?

    @Option(parsing: .unconditional,
            help: "Fractions of the pointwise multiply-adds to keep, comma-separated, each in (0, 1] (1: the model itself).")
    var budgets = "1,0.85,0.7,0.55,0.4"

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Pictures to classify (default: the shared fixtures' chelsea.png and coffee.png when present).",
                               valueName: "PICTURE.png"))
    var pictures: [String] = []

    @Flag(help: "Factor each layer by PCA of its activations on calibration pictures instead of its weight's SVD.")
    var dataAware = false

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Calibration pictures for --data-aware (default: the pictures themselves, in-sample).",
                               valueName: "PICTURE.png"))
    var calibrate: [String] = []

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Shorter sides the calibration pictures are resized to, uncropped, comma-separated (32…\(Classify.maximumDenseSize)).",
                               valueName: "PIXELS"))
    var calibrationSizes = "320"

    @Flag(help: "Also calibrate on each calibration picture mirrored left to right.")
    var calibrationMirror = false

    @Option(parsing: .unconditional, help: ArgumentHelp("""
        Fine-tune each compressed model for this many steps by distillation from the original on random \
        crops of the calibration pictures (0: no fine-tuning).
        """, valueName: "STEPS"))
    var distillSteps = 0

    @Option(parsing: .unconditional, help: "Crops per distillation step.")
    var distillBatch = 4

    @Option(parsing: .unconditional, help: "Adam's learning rate for distillation (cosine-decayed to 0).")
    var distillRate: Float = 1e-4

    @Option(parsing: .unconditional, help: "Softmax temperature of the distillation loss.")
    var distillTemperature: Float = 2

    @Option(parsing: .unconditional, help: "Weight of the feature-map loss beside the distillation loss (0: logits only).")
    var distillFeatureWeight: Float = 1

    @Option(parsing: .unconditional, help: "Weight of the feature loss on every block's output during distillation (0: none).")
    var distillBlockWeight: Float = 0

    @Flag(help: "Distillation trains every 1×1 convolution, not only the factored pairs.")
    var distillAll = false

    @Flag(help: "Also print the rank each layer keeps at each budget.")
    var layers = false

    @Option(parsing: .unconditional, help: "Worker threads for the latency (default: 1).")
    var threads = 1

    func run() throws {
        guard !budgets.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CLIError("--budgets", "empty; give fractions in (0, 1], comma-separated, e.g. 1,0.7,0.4")
        }
        let fractions = try budgets.split(separator: ",", omittingEmptySubsequences: false).map { text -> Double in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0, value <= 1 else {
                throw CLIError("--budgets", "'\(text)' is not a fraction in (0, 1]")
            }
            return value
        }
        let threads = try threadCount(self.threads)
        let sizes = try calibrationSizes.split(separator: ",", omittingEmptySubsequences: false).map { text -> Int in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (32...Classify.maximumDenseSize).contains(value) else {
                throw CLIError("--calibration-sizes", "'\(text)' is not a number of pixels in 32…\(Classify.maximumDenseSize)")
            }
            return value
        }
        try validateDistillation(sizes: sizes)
        if !calibrate.isEmpty, !dataAware, distillSteps == 0 {
            throw CLIError("--calibrate", "calibration pictures are used only with --data-aware or --distill-steps; add one of them")
        }
        let fixtures = ["chelsea", "coffee"].map { "../shared/fixtures/efficientnet-lite0/\($0).png" }
        let files = pictures.isEmpty ? fixtures.filter { FileManager.default.isReadableFile(atPath: $0) } : pictures
        guard !files.isEmpty else { throw CLIError("--pictures", "none given, and the shared fixtures are not here") }
        let inputs = try files.map { try readPicture($0, argument: "--pictures") }
        let model = try loadModel(weights: weights)
        let options = ExecutionOptions(threads: threads)
        func evaluate(_ network: EfficientNetLite) throws -> (logits: [[Float]], features: [[Float]], ms: Double) {
            do {
                let featureMaps = try inputs.map { try network.features($0, options: options) }
                let logits = try featureMaps.map { try network.logits(features: $0, options: options).scalars }
                let features = featureMaps.map(\.scalars)
                let timing = try Benchmark.time(network, name: "", input: inputs[0], threads: threads, runs: 20, warmUp: 3)
                return (logits, features, timing.medianMilliseconds)
            } catch { throw CLIError("--weights", String(describing: error)) }
        }
        let reference = try evaluate(model)
        let factorizations: LowRankFactorizations
        var calibration: [Tensor] = []
        if dataAware || distillSteps > 0 {
            // Calibrating on an evaluated picture (under any name) makes the accuracy columns in-sample.
            let evaluated = Set(files.compactMap { FileManager.default.contents(atPath: $0) })
            for path in calibrate where FileManager.default.contents(atPath: path).map(evaluated.contains) == true {
                printError("warning: --calibrate \(path) is one of the evaluated pictures; the accuracy is in-sample")
            }
            for path in calibrate.isEmpty ? files : calibrate {
                for size in sizes {
                    let picture = try readPicture(path, argument: calibrate.isEmpty ? "--pictures" : "--calibrate",
                                                  shorterSide: size, crop: nil, sizeArgument: "--calibration-sizes")
                    calibration.append(picture)
                    if calibrationMirror { calibration.append(try mirrored(picture)) }
                }
            }
        }
        do { factorizations = try model.lowRankFactorizations(calibration: dataAware ? calibration : [], options: options) } catch {
            throw CLIError(dataAware ? "--data-aware" : "--weights", error)
        }
        print("budget  energy   pointwise M mult-adds  latency ms  top-1 kept  max |Δlogit|  feature error")
        for fraction in fractions {
            var compressed: (model: EfficientNetLite, report: EfficientNetLite.LowRankReport)
            do { compressed = try factorizations.compressed(pointwiseBudget: fraction) } catch { throw CLIError("--budgets", error) }
            // Distil only what was factored (at budgets this high nothing may be), unless told to train every layer.
            if distillSteps > 0, distillAll || compressed.report.layers.contains(where: { $0.rank != nil }) {
                compressed.model = try distill(compressed.model, from: model, pictures: calibration, options: options)
            }
            let result = try evaluate(compressed.model)
            let kept = zip(result.logits, reference.logits).filter { argmax($0) == argmax($1) }.count
            let logitError = zip(result.logits, reference.logits).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            let featureError = zip(result.features, reference.features).map { relativeError($0, $1) }.max() ?? 0
            print(String(format: "%5.0f%%  %.4f  %10.1f (%3.0f%%)  %10.2f  %6d/%d  %12.3f  %12.4f", fraction * 100,
                         compressed.report.energy, Double(compressed.report.compressedMultiplyAdds) / 1e6,
                         100 * Double(compressed.report.compressedMultiplyAdds) / Double(compressed.report.originalMultiplyAdds),
                         result.ms, kept, files.count, logitError, featureError))
            if layers {
                print("        " + compressed.report.layers.map { "\($0.name) \($0.inputs)→\($0.rank.map(String.init) ?? "whole")→\($0.outputs)" }
                    .joined(separator: ", "))
            }
        }
        printError("uncompressed: \(String(format: "%.2f", reference.ms)) ms; top-1 of each picture: "
                   + reference.logits.map { ImageNetClasses.names[argmax($0)] }.joined(separator: "; "))
    }

    /// Refuses distillation settings out of range by their option's name, before anything is loaded
    /// (the ranges are the library's, `DistillationSettings.validated()`).
    private func validateDistillation(sizes: [Int]) throws {
        guard distillSteps >= 0 else { throw CLIError("--distill-steps", "must be ≥ 0, got \(distillSteps)") }
        guard distillSteps > 0 else { return }
        do { _ = try distillationSettings(options: ExecutionOptions()).validated() } catch {
            let options = ["steps": "--distill-steps", "batch size": "--distill-batch", "learning rate": "--distill-rate",
                           "temperature": "--distill-temperature", "feature weight": "--distill-feature-weight",
                           "block weight": "--distill-block-weight"]
            guard case .setting(let name, _, _) = error, let option = options[name] else { throw CLIError("--distill-steps", error) }
            throw CLIError(option, error)
        }
        if let small = sizes.first(where: { $0 < 224 }) {
            throw CLIError("--calibration-sizes", "distillation takes 224×224 crops, so every size must be ≥ 224; got \(small)")
        }
    }

    /// The distillation settings the options give.
    private func distillationSettings(options: ExecutionOptions) -> EfficientNetLite.DistillationSettings {
        var settings = EfficientNetLite.DistillationSettings()
        settings.steps = distillSteps
        settings.batchSize = distillBatch
        settings.learningRate = distillRate
        settings.temperature = distillTemperature
        settings.featureWeight = distillFeatureWeight
        settings.blockWeight = distillBlockWeight
        settings.trainsAllPointwise = distillAll
        settings.options = options
        return settings
    }

    /// `student` fine-tuned by distillation from `teacher` on crops of `pictures`, with progress on stderr.
    private func distill(
        _ student: EfficientNetLite, from teacher: EfficientNetLite, pictures: [Tensor], options: ExecutionOptions
    ) throws -> EfficientNetLite {
        var window: [(Double, Double, Int)] = []
        do {
            return try student.distilled(from: teacher, pictures: pictures, settings: distillationSettings(options: options)) { step in
                window.append((step.logitLoss, step.featureLoss, step.agreeing))
                guard step.step % 10 == 0 || step.step == distillSteps else { return }
                let n = Double(window.count)
                printError(String(format: "  distill step %d/%d: KD loss %.4f, feature loss %.4f, top-1 agreement %.0f%%",
                                  step.step, distillSteps, window.map(\.0).reduce(0, +) / n, window.map(\.1).reduce(0, +) / n,
                                  100 * Double(window.map(\.2).reduce(0, +)) / (n * Double(distillBatch))))
                window.removeAll()
            }
        } catch { throw CLIError("--distill-steps", error) }
    }

    /// `x` [N, C, H, W] with every row reversed (left and right swapped).
    private func mirrored(_ x: Tensor) throws -> Tensor {
        let width = x.shape[3], values = x.scalars
        let flipped = values.indices.map { values[$0 - $0 % width + width - 1 - $0 % width] }
        return try Tensor(shape: x.shape, values: flipped)
    }

    private func argmax(_ values: [Float]) -> Int { values.indices.max { values[$0] < values[$1] } ?? 0 }

    /// ‖a − b‖ / ‖b‖.
    private func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let norm = b.reduce(0.0) { $0 + Double($1) * Double($1) }
        return norm > 0 ? (difference / norm).squareRoot() : 0
    }
}
