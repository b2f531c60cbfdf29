import ArgumentParser
import Foundation
import Pointwise

/// `pointwise train`: trains a per-pixel network (stacked 1×1 convolutions) on .npy files.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a per-pixel network of 1×1 convolutions on .npy files.",
        discussion: """
            X is [N, C, *spatial] (channels-first) or pixel rows [P, C]. With --labels (integers [N, *spatial] \
            or [P], -100 = ignore) the loss is cross-entropy; with --target ([N, Cout, *spatial] or [P, Cout]) \
            it is the mean squared error. The model (one .npy per parameter and model.json) is written \
            atomically to --output.
            """)

    @Option(help: ArgumentHelp("Input X (.npy): [N, C, *spatial] or [P, C].", valueName: "X.npy"))
    var input: String

    @Option(help: ArgumentHelp("Class labels (.npy, integers): [N, *spatial] or [P].", valueName: "Y.npy"))
    var labels: String?

    @Option(help: ArgumentHelp("Regression target (.npy): [N, Cout, *spatial] or [P, Cout].", valueName: "T.npy"))
    var target: String?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Hidden widths, comma-separated, each 1…\(Train.maximumWidth) (empty: one layer).",
                               valueName: "32,16"))
    var hidden = ""

    @Option(parsing: .unconditional, help: "Passes over the data (1…\(Train.maximumEpochs)).")
    var epochs = 10

    @Option(parsing: .unconditional, help: "Learning rate.")
    var lr: Float = 0.01

    @Option(help: "sgd, adam or adamw.")
    var optimizer: OptimizerName = .adam

    @Option(parsing: .unconditional, help: "SGD momentum, in [0, 1) (default: 0.9; only with --optimizer sgd).")
    var momentum: Float?

    @Option(parsing: .unconditional, help: "Weight decay (L2 for sgd and adam, decoupled for adamw).")
    var weightDecay: Float = 0

    @Option(help: "Learning-rate schedule: constant, step (×0.1 every third of the epochs) or cosine.")
    var schedule: ScheduleName = .constant

    @Option(parsing: .unconditional, help: "Pixels per step.")
    var batchSize = 256

    @Option(parsing: .unconditional, help: "Seeds the initialisation and the shuffling.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Worker threads (default: every CPU).")
    var threads: Int?

    @Option(help: ArgumentHelp("Also write the mean loss of every epoch, [epochs], to this .npy (draw it with `visualize --history`).",
                               valueName: "H.npy"))
    var history: String?

    @Option(help: ArgumentHelp("Directory for the trained model.", valueName: "DIR"))
    var output: String

    /// The most classes `--labels` may have: the output layer has one channel per class.
    static let maximumClasses = 65_536

    enum OptimizerName: String, ExpressibleByArgument, CaseIterable { case sgd, adam, adamw }
    enum ScheduleName: String, ExpressibleByArgument, CaseIterable { case constant, step, cosine }

    /// The most epochs a run may ask for (a million passes; more only overflows the progress line's arithmetic).
    static let maximumEpochs = 1_000_000
    /// The widest hidden layer: a 16384×16384 layer's weights, gradients and Adam moments take 4 GiB.
    static let maximumWidth = 16_384

    func run() throws {
        let threads = try threadCount(self.threads)
        guard (1...Self.maximumEpochs).contains(epochs) else {
            throw CLIError("--epochs", "must be in 1…\(Self.maximumEpochs.grouped), got \(epochs)")
        }
        if let momentum {
            guard optimizer == .sgd else {
                throw CLIError("--momentum", "applies only to --optimizer sgd (\(optimizer.rawValue) has no momentum setting)")
            }
            guard momentum >= 0, momentum < 1 else {
                throw CLIError("--momentum", "must be in [0, 1), got \(momentum) (at 1 or more the steps grow without bound)")
            }
        }
        guard batchSize >= 1 else { throw CLIError("--batch-size", "must be ≥ 1, got \(batchSize)") }
        guard (labels == nil) != (target == nil) else {
            throw CLIError("--labels/--target", "give exactly one: --labels for classification, --target for regression")
        }
        let widthsAfterInput = try hiddenWidths()
        try checkFiles(inputs: [("--input", input), ("--labels", labels), ("--target", target)],
                       outputs: [("--history", history)], folders: [("--output", output)])
        _ = try check("--output") { () throws(TrainingError) in try PixelNetwork.checkSaveDestination(URL(fileURLWithPath: output)) }
        let x = try readInput()
        let targets: TrainingTargets, outputs: Int
        if let labels {
            let y: NPYIntegers
            do { y = try NPY.readIntegers(contentsOf: URL(fileURLWithPath: labels)) } catch { throw CLIError("--labels", error) }
            guard y.shape == [x.batchSize] + x.spatialShape else {
                throw CLIError("--labels \(labels)", "shape \(y.shape) does not match --input: expected \([x.batchSize] + x.spatialShape)")
            }
            let counted = y.values.filter { $0 != Loss.defaultIgnoreIndex }
            guard !counted.isEmpty else {
                throw CLIError("--labels \(labels)", "every label is -100 (ignore): there are no labelled pixels to train on")
            }
            if let bad = counted.first(where: { $0 < 0 }) {
                throw CLIError("--labels \(labels)", "label \(bad) is negative (only -100, ignore, may be)")
            }
            let largest = counted.max() ?? 0
            guard largest < Self.maximumClasses else {
                throw CLIError("--labels \(labels)", "label \(largest) is above \(Self.maximumClasses - 1), the largest class "
                               + "index supported (\(Self.maximumClasses) classes)")
            }
            outputs = largest + 1
            targets = .classes(y.values)
        } else {
            let t = try readFiniteTensor(target!, argument: "--target")
            guard t.batchSize == x.batchSize, t.spatialShape == x.spatialShape else {
                throw CLIError("--target \(target!)", "shape \(t.shape) does not match --input \(x.shape): expected "
                               + "\([x.batchSize, -1] + x.spatialShape) with any number of channels")
            }
            outputs = t.channels
            targets = .values(t)
        }
        let net = try check(input) { () throws(TrainingError) in
            try PixelNetwork(widths: [x.channels] + widthsAfterInput + [outputs], seed: seed)
        }
        var optimizer = try makeOptimizer()
        let trainer = Trainer(epochs: epochs, batchSize: batchSize, seed: seed, schedule: learningRateSchedule,
                              options: ExecutionOptions(threads: threads), progress: .standardError)
        let losses = try check(input) { () throws(TrainingError) in
            try trainer.train(net, inputs: x, targets: targets, optimizer: &optimizer)
        }
        report(net, x: x, targets: targets, loss: losses.epochLosses.last!, threads: threads)
        // A failed --history removes the model this run wrote.
        var writes: [(path: String, write: () throws -> Void)] = [(output, {
            try check("--output") { () throws(TrainingError) in try net.save(to: URL(fileURLWithPath: output)) }
            printError("wrote \(output)")
        })]
        if let history {
            writes.append((history, {
                let values = losses.epochLosses.map { Float($0) }
                try writeNPY(NPYArray(shape: [values.count], values: values), to: history, argument: "--history")
                printError("wrote \(history)")
            }))
        }
        try writeOutputs(writes)
    }

    /// Runs `body`, turning a training error into a user error about `subject` (or the labels).
    private func check<T>(_ subject: String, _ body: () throws(TrainingError) -> T) throws -> T {
        do { return try body() } catch {
            switch error {
            case .label, .shape(role: "labels", _, _): throw CLIError("--labels \(labels ?? "")", error)
            case .shape(role: "targets", _, _): throw CLIError("--target \(target ?? "")", error)
            case .nonFiniteLoss: throw CLIError("--lr \(lr)", error)
            case .setting: throw CLIError("training settings", error)
            default: throw CLIError(subject, error)
            }
        }
    }

    private func hiddenWidths() throws -> [Int] {
        let parts = hidden.split(separator: ",", omittingEmptySubsequences: false)
        guard !hidden.isEmpty else { return [] }
        let widths = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard widths.count == parts.count, widths.allSatisfy({ $0 >= 1 }) else {
            throw CLIError("--hidden \(hidden)", "expected positive integers separated by commas, e.g. 32,16")
        }
        if let wide = widths.first(where: { $0 > Self.maximumWidth }) {
            throw CLIError("--hidden \(hidden)", "width \(wide) is above \(Self.maximumWidth.grouped), the widest layer trained")
        }
        return widths
    }

    private var learningRateSchedule: LearningRateSchedule {
        switch schedule {
        case .constant: .constant
        case .step: .step(every: max(epochs / 3, 1), gamma: 0.1)
        case .cosine: .cosine(epochs: epochs)
        }
    }

    private func makeOptimizer() throws -> any Optimizer {
        try check("--lr \(lr)") { () throws(TrainingError) -> any Optimizer in
            switch optimizer {
            case .sgd: try SGD(learningRate: lr, momentum: momentum ?? 0.9, weightDecay: weightDecay)
            case .adam: try Adam(learningRate: lr, weightDecay: weightDecay)
            case .adamw: try Adam.adamW(learningRate: lr, weightDecay: weightDecay)
            }
        }
    }

    /// X as [N, C, *spatial] (a 2-D file is pixel rows [P, C], the same as [P, C] channels-first).
    private func readInput() throws -> Tensor { try readFiniteTensor(input, argument: "--input") }

    private func readFiniteTensor(_ path: String, argument: String) throws -> Tensor {
        let tensor = try readTensor(path, argument: argument)
        guard tensor.scalars.allSatisfy({ $0.isFinite }) else {
            throw CLIError("\(argument) \(path)", "contains NaN or infinite values")
        }
        return tensor
    }

    /// Prints the final loss, the accuracy for classification, and a one-layer model's weights.
    private func report(_ net: PixelNetwork, x: Tensor, targets: TrainingTargets, loss: Float, threads: Int) {
        print(String(format: "final loss %.6g (last epoch's mean)", loss))
        if case .classes(let labels, let ignoreIndex) = targets,
           let logits = try? net(x, options: ExecutionOptions(threads: threads)) {
            print(String(format: "training accuracy %.2f%%",
                         100 * Loss.accuracy(logits: logits, labels: labels, ignoreIndex: ignoreIndex)))
        }
        guard net.layers.count == 1, let layer = net.layers.first else { return }
        let columns = layer.inputChannels
        print("weight [\(layer.outputChannels), \(columns)]:")
        let w = layer.weight.scalars
        for o in 0..<layer.outputChannels {
            print("  " + (0..<columns).map { String(format: "%10.6f", w[o * columns + $0]) }.joined(separator: " "))
        }
        print("bias: " + (layer.bias ?? []).map { String(format: "%.6f", $0) }.joined(separator: " "))
    }
}
