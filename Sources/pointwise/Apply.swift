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
            bias), followed by the residual add and the activation. Y is written atomically.
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

    @Option(help: "Spatial stride (≥ 1).")
    var stride = 1

    @Option(help: "Channel groups (≥ 1, dividing Cin and Cout).")
    var groups = 1

    @Option(help: "Memory layout of X and Y: nchw or nhwc.")
    var layout: Layout = .channelsFirst

    @Option(help: "Worker threads (default: every CPU).")
    var threads: Int?

    @Option(help: "fast (packed SIMD kernels) or reference (the plain loops, double precision).")
    var algorithm: Algorithm = .fast

    @Option(help: ArgumentHelp("Output tensor Y (.npy).", valueName: "Y.npy"))
    var output: String

    @Flag(help: "Print the path chosen (kernel, tiles, blocking, threads, layout) and why.")
    var explain = false

    func run() throws {
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard threads >= 1 else { throw CLIError("--threads", "must be ≥ 1, got \(threads)") }
        let x = try readTensor(input, argument: "--input", layout: layout)
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
        let residualTensor = try residual.map { try readTensor($0, argument: "--residual", layout: layout) }
        let options = ExecutionOptions(threads: threads, algorithm: algorithm)
        if explain {
            print(conv.explanation(forInput: x.shape, layout: layout, options: options))
        }
        let y: Tensor
        do {
            y = try conv(x, residual: residualTensor, options: options)
        } catch {
            throw CLIError(convolutionSubject(error), error)
        }
        do {
            try NPY.write(NPYArray(shape: y.memoryShape, values: y.scalars), to: URL(fileURLWithPath: output))
        } catch {
            throw CLIError("--output \(output)", error)
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
