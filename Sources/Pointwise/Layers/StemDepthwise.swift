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
        let g = bands.geometry
        do {
            try output.prepareOutput(shape: [input.batchSize, channels, g.outputHeight, g.outputWidth], layout: .channelsLast)
        } catch { throw .tensor(error) }
        let stemShape = stemGeometry.kernelGeometry(activation: stem.activation)
        let phaseFloats = withUnsafePointer(to: stemShape) { pw_stem_scratch_floats($0, cin) }
        let phases = UnsafeMutablePointer<Float>.allocateOnCacheLines(phaseFloats * max(1, threads))
        defer { phases.deallocate() }
        let (source, target, kernels) = (input.pointer, output.mutablePointer(), options.kernels)
        let inputChannelsLast: Int32 = input.layout == .channelsLast ? 1 : 0
        let rowFloats = stemGeometry.outputWidth * channels
        var share = 0.0
        (stem.bias ?? []).withUnsafeBufferPointer { stemBias in
            (depthwise.bias ?? []).withUnsafeBufferPointer { depthwiseBias in
                stem.stemWeights.withUnsafeBufferPointer { weights in
                    depthwise.depthwiseTaps.withUnsafeBufferPointer { taps in
                        let biases = (stem: stem.bias == nil ? nil : stemBias.baseAddress,
                                      depthwise: depthwise.bias == nil ? nil : depthwiseBias.baseAddress)
                        Parallel.forEachRowRange(images: input.batchSize, rowsPerImage: g.outputHeight, threads: threads) {
                            worker, n, rows in
                            let x = source + n * cin * stemGeometry.height * stemGeometry.width
                            let timed = worker == 0 && measuresShare
                            let measured = bands.filter(
                                rows, taps: taps.baseAddress!, bias: biases.depthwise,
                                output: target + n * g.outputPixels * channels, kernels: kernels, measuresShare: timed
                            ) { stemRows, destination in
                                // The kernel writes row r at y + r·rowFloats: y is where row 0 would be.
                                var shape = stemShape
                                kernels.table.pointee.stem_rows(
                                    &shape, cin, channels, inputChannelsLast, 1, x, weights.baseAddress!, biases.stem,
                                    destination - stemRows.lowerBound * rowFloats, stemRows.lowerBound,
                                    stemRows.upperBound, phases + worker * phaseFloats)
                            }
                            if timed { share = measured }
                        }
                    }
                }
            }
        }
        return share
    }
}
