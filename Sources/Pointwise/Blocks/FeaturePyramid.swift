/// The Feature Pyramid Network neck: Lin, Dollár, Girshick, He, Hariharan and Belongie, "Feature Pyramid
/// Networks for Object Detection", 2016, arXiv:1612.03144; keys as torchvision's `FeaturePyramidNetwork`.
///
/// Lateral 1×1 convolutions (with bias) bring each backbone level C_i to one width; from the coarsest
/// level down, each lateral is added to the ×2 nearest-neighbour upsampling of the level above
/// (fused into the lateral convolution as its residual); a 3×3 convolution (padding 1, bias) smooths
/// each sum into P_i. Every level must be exactly twice the size of the next coarser one, so that
/// the upsampling lines up (80/40/20/10 for C3–C6 of a 640×640 image).
///
/// ```swift
/// let fpn = try FeaturePyramid(inputChannels: [512, 1024, 2048, 2048], outputChannels: 256)
/// let p = try fpn([c3, c4, c5, c6])      // C_i: [1, ·, 80, 80] … [1, ·, 10, 10] → P_i: [1, 256, 80, 80] …
/// ```
public struct FeaturePyramid: Block {
    /// `inner_blocks.i.0`: the lateral 1×1 convolutions, finest level first.
    public var lateral: [Conv1x1]
    /// `layer_blocks.i.0`: the 3×3 smoothing convolutions, finest level first.
    public var smooth: [Conv2d]

    /// A neck initialised deterministically from `seed` (PyTorch's default convolution initialisation).
    /// - Parameters:
    ///   - inputChannels: each level's channels, finest (C3) first; at least one level.
    ///   - outputChannels: the common width of P_i (256 in the paper).
    ///   - seed: seeds every convolution.
    /// - Throws: `LayerError` for no level or a channel count below 1.
    public init(inputChannels: [Int], outputChannels: Int = 256, seed: UInt64 = 0) throws(LayerError) {
        guard !inputChannels.isEmpty else {
            throw .setting(name: "inputChannels", value: "[]", expected: "at least one level")
        }
        var random = SplitMix64(seed: seed)
        lateral = []
        smooth = []
        for channels in inputChannels {
            lateral.append(try convolving { () throws(ConvolutionError) in
                try Conv1x1(inputChannels: channels, outputChannels: outputChannels, seed: random.next())
            })
            smooth.append(try Conv2d(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3,
                                     padding: .symmetric(1), seed: random.next()))
        }
    }

    /// `inner_blocks.0.0.weight`, `inner_blocks.0.0.bias`, … then `layer_blocks.0.0.weight`, …
    public var namedParameters: [NamedParameter] {
        lateral.enumerated().flatMap { $1.namedParameters("inner_blocks.\($0).0") }
            + smooth.enumerated().flatMap { $1.namedParameters("layer_blocks.\($0).0") }
    }

    /// P_i for every level.
    /// - Parameters:
    ///   - features: C_i, finest first, each `[N, inputChannels[i], H_i, W_i]` with H_i = 2·H_{i+1} and
    ///     W_i = 2·W_{i+1}, in any layouts.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: P_i, `[N, outputChannels, H_i, W_i]`, finest first, each in its C_i's layout.
    /// - Throws: `LayerError.shape` for a wrong number of levels, wrong channels, or sizes that do not halve
    ///   exactly from one level to the next.
    public func callAsFunction(_ features: [Tensor], options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> [Tensor] {
        // C_i: [N, Cin_i, H_i, W_i]  →  P_i: [N, Cout, H_i, W_i]
        guard features.count == lateral.count else {
            throw .shape(role: "features", expected: "\(lateral.count) levels", actual: features.map { $0.channels })
        }
        for (level, feature) in features.enumerated() {
            try feature.checkImage(channels: lateral[level].inputChannels, role: "level \(level) features")
            if level > 0 {
                let finer = features[level - 1].spatialShape
                guard feature.batchSize == features[0].batchSize, finer == feature.spatialShape.map({ 2 * $0 }) else {
                    throw .shape(role: "level \(level) features",
                                 expected: "[\(features[0].batchSize), \(feature.channels), \(finer[0]) / 2, \(finer[1]) / 2] "
                                     + "(half the finer level, so that ×2 upsampling lines up)",
                                 actual: feature.shape)
                }
            }
        }
        var merged = [Tensor](repeating: Tensor.empty, count: features.count)
        for level in features.indices.reversed() {
            let above = level + 1 < features.count
                ? try Upsample(scaleFactor: 2)(merged[level + 1]).converted(to: features[level].layout) : nil
            merged[level] = try convolving { () throws(ConvolutionError) in
                try lateral[level](features[level], residual: above, options: options)
            }
        }
        var outputs: [Tensor] = []
        for (level, inner) in merged.enumerated() { outputs.append(try smooth[level](inner, options: options)) }
        return outputs
    }
}
