import CPointwiseKernels

/// A network's stem convolution followed by the first block's depthwise convolution, with the
/// stem's map made a band of rows at a time (`DepthwiseBands`) and filtered while it is in L2,
/// instead of written whole and read back: EfficientNet-Lite0's stem writes 32×112×112, 1.6 MB.
/// The stem kernel computes each output row the same way whatever rows it is asked for, so the
/// result is bit-identical to the two layers, for any thread count.
struct StemDepthwise {
    /// The stem: a convolution on the stem kernel (few input channels).
    let stem: Conv2d
    /// The depthwise convolution, on the dedicated depthwise kernels.
    let depthwise: Conv2d

    /// The fused pair, or nil when it does not apply (a stem or depthwise convolution without its
    /// dedicated kernel, or channels that do not match).
    init?(stem: Conv2d, depthwise: Conv2d) {
        guard stem.runsStemKernel, DepthwiseBands.accepts(depthwise, channels: stem.outputChannels) else { return nil }
        self.stem = stem
        self.depthwise = depthwise
    }

    /// depthwise(stem(x)) into `output` (channels-last), with the fast kernels.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]` pictures, either layout.
    ///   - output: overwritten with `[N, C, H'', W'']`, channels-last (its storage reused when it fits).
    ///   - bandRows: output rows per band (nil: as many as `DepthwiseBands.budget` allows).
    ///   - measuresShare: whether to time the two parts (worker 0's bands).
    /// - Returns: with `measuresShare`, the stem's share (0…1) of the time, for a per-layer
    ///   breakdown; else 0.
    /// - Throws: `LayerError` when the input does not fit the layers.
    @discardableResult
    func forward(
        _ input: Tensor, into output: inout Tensor, options: ExecutionOptions, bandRows: Int? = nil,
        measuresShare: Bool = false
    ) throws(LayerError) -> Double {
        let threads = try Conv2d.validatedThreads(options)
        let stemGeometry = try stem.geometry(forInput: input.shape)
        let (cin, channels) = (stem.inputChannels, stem.outputChannels)
        let bands = try DepthwiseBands(depthwise: depthwise, channels: channels, height: stemGeometry.outputHeight,
                                       width: stemGeometry.outputWidth, bandRows: bandRows)
        let stemShape = stemGeometry.kernelGeometry(activation: stem.activation)
        let scratchFloats = withUnsafePointer(to: stemShape) { pw_stem_scratch_floats($0, cin) }
        let workers = Parallel.rowRangeWorkers(images: input.batchSize, rowsPerImage: bands.geometry.outputHeight,
                                               threads: threads)
        let scratch = UnsafeMutablePointer<Float>.allocateOnCacheLines(scratchFloats * workers)
        defer { scratch.deallocate() }
        let (source, kernels) = (input.pointer, options.kernels)
        let inputChannelsLast: Int32 = input.layout == .channelsLast ? 1 : 0
        let (image, rowFloats) = (cin * stemGeometry.height * stemGeometry.width, stemGeometry.outputWidth * channels)
        return try (stem.bias ?? []).withUnsafeBufferPointer { (bias) throws(LayerError) in
            let bias = stem.bias == nil ? nil : bias.baseAddress
            return try stem.stemWeights.withUnsafeBufferPointer { (weights) throws(LayerError) in
                try bands.run(images: input.batchSize, into: &output, threads: threads, kernels: kernels,
                              measuresShare: measuresShare) { worker, n, rows, destination in
                    // The kernel writes row r at y + r·rowFloats: y is where row 0 would be.
                    var shape = stemShape
                    kernels.table.pointee.stem_rows(
                        &shape, cin, channels, inputChannelsLast, 1, source + n * image, weights.baseAddress!, bias,
                        destination - rows.lowerBound * rowFloats, rows.lowerBound, rows.upperBound,
                        scratch + worker * scratchFloats)
                }
            }
        }
    }
}
