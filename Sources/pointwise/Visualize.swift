import ArgumentParser
import Foundation
import Pointwise

/// `pointwise visualize`: pictures of feature maps and 1×1 weights, as PNG.
struct Visualize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw feature-map channels (viridis grid) or a 1×1 weight matrix (diverging heatmap) as a PNG.",
        discussion: """
            With --input, X is [N, C, H, W] (.npy) and --channels picks the channels (e.g. 0-4 or 0,3,8-11) \
            of image --image; --scaling per-channel stretches each channel over the colormap, shared uses \
            one range for all (with a colour bar). Ranges cover the finite values; NaN and ±∞ are drawn \
            magenta and counted under their tile. With --weights, W is [Cout, Cin] or [Cout, Cin, 1, 1]: \
            rows are output channels, columns input channels, blue negative, red positive (--row K: \
            output channel K's weights as bars). With --history, the loss per epoch (--log: a logarithmic \
            axis, which needs every value positive). Options of another mode are refused. The PNG is \
            written atomically.
            """)

    @Option(help: ArgumentHelp("Feature maps (.npy), [N, C, H, W].", valueName: "X.npy"))
    var input: String?

    @Option(help: ArgumentHelp("A 1×1 weight (.npy), [Cout, Cin] or [Cout, Cin, 1, 1].", valueName: "W.npy"))
    var weights: String?

    @Option(help: ArgumentHelp("A history (.npy): [E] values, or [S, E] for S series (e.g. `train --history`).",
                               valueName: "H.npy"))
    var history: String?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("With --weights: draw output channel K's weights as bars (which inputs it uses).",
                               valueName: "K"))
    var row: Int?

    @Flag(help: "With --history: a logarithmic y axis.")
    var log = false

    @Option(parsing: .unconditional, help: "With --input: channels to draw, each once, e.g. 0-4 or 0,2,5-7 (default: the first 8).")
    var channels: String?

    @Option(parsing: .unconditional, help: "With --input: which image of the batch (default: 0).")
    var image: Int?

    @Option(help: "With --input: per-channel or shared value range (default: per-channel).")
    var scaling: FeatureGrid.Scaling?

    @Option(help: "With --input: memory layout of X, nchw or nhwc (default: nchw).")
    var layout: Layout?

    @Option(help: "The picture's title (default: the file name).")
    var title: String?

    @Option(help: ArgumentHelp("The PNG to write.", valueName: "PICTURE.png"))
    var output: String

    func validate() throws {
        guard [input, weights, history].compactMap({ $0 }).count == 1 else {
            throw CLIError("--input/--weights/--history", "give exactly one of them")
        }
        let given: [(String, Bool)] = [("--channels", channels != nil), ("--image", image != nil),
                                       ("--scaling", scaling != nil), ("--layout", layout != nil),
                                       ("--row", row != nil), ("--log", log)]
        let applying = input != nil ? ["--channels", "--image", "--scaling", "--layout"] : weights != nil ? ["--row"] : ["--log"]
        let mode = input != nil ? "--input" : weights != nil ? "--weights" : "--history"
        let stray = given.filter { $0.1 && !applying.contains($0.0) }.map(\.0)
        guard stray.isEmpty else {
            throw CLIError(stray.joined(separator: ", "), "does not apply to \(mode) (with \(mode): "
                           + "\(applying.joined(separator: ", ")), --title)")
        }
    }

    func run() throws {
        try checkFiles(inputs: [("--input", input), ("--weights", weights), ("--history", history)],
                       outputs: [("--output", output)])
        let canvas: Canvas
        if let input {
            let array = try readNPY(input, argument: "--input")
            let (layout, image) = (self.layout ?? .channelsFirst, self.image ?? 0)
            guard array.shape.count == 4 else {
                throw CLIError("--input \(input)", "shape \(array.shape) is not [N, C, H, W] (or [N, H, W, C] with --layout nhwc)")
            }
            let shape = layout == .channelsFirst ? array.shape : [array.shape[0], array.shape[3], array.shape[1], array.shape[2]]
            let x: Tensor
            do { x = try Tensor(shape: shape, layout: layout, values: array.values) } catch { throw CLIError("--input \(input)", error) }
            let chosen: [Int]
            do { chosen = try channels.map { text throws(PictureError) in try ChannelList.parse(text, count: x.channels) }
                    ?? Array(0..<min(8, x.channels)) } catch { throw CLIError("--channels", error) }
            do {
                canvas = try FeatureGrid.render(x, image: image, channels: chosen, scaling: scaling ?? .perChannel,
                                                title: title ?? "\(URL(fileURLWithPath: input).lastPathComponent), image \(image)")
            } catch { throw CLIError("--input \(input)", error) }
            noteNonFinite(x, image: image, channels: chosen)
        } else if let history {
            let array = try readNPY(history, argument: "--history")
            guard (1...2).contains(array.shape.count), array.values.count > 0 else {
                throw CLIError("--history \(history)", "shape \(array.shape) is not [E] or [S, E] with values")
            }
            let length = array.shape.last!, rows = array.values.count / length
            if log, let bad = array.values.firstIndex(where: { !($0 > 0) }) {
                let count = array.values.filter { !($0 > 0) }.count
                throw CLIError("--log", "\(history) has \(count) value(s) that are not positive (the first, "
                               + "\(array.values[bad]), at series \(bad / length), epoch \(bad % length)); "
                               + "a logarithmic axis cannot show them — draw it without --log")
            }
            let series = (0..<rows).map { s in
                (name: rows == 1 ? "loss" : "series \(s)", values: array.values[s * length..<(s + 1) * length].map(Double.init))
            }
            do {
                canvas = try Charts.lines(series, title: title ?? URL(fileURLWithPath: history).lastPathComponent,
                                          xLabel: "EPOCH", yLabel: "LOSS", logarithmic: log)
            } catch { throw CLIError("--history \(history)", error) }
        } else if let row {
            let path = weights!
            let array = try readNPY(path, argument: "--weights")
            guard array.shape.count >= 2, array.shape.dropFirst(2).allSatisfy({ $0 == 1 }), (0..<array.shape[0]).contains(row) else {
                throw CLIError("--row \(row)", "\(path) has shape \(array.shape): expected [Cout, Cin] and 0 ≤ K < Cout")
            }
            let inputs = array.shape[1]
            let values = array.values[row * inputs..<(row + 1) * inputs].map(Double.init)
            do {
                canvas = try Charts.bars(values, labels: (0..<inputs).map(String.init),
                                         title: title ?? "OUTPUT CHANNEL \(row): WEIGHT PER INPUT CHANNEL",
                                         xLabel: "INPUT CHANNEL", yLabel: "WEIGHT")
            } catch { throw CLIError("--weights \(path)", error) }
        } else {
            let path = weights!
            let array = try readNPY(path, argument: "--weights")
            do {
                canvas = try WeightHeatmap.render(array.values, shape: array.shape,
                                                  title: title ?? "\(URL(fileURLWithPath: path).lastPathComponent) \(array.shape)")
            } catch { throw CLIError("--weights \(path)", error) }
        }
        do { try PNG.write(canvas.image, to: output) } catch { throw CLIError("--output", error) }
        printError("wrote \(canvas.width)×\(canvas.height) \(output)")
    }

    /// Says on standard error how many of the drawn values are NaN or infinite (drawn magenta).
    private func noteNonFinite(_ x: Tensor, image: Int, channels: [Int]) {
        let pixels = x.shape[2] * x.shape[3]
        let count = channels.reduce(0) { sum, c in
            sum + (0..<pixels).filter { !x[batch: image, channel: c, position: $0].isFinite }.count
        }
        guard count > 0 else { return }
        printError("note: \(count) of the \(channels.count * pixels) values drawn are NaN or infinite: drawn magenta, "
                   + "left out of the value ranges")
    }
}

extension FeatureGrid.Scaling: ExpressibleByArgument {}
