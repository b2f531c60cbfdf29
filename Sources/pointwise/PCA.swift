import ArgumentParser
import Foundation
import Pointwise

/// `pointwise pca`: PCA of a feature map's channel vectors, exported as a 1×1 convolution.
struct PCA: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit PCA to the channel vectors of a .npy feature map and write it as a 1×1 convolution.",
        discussion: """
            X is [N, C, *spatial] with --layout nchw, or [N, *spatial, C] with --layout nhwc; every pixel of \
            every image is one sample. The output (.safetensors, float32, written atomically) holds weight \
            [K, C] (the top K components, scikit-learn's signs), bias [K] (−weight·mean), mean [C] and \
            explained_variance [K]: the convolution weight·x + bias projects onto the components, and \
            weightᵀ·y + mean reconstructs. With --compare, linear and ReLU 1×1 autoencoders C→K→C are \
            trained on the same pixels and their reconstruction errors printed beside PCA's.
            """)

    @Option(help: ArgumentHelp("Input feature map X (.npy).", valueName: "X.npy"))
    var input: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Components to keep, 1…C.", valueName: "K"))
    var components: Int

    @Option(help: ArgumentHelp("Output file (.safetensors).", valueName: "PCA.safetensors"))
    var output: String

    @Option(help: "Memory layout of X: nchw or nhwc.")
    var layout: Layout = .channelsFirst

    @Flag(help: "Also train linear and ReLU autoencoders C→K→C and compare their reconstruction errors.")
    var compare = false

    @Option(parsing: .unconditional, help: "Autoencoder training: the fewest optimizer steps (whole passes over the pixels).")
    var steps = 10_000

    @Option(parsing: .unconditional, help: "Autoencoder training: Adam's initial learning rate (cosine-annealed).")
    var lr: Float = 0.02

    @Option(parsing: .unconditional, help: "Autoencoder training: pixels per step.")
    var batchSize = 32

    @Option(parsing: .unconditional, help: "Autoencoder training: seeds the initialisation and the shuffling.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Worker threads (default: every CPU).")
    var threads: Int?

    func run() throws {
        let threads = try threadCount(self.threads)
        guard components >= 1 else { throw CLIError("--components", "must be ≥ 1, got \(components)") }
        guard (1...PCAComparison.maximumSteps).contains(steps) else {
            throw CLIError("--steps", "must be in 1…\(PCAComparison.maximumSteps), got \(steps)")
        }
        guard batchSize >= 1 else { throw CLIError("--batch-size", "must be ≥ 1, got \(batchSize)") }
        guard lr > 0, lr.isFinite else { throw CLIError("--lr", "must be > 0, got \(lr)") }
        try checkFiles(inputs: [("--input", input)], outputs: [("--output", output)])
        let x = try readInput()
        guard components <= x.channels else {
            throw CLIError("--components", "\(components) is more than the \(x.channels) channels of --input \(input)")
        }
        let options = ExecutionOptions(threads: threads)
        let pca = try check { () throws(AnalysisError) in try Pointwise.PCA(fitting: x) }
        let error = try check { () throws(AnalysisError) in
            try pca.reconstructionError(of: x, components: components, options: options)
        }
        report(pca, error: error)
        if compare {
            printError("training the autoencoders (at least \(steps) steps each)…")
            let comparison = try check { () throws(AnalysisError) in
                try PCAComparison(x, components: components, steps: steps, batchSize: batchSize, learningRate: lr,
                                  seed: seed, options: options)
            }
            print("\nreconstruction MSE, C = \(x.channels) → K = \(components) → C:")
            print("  method               MSE           × PCA")
            for row in comparison.rows {
                print(String(format: "  %@ %-13.6g %.3f", row.method.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0),
                             row.reconstructionError, row.reconstructionError / comparison.rows[0].reconstructionError))
            }
        }
        try write(pca)
        printError("wrote \(output)")
    }

    /// Prints the kept components' variances and the reconstruction error.
    private func report(_ pca: Pointwise.PCA, error: Double) {
        print("PCA of \(pca.sampleCount) pixels × \(pca.channels) channels")
        print("  component  explained variance  ratio    cumulative")
        let ratios = pca.explainedVarianceRatio
        var cumulative = 0.0
        for k in 0..<components {
            cumulative += ratios[k]
            print(String(format: "  %9d  %18.6g  %7.4f  %10.4f", k + 1, pca.explainedVariance[k], ratios[k], cumulative))
        }
        print(String(format: "reconstruction MSE with %d of %d components: %.6g (from the discarded variance: %.6g)",
                     components, pca.channels, error, (try? pca.expectedReconstructionError(components: components)) ?? .nan))
    }

    private func write(_ pca: Pointwise.PCA) throws {
        let encoder = try check { () throws(AnalysisError) in try pca.encoder(components: components) }
        let arrays: [(name: String, array: RawArray)] = [
            ("weight", RawArray(shape: [components, pca.channels], floats: encoder.weight.scalars)),
            ("bias", RawArray(shape: [components], floats: encoder.bias!)),
            ("mean", RawArray(shape: [pca.channels], floats: pca.mean.map(Float.init))),
            ("explained_variance", RawArray(shape: [components], floats: pca.explainedVariance.prefix(components).map(Float.init))),
        ]
        do {
            try SafeTensors.write(arrays, metadata: ["samples": "\(pca.sampleCount)"], to: output)
        } catch {
            throw CLIError("--output", error)
        }
    }

    /// Runs `body`, turning an analysis error into a user error naming the argument at fault.
    private func check<T>(_ body: () throws(AnalysisError) -> T) throws -> T {
        do { return try body() } catch {
            switch error {
            case .componentCount: throw CLIError("--components", error)
            case .training(.nonFiniteLoss): throw CLIError("--lr \(lr)", error)
            case .training: throw CLIError("autoencoder training", error)
            default: throw CLIError("--input \(input)", error)
            }
        }
    }

    /// X as a tensor: [N, C, *spatial] (nchw) or [N, *spatial, C] (nhwc) in the file.
    private func readInput() throws -> Tensor { try readTensor(input, argument: "--input", layout: layout) }
}
