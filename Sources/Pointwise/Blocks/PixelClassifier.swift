/// A dense, per-pixel prediction head: FCN's 1×1 score layer — Long, Shelhamer and Darrell, "Fully
/// Convolutional Networks for Semantic Segmentation", 2014, arXiv:1411.4038 — or SSD's 3×3 predictor
/// of class scores and box offsets for every anchor — Liu, Anguelov, Erhan, Szegedy, Reed, Fu and Berg,
/// "SSD: Single Shot MultiBox Detector", 2015, arXiv:1512.02325.
///
/// One convolution with bias and no activation (the scores are logits), padding (K − 1)/2 so every
/// input pixel gets its predictions. Keys: `conv.weight`, `conv.bias`.
///
/// ```swift
/// let fcn = try PixelClassifier.fcn(inputChannels: 4096, classes: 21)           // FCN-32s's score_fr
/// let ssd = try PixelClassifier.ssd(inputChannels: 512, classes: 21, anchors: 4) // SSD300 on conv4_3
/// let scores = try ssd(x)                                                       // [1, 512, 38, 38] → [1, 100, 38, 38]
/// ```
public struct PixelClassifier: Block {
    /// The one convolution.
    public var conv: Conv2d

    /// A head with `outputChannels` scores per pixel from a `kernelSize`×`kernelSize` convolution,
    /// initialised deterministically from `seed`.
    /// - Parameters:
    ///   - inputChannels: Cin ≥ 1.
    ///   - outputChannels: the scores per pixel, ≥ 1.
    ///   - kernelSize: odd (1 for FCN, 3 for SSD).
    ///   - seed: seeds the convolution.
    /// - Throws: `LayerError` for an even kernel or a count below 1.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, seed: UInt64 = 0) throws(LayerError) {
        guard kernelSize >= 1, kernelSize % 2 == 1 else {
            throw .setting(name: "kernelSize", value: "\(kernelSize)", expected: "odd and ≥ 1 (the output keeps H, W)")
        }
        conv = try Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                          padding: .symmetric(kernelSize / 2), seed: seed)
    }

    /// FCN's head: a 1×1 convolution to one score per class.
    /// - Throws: `LayerError` for a count below 1.
    public static func fcn(inputChannels: Int, classes: Int, seed: UInt64 = 0) throws(LayerError) -> PixelClassifier {
        try PixelClassifier(inputChannels: inputChannels, outputChannels: classes, kernelSize: 1, seed: seed)
    }

    /// SSD's head: a 3×3 convolution to `anchors` · (`classes` + 4) values per pixel — each anchor's
    /// class scores (background included, as SSD counts classes) and its four box offsets.
    /// - Throws: `LayerError` for a count below 1.
    public static func ssd(inputChannels: Int, classes: Int, anchors: Int, seed: UInt64 = 0) throws(LayerError) -> PixelClassifier {
        try PixelClassifier(inputChannels: inputChannels, outputChannels: anchors * (classes + 4), kernelSize: 3, seed: seed)
    }

    /// `conv.weight`, `conv.bias`.
    public var namedParameters: [NamedParameter] { conv.namedParameters("conv") }

    /// The scores of every pixel.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, either layout.
    ///   - options: implementation and threads of the convolution.
    /// - Returns: `[N, outputChannels, H, W]` in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, Cin, H, W]`.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        // x: [N, Cin, H, W]  →  y: [N, scores, H, W]
        try conv(input, options: options)
    }
}
