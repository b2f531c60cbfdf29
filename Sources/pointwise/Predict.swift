import ArgumentParser
import Foundation
import Pointwise

/// `pointwise predict`: runs a trained per-pixel network over an .npy file of any size.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a trained per-pixel network (from `pointwise train`) over an .npy file: outputs or a class map.",
        discussion: """
            X is [N, C, *spatial] (--layout nchw) or [N, *spatial, C] (nhwc). Without --classes, Y holds \
            the network's outputs, [N, Cout, *spatial] (or [N, *spatial, Cout]), float32; with --classes, \
            Y is the class map: each pixel's highest-scoring output as int64 [N, *spatial], as NumPy's \
            argmax gives it. Like apply, it streams in bounded memory (--max-memory), can compute one \
            shard of the pixels (--shard I/N, then `pointwise merge`), and writes Y atomically.
            """)

    @Option(help: ArgumentHelp("The model directory written by `pointwise train`.", valueName: "DIR"))
    var model: String

    @Option(help: ArgumentHelp("Input X (.npy).", valueName: "X.npy"))
    var input: String

    @Option(help: "Memory layout of X (and of the outputs): nchw or nhwc.")
    var layout: Layout = .channelsFirst

    @Flag(help: "Write the class map (int64 argmax per pixel) instead of the outputs.")
    var classes = false

    @Option(parsing: .unconditional, help: "Worker threads (default: every CPU).")
    var threads: Int?

    @OptionGroup var streaming: StreamingArguments

    @Option(help: ArgumentHelp("Output Y (.npy), or the part file with --shard.", valueName: "Y.npy"))
    var output: String

    func run() throws {
        let threads = try threadCount(self.threads)
        let options = try streaming.options(threads: threads, label: "predict")
        try checkFiles(inputs: [("--input", input)], outputs: [("--output", output)])
        let network: PixelNetwork
        do { network = try PixelNetwork.load(from: URL(fileURLWithPath: model)) } catch {
            throw CLIError("--model \(model)", error)
        }
        do {
            try network.stream(input: input, layout: layout, output: output, classMap: classes, options: options)
        } catch {
            throw CLIError(StreamingArguments.subject(of: error, input: input, model: "--model \(model)"), error)
        }
    }
}
