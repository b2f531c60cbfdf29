import ArgumentParser
import Foundation
import Pointwise

/// `pointwise apply`: runs one 1×1 convolution on .npy files.
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a 1×1 convolution to a .npy tensor.",
        discussion: """
            X is [N, C, *spatial] (0 to 3 spatial dimensions) with --layout nchw, or [N, *spatial, C] \
            with --layout nhwc; Y comes out in the same layout. W is [Cout, Cin/groups] or PyTorch's \
            [Cout, Cin/groups, 1, 1]. Semantics are PyTorch's Conv1d/2d/3d(kernel_size=1, stride, groups, \
            bias), followed by the residual add and the activation.

            Inputs of any size stream through in bounded memory: X (and R) are read a tile of pixels \
            at a time with pread (strided tiles through a read-only memory map whose pages are handed \
            back after each tile), each output tile goes to its place in a hidden temporary \
            file, renamed onto Y when complete (Ctrl-C leaves any previous Y intact). --max-memory \
            sets the budget. --shard I/N computes only the I-th of N equal parts of the output into \
            a part file (safetensors); `pointwise merge` assembles the parts into Y, byte for byte \
            what one run writes.
            """)

    @Option(help: ArgumentHelp("Input tensor X (.npy).", valueName: "X.npy"))
    var input: String

    @Option(help: ArgumentHelp("Weight W (.npy), [Cout, Cin/groups] or [Cout, Cin/groups, 1, 1].", valueName: "W.npy"))
    var weight: String

    @Option(help: ArgumentHelp("Bias (.npy), [Cout].", valueName: "B.npy"))
    var bias: String?

    @Option(help: ArgumentHelp("Residual added before the activation (.npy), shaped like Y.", valueName: "R.npy"))
    var residual: String?

    @Option(help: "Activation: none, relu, relu6, sigmoid, tanh, silu or hardswish.")
    var activation: Activation = .identity

    @Option(parsing: .unconditional, help: "Spatial stride (≥ 1).")
    var stride = 1

    @Option(parsing: .unconditional, help: "Channel groups (≥ 1, dividing Cin and Cout).")
    var groups = 1

    @Option(help: "Memory layout of X and Y: nchw or nhwc.")
    var layout: Layout = .channelsFirst

    @Option(parsing: .unconditional, help: "Worker threads (default: every CPU).")
    var threads: Int?

    @Option(help: "fast (packed SIMD kernels) or reference (the plain loops, double precision).")
    var algorithm: Algorithm = .fast

    @OptionGroup var streaming: StreamingArguments

    @Option(help: ArgumentHelp("Output tensor Y (.npy), or the part file with --shard.", valueName: "Y.npy"))
    var output: String

    @Flag(help: "Print the path chosen (kernel, tiles, blocking, threads, layout) and why.")
    var explain = false

    func run() throws {
        let threads = try threadCount(self.threads)
        let options = try streaming.options(threads: threads, algorithm: algorithm, label: "apply")
        try checkFiles(inputs: [("--input", input), ("--weight", weight), ("--bias", bias), ("--residual", residual)],
                       outputs: [("--output", output)])
        let w = try readNPY(weight, argument: "--weight")
        guard (2...5).contains(w.shape.count), let weightTensor = try? Tensor(shape: w.shape, values: w.values) else {
            throw CLIError("--weight \(weight)", "shape \(w.shape) is not [Cout, Cin/groups] or [Cout, Cin/groups, 1, 1]")
        }
        var biasValues: [Float]? = nil
        if let bias {
            let b = try readNPY(bias, argument: "--bias")
            guard b.shape.count == 1 else { throw CLIError("--bias \(bias)", "shape \(b.shape) is not [Cout]") }
            biasValues = b.values
        }
        let conv: Conv1x1
        do {
            conv = try Conv1x1(weight: weightTensor, bias: biasValues, stride: stride, groups: groups,
                               activation: activation)
        } catch {
            throw CLIError(convolutionSubject(error), error)
        }
        if explain {
            let x = try mapNPY(input, argument: "--input")
            // One tile of the stream: up to `largestTile` output pixels of one image, explained as
            // the 1-D input whose subsampling by the stride gives them.
            let spatial = layout == .channelsFirst ? x.shape.dropFirst(2) : x.shape.dropFirst().dropLast()
            // A file with no images can claim any sizes, and the stride can be any: every product is checked.
            var outputPixels = 1
            for size in spatial {
                let (product, overflow) = outputPixels.multipliedReportingOverflow(by: size == 0 ? 0 : (size - 1) / stride + 1)
                guard !overflow else { throw CLIError("--input \(input)", "shape \(x.shape) has more pixels than an Int counts") }
                outputPixels = product
            }
            let tilePixels = max(1, min(StreamingOptions.largestTile, outputPixels))
            let (tileLength, overflow) = (tilePixels - 1).multipliedReportingOverflow(by: stride)
            guard !overflow else { throw CLIError("--stride \(stride)", "a tile of \(tilePixels) pixels spans more than an Int counts") }
            let tile = [1, conv.inputChannels, tileLength + 1]
            // The whole input as [N, C, *spatial] (a file of fewer dimensions is refused by the stream below).
            let logical = x.shape.count < 2 ? tile
                : layout == .channelsFirst ? x.shape : [x.shape[0], x.shape[x.shape.count - 1]] + spatial
            do {
                print(try conv.explanation(forInput: logical, streamedAs: tile, layout: layout, options: options.execution))
            } catch {
                throw CLIError(convolutionSubject(error), error)
            }
            print("streaming: input \(x.shape) read with pread (strided tiles through a memory map) in tiles of up to "
                  + "\(tilePixels.grouped) output pixels within --max-memory \(streaming.maxMemory); " + (options.shard.map { "shard \($0) into a part file" }
                  ?? "the whole output into \(output)"))
        }
        do {
            try conv.stream(input: input, layout: layout, residual: residual, output: output, options: options)
        } catch {
            throw CLIError(StreamingArguments.subject(of: error, input: input, residual: residual,
                                                      model: "--weight \(weight)"), error)
        }
    }

    /// The argument a convolution error is about, for the message's prefix.
    private func convolutionSubject(_ error: ConvolutionError) -> String {
        switch error {
        case .weightShape: "--weight \(weight)"
        case .groups: "--groups \(groups)"
        case .stride: "--stride \(stride)"
        case .biasCount: "--bias \(bias ?? "")"
        case .inputChannels: "--input \(input)"
        case .shapeMismatch: "--residual \(residual ?? "")"
        case .threads: "--threads"
        case .tensor: "--input \(input)"
        }
    }
}

extension Activation: ExpressibleByArgument {}
extension Layout: ExpressibleByArgument {}
extension Algorithm: ExpressibleByArgument {}
