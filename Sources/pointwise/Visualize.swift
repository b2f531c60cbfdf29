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
            one range for all (with a colour bar). With --weights, W is [Cout, Cin] or [Cout, Cin, 1, 1]: \
            rows are output channels, columns input channels, blue negative, red positive. The PNG is \
            written atomically.
            """)

    @Option(help: ArgumentHelp("Feature maps (.npy), [N, C, H, W].", valueName: "X.npy"))
    var input: String?

    @Option(help: ArgumentHelp("A 1×1 weight (.npy), [Cout, Cin] or [Cout, Cin, 1, 1].", valueName: "W.npy"))
    var weights: String?

    @Option(help: ArgumentHelp("A history (.npy): [E] values, or [S, E] for S series (e.g. `train --history`).",
                               valueName: "H.npy"))
    var history: String?

    @Option(help: ArgumentHelp("With --weights: draw output channel K's weights as bars (which inputs it uses).",
                               valueName: "K"))
    var row: Int?

    @Flag(help: "With --history: a logarithmic y axis.")
    var log = false

    @Option(help: "Channels to draw, e.g. 0-4 or 0,2,5-7 (default: the first 8).")
    var channels: String?

    @Option(help: "Which image of the batch.")
    var image = 0

    @Option(help: "per-channel or shared value range.")
    var scaling: FeatureGrid.Scaling = .perChannel

    @Option(help: "Memory layout of X: nchw or nhwc.")
    var layout: Layout = .channelsFirst

    @Option(help: "The picture's title (default: the file name).")
    var title: String?

    @Option(help: ArgumentHelp("The PNG to write.", valueName: "PICTURE.png"))
    var output: String

    func validate() throws {
        guard [input, weights, history].compactMap({ $0 }).count == 1 else {
            throw CLIError("--input/--weights/--history", "give exactly one of them")
        }
    }

    func run() throws {
        try checkFiles(inputs: [("--input", input), ("--weights", weights), ("--history", history)],
                       outputs: [("--output", output)])
        let canvas: Canvas
        if let input {
            let array = try readNPY(input, argument: "--input")
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
                canvas = try FeatureGrid.render(x, image: image, channels: chosen, scaling: scaling,
                                                title: title ?? "\(URL(fileURLWithPath: input).lastPathComponent), image \(image)")
            } catch { throw CLIError("--input \(input)", error) }
        } else if let history {
            let array = try readNPY(history, argument: "--history")
            guard (1...2).contains(array.shape.count), array.values.count > 0 else {
                throw CLIError("--history \(history)", "shape \(array.shape) is not [E] or [S, E] with values")
            }
            let length = array.shape.last!, rows = array.values.count / length
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
}

extension FeatureGrid.Scaling: ExpressibleByArgument {}
