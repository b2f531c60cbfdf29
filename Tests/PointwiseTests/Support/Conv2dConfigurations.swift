import Testing
@testable import Pointwise

/// Random Conv2d settings and inputs shared by the Conv2d and depthwise tests.
struct Conv2dConfiguration: CustomStringConvertible {
    var conv: Conv2d
    var inputShape: [Int]
    var layout: Layout

    var description: String {
        "Conv2d(\(conv.inputChannels)→\(conv.outputChannels), \(conv.kernelHeight)×\(conv.kernelWidth), stride "
            + "\(conv.stride), padding \(conv.padding), dilation \(conv.dilation), groups \(conv.groups), bias "
            + "\(conv.bias != nil), \(conv.activation)) on \(inputShape) \(layout)"
    }

    /// A random convolution and an input it fits: kernel 1–5, stride 1–3, padding symmetric,
    /// explicit or SAME, dilation 1–2, groups 1, 2 or depthwise; with `depthwise`, a convolution
    /// the depthwise kernels take (3×3 or 5×5, stride 1–2, dilation 1, groups = channels).
    static func random(
        depthwise: Bool, activations: [Activation] = Activation.allCases, using random: inout SplitMix64
    ) -> Conv2dConfiguration {
        func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        let kh = depthwise ? [3, 5].randomElement(using: &random)! : pick(1...5)
        let kw = depthwise ? kh : pick(1...5)
        let stride = depthwise ? pick(1...2) : pick(1...3)
        let dilation = depthwise ? 1 : pick(1...2)
        let padding: Conv2d.Padding
        switch pick(0...2) {
        case 0: padding = .symmetric(pick(0...2))
        case 1: padding = .explicit(top: pick(0...2), bottom: pick(0...2), left: pick(0...2), right: pick(0...2))
        default: padding = .same
        }
        let (cin, cout, groups): (Int, Int, Int)
        if depthwise {
            let c = pick(1...11)
            (cin, cout, groups) = (c, c, c)
        } else {
            switch pick(0...2) {
            case 0: (cin, cout, groups) = (pick(1...4), pick(1...5), 1)
            case 1: (cin, cout, groups) = (2 * pick(1...2), 2 * pick(1...3), 2)
            default:
                let c = pick(1...4)
                (cin, cout, groups) = (c, c, c)
            }
        }
        // Large enough for the dilated kernel in every padding; wide enough, sometimes, for
        // several vectors of outputs.
        let height = dilation * (kh - 1) + 1 + pick(0...6)
        let width = dilation * (kw - 1) + 1 + pick(0...(depthwise ? 20 : 6))
        let conv = try! Conv2d(
            inputChannels: cin, outputChannels: cout, kernelHeight: kh, kernelWidth: kw, stride: stride,
            padding: padding, dilation: dilation, groups: groups, bias: pick(0...1) == 1,
            activation: activations.randomElement(using: &random)!, seed: random.next())
        return Conv2dConfiguration(conv: conv, inputShape: [pick(1...2), cin, height, width],
                                   layout: Layout.allCases.randomElement(using: &random)!)
    }
}

extension TestSupport {
    /// Expects `observed` to equal `expected` within `relative` × max |expected|.
    static func expectClose(
        _ observed: Tensor, _ expected: Tensor, relative: Float = 1e-5, _ label: @autoclosure () -> String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let d = difference(observed, expected)
        #expect(withinTolerance(d, relative: relative),
                "\(label()): max error \(d.maxError), max |expected| \(d.scale), tolerance \(relative)×",
                sourceLocation: sourceLocation)
    }
}
