import CPointwiseKernels

/// An inverted residual block's 1×1 expansion followed by its depthwise convolution, channels-last,
/// computed a band of output rows at a time (`DepthwiseBands`) so that the expansion — the widest
/// activation of the block, 6× its input — never goes through memory: each band's expanded rows
/// are made by the GEMM into a buffer that stays in L2 and filtered by the depthwise kernel
/// straight away. The GEMM sums each pixel's channels in the same order whatever rows it is
/// given, so the result is bit-identical to the two layers, for any thread count.
///
/// In EfficientNet-Lite0 the expansions at 112×112 and 56×56 are 4.8 and 1.8 MB, written by
/// one layer and read back by the next from L3 or memory when unfused.
struct ExpandDepthwise {
    /// The expansion: a 1×1 convolution, stride 1, one group.
    let expand: Conv1x1
    /// The depthwise convolution, on the dedicated depthwise kernels.
    let depthwise: Conv2d

    /// The fused pair, or nil when it does not apply (a grouped or strided expansion, a
    /// depthwise convolution without a dedicated kernel); run the two layers then.
    init?(expand: Conv1x1, depthwise: Conv2d) {
        guard expand.groups == 1, expand.stride == 1, DepthwiseBands.accepts(depthwise, channels: expand.outputChannels)
        else { return nil }
        self.expand = expand
        self.depthwise = depthwise
    }

    /// depthwise(expand(x)) into `output` (channels-last), with the fast kernels.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, channels-last.
    ///   - output: overwritten with `[N, E, H', W']`, channels-last (its storage reused when it fits).
    ///   - bandRows: output rows per band (nil: as many as `DepthwiseBands.budget` allows).
    ///   - measuresShare: whether to time the two parts (worker 0's bands).
    /// - Returns: with `measuresShare`, the expansion's share (0…1) of the time, for a per-layer
    ///   breakdown; else 0.
    /// - Throws: `LayerError` when the input does not fit the layers.
    @discardableResult
    func forward(
        _ input: Tensor, into output: inout Tensor, options: ExecutionOptions, bandRows: Int? = nil,
        measuresShare: Bool = false
    ) throws(LayerError) -> Double {
        guard input.layout == .channelsLast, input.shape.count == 4, input.channels == expand.inputChannels else {
            throw .shape(role: "input", expected: "[N, \(expand.inputChannels), H, W] channels-last",
                         actual: input.shape)
        }
        let threads = try Conv2d.validatedThreads(options)
        let (cin, channels, height, width) = (expand.inputChannels, expand.outputChannels, input.shape[2], input.shape[3])
        let bands = try DepthwiseBands(depthwise: depthwise, channels: channels, height: height, width: width,
                                       bandRows: bandRows)
        let (source, packed, kernels) = (input.pointer, expand.packed[.forwardChannelsLast][0], options.kernels)
        return try (expand.bias ?? []).withUnsafeBufferPointer { (bias) throws(LayerError) in
            let epilogue = GemmEpilogue(bias: expand.bias == nil ? nil : bias.baseAddress, biasPerColumn: true,
                                        activation: expand.activation)
            return try bands.run(images: input.batchSize, into: &output, threads: threads, kernels: kernels,
                                 measuresShare: measuresShare) { _, n, rows, destination in
                let pixels = MatrixView(base: source + (n * height + rows.lowerBound) * width * cin, rowStride: cin,
                                        columnStride: 1)
                Gemm.run([GemmProblem(
                    m: rows.count * width, n: channels, k: cin, a: .view(pixels), b: .packed(packed),
                    c: destination, ldc: channels, epilogue: epilogue)], threads: 1, kernels: kernels)
            }
        }
    }
}
