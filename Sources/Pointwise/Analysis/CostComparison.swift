/// One convolution of a comparison, described by its shape alone (no weights needed to count it).
public struct ConvolutionSpec: Sendable, Equatable {
    /// Cin.
    public var inputChannels: Int
    /// Cout.
    public var outputChannels: Int
    /// K, the square kernel's side.
    public var kernel: Int
    /// The stride ("same" padding).
    public var stride: Int
    /// Channel groups.
    public var groups: Int
    /// The input's H and W.
    public var height: Int, width: Int

    /// A convolution spec; `groups: inputChannels` makes it depthwise.
    public init(_ inputChannels: Int, _ outputChannels: Int, kernel: Int = 1, stride: Int = 1, groups: Int = 1,
                height: Int, width: Int) {
        (self.inputChannels, self.outputChannels, self.kernel, self.stride, self.groups) =
            (inputChannels, outputChannels, kernel, stride, groups)
        (self.height, self.width) = (height, width)
    }

    /// Its cost at batch 1, without bias.
    public var cost: LayerCost {
        .convolution(inputChannels: inputChannels, outputChannels: outputChannels, kernel: kernel, stride: stride,
                     groups: groups, height: height, width: width)
    }

    /// The spec's output size.
    var outputSize: (height: Int, width: Int) { ((height + stride - 1) / stride, (width + stride - 1) / stride) }
}

/// Two or more ways to do the same job, costed side by side: the articles' arguments for 1×1
/// convolutions, with numbers.
public struct CostComparison: Sendable {
    /// One way: a sequence of convolutions.
    public struct Alternative: Sendable {
        /// What it is, e.g. `bottleneck 1×1 → 3×3 → 1×1`.
        public var name: String
        /// Its convolutions, in order.
        public var layers: [ConvolutionSpec]
        /// The total cost.
        public var cost: LayerCost { .sequence(name, layers.map(\.cost)) }
    }

    /// The comparison's title.
    public var title: String
    /// What the numbers show, in a sentence.
    public var claim: String
    /// The alternatives; the first is the baseline the others are compared with.
    public var alternatives: [Alternative]

    /// `baseline / alternative` for parameters and multiply-adds.
    public func savings(of alternative: Alternative) -> (parameters: Double, multiplyAdds: Double) {
        let base = alternatives[0].cost, other = alternative.cost
        return (Double(base.parameters) / Double(max(other.parameters, 1)),
                Double(base.multiplyAdds) / Double(max(other.multiplyAdds, 1)))
    }
}

extension CostComparison {
    /// The comparisons the source articles make, on the layer sizes they talk about.
    public static let articles: [CostComparison] = [bottleneck, inception, featurePyramid, depthwiseSeparable]

    /// ResNet's bottleneck: a 3×3 convolution on 512 channels, or 1×1 down to 64, 3×3, 1×1 back up.
    public static let bottleneck = CostComparison(
        title: "ResNet bottleneck, 512 channels at 28×28",
        claim: "Squeezing to 64 channels with a 1×1 convolution before the 3×3 and expanding after it "
            + "needs 23× fewer parameters and multiply-adds than a 3×3 convolution on all 512.",
        alternatives: [
            Alternative(name: "3×3 conv 512→512", layers: [ConvolutionSpec(512, 512, kernel: 3, height: 28, width: 28)]),
            Alternative(name: "bottleneck 1×1 512→64, 3×3 64→64, 1×1 64→512", layers: [
                ConvolutionSpec(512, 64, height: 28, width: 28), ConvolutionSpec(64, 64, kernel: 3, height: 28, width: 28),
                ConvolutionSpec(64, 512, height: 28, width: 28),
            ]),
        ])

    /// GoogLeNet's Inception (3a) 5×5 branch, with and without the 1×1 reduction.
    public static let inception = CostComparison(
        title: "GoogLeNet Inception (3a) 5×5 branch, 192 channels at 28×28",
        claim: "Reducing 192 channels to 16 with a 1×1 convolution before the 5×5 cuts the branch's "
            + "multiply-adds about tenfold.",
        alternatives: [
            Alternative(name: "5×5 conv 192→32", layers: [ConvolutionSpec(192, 32, kernel: 5, height: 28, width: 28)]),
            Alternative(name: "1×1 192→16, then 5×5 16→32", layers: [
                ConvolutionSpec(192, 16, height: 28, width: 28), ConvolutionSpec(16, 32, kernel: 5, height: 28, width: 28),
            ]),
        ])

    /// FPN's lateral connections: C3–C6 aligned to 256 channels by 1×1 convolutions.
    public static let featurePyramid = CostComparison(
        title: "FPN lateral alignment, C3–C6 (256/512/1024/2048 channels at 80/40/20/10) → 256",
        claim: "1×1 laterals bring every level to 256 channels for a ninth of what 3×3 laterals would cost; "
            + "each deeper level costs half the one before (twice the channels on a quarter of the positions), "
            + "while its weights double.",
        alternatives: [
            Alternative(name: "3×3 laterals", layers: [(256, 80), (512, 40), (1024, 20), (2048, 10)].map {
                ConvolutionSpec($0.0, 256, kernel: 3, height: $0.1, width: $0.1)
            }),
            Alternative(name: "1×1 laterals", layers: [(256, 80), (512, 40), (1024, 20), (2048, 10)].map {
                ConvolutionSpec($0.0, 256, height: $0.1, width: $0.1)
            }),
        ])

    /// MobileNet's depthwise-separable convolution against a standard 3×3 convolution.
    public static let depthwiseSeparable = CostComparison(
        title: "MobileNet depthwise-separable vs standard 3×3, 512 channels at 14×14",
        claim: "A 3×3 depthwise convolution followed by a 1×1 pointwise one costs 1/Cout + 1/9 "
            + "(= 0.113 for Cout = 512) of a standard 3×3 convolution.",
        alternatives: [
            Alternative(name: "3×3 conv 512→512", layers: [ConvolutionSpec(512, 512, kernel: 3, height: 14, width: 14)]),
            Alternative(name: "3×3 depthwise 512, then 1×1 512→512", layers: [
                ConvolutionSpec(512, 512, kernel: 3, groups: 512, height: 14, width: 14),
                ConvolutionSpec(512, 512, height: 14, width: 14),
            ]),
        ])
}
