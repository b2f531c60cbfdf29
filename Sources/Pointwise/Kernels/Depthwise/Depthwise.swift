import CPointwiseKernels

/// Depthwise convolutions (one K×K filter per channel) on the dedicated C kernels: 3×3 and 5×5,
/// stride 1 or 2, dilation 1, any padding, in the registry's `depthwise_planes` (channels-first,
/// one plane at a time, copied into a zero-padded scratch so the inner loops have no edges),
/// `depthwise_group` (channels-first at stride 2 and on narrow planes: eight planes at a time,
/// sixteen in the AVX-512 family, interleaved into a zero-padded channels-last scratch) and
/// `depthwise_rows` (channels-last: eight channels per vector, sixteen in the AVX-512 family).
/// Threads take bands of output rows in either layout. These layers do about K² flops per element
/// moved, so they are memory-bound: the kernels read the input and write the output once. Every
/// output element is computed by the same operations whatever the thread count and whichever
/// channels-first kernel runs, so results are bit-identical for any count.
enum Depthwise {
    /// Whether the kernels handle this convolution.
    static func supports(kernelHeight: Int, kernelWidth: Int, stride: Int, dilation: Int) -> Bool {
        kernelHeight == kernelWidth && (kernelHeight == 3 || kernelHeight == 5) && (stride == 1 || stride == 2)
            && dilation == 1
    }

    // x: [N, C, H, W]  w: [C, 1, K, K]  →  y: [N, C, H', W'], same layout.
    /// - Parameters:
    ///   - weight: `[C, K·K]`, for channels-first.
    ///   - taps: `[K·K, C]`, for channels-last.
    ///   - bias: C values or nil.
    static func forward(
        _ x: Tensor, geometry g: Conv2dGeometry, weight: UnsafePointer<Float>, taps: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, activation: Activation, into output: inout Tensor, threads: Int,
        kernels: KernelConfig
    ) {
        var shape = g.kernelGeometry(activation: activation)
        let table = kernels.table, source = x.pointer, target = output.mutablePointer()
        let (channels, inputPlane, outputPlane) = (x.channels, g.height * g.width, g.outputPixels)
        switch x.layout {
        case .channelsFirst:
            // Bands of output rows, every channel in each, as the 1×1 convolutions around it share
            // out pixels: every thread gets work even when an image has fewer groups of eight
            // planes than there are threads, and a thread reads mostly rows that it wrote itself
            // as the previous layer's share. (Inside EfficientNet-Lite0 on 2 Zen 3 cores the
            // depthwise layers took 1.51 ms in bands against 1.505 ms in shares of planes, medians
            // of 8 interleaved runs: no faster there, but no slower.)
            let grouped = pw_depthwise_groups(&shape) != 0
            // 8 or 16 planes at a time for the group kernel (`depthwise_group_planes`); every
            // channel in one call otherwise, which zeroes its scratch's padding once.
            let channelStep = grouped ? Int(table.pointee.depthwise_group_planes) : channels
            Parallel.forEachRowRange(images: x.batchSize, rowsPerImage: g.outputHeight, threads: threads) { _, n, rows in
                var (band, firstInputRow) = Self.band(of: shape, rows: rows)
                let floats = grouped ? pw_depthwise_group_scratch_floats(&band) : pw_depthwise_scratch_floats(&band)
                let scratch = UnsafeMutablePointer<Float>.allocateOnCacheLines(floats)
                defer { scratch.deallocate() }
                let input = source + n * channels * inputPlane + firstInputRow * g.width
                let output = target + n * channels * outputPlane + rows.lowerBound * g.outputWidth
                let kernel = (grouped ? table.pointee.depthwise_group : table.pointee.depthwise_planes)!
                for c in stride(from: 0, to: channels, by: channelStep) {
                    _ = kernel(
                        &band, min(channelStep, channels - c), input + c * inputPlane, inputPlane, weight + c * g.taps,
                        bias.map { $0 + c }, output + c * outputPlane, outputPlane, scratch)
                }
            }
        case .channelsLast:
            Parallel.forEachRowRange(images: x.batchSize, rowsPerImage: g.outputHeight, threads: threads) { _, n, rows in
                var shape = shape
                let floats = pw_depthwise_rows_scratch_floats(&shape, channels, rows.count)
                let scratch = floats > 0 ? UnsafeMutablePointer<Float>.allocate(capacity: floats) : nil
                defer { scratch?.deallocate() }
                _ = table.pointee.depthwise_rows(
                    &shape, channels, source + n * inputPlane * channels, taps, bias,
                    target + n * outputPlane * channels, rows.lowerBound, rows.upperBound, scratch)
            }
        }
    }

    /// The geometry of output rows `rows` of a channels-first plane of geometry `shape`, as a
    /// plane of its own that starts at input row `firstInputRow` (`pw_depthwise_band`, which the
    /// group kernel's own bands use too).
    static func band(
        of shape: pw_depthwise_geometry, rows: Range<Int>
    ) -> (geometry: pw_depthwise_geometry, firstInputRow: Int) {
        var (shape, firstInputRow) = (shape, 0)
        let band = pw_depthwise_band(&shape, rows.lowerBound, rows.count, &firstInputRow)
        return (band, firstInputRow)
    }
}

extension Conv2dGeometry {
    /// This geometry as the depthwise and stem kernels take it (square kernels, dilation 1),
    /// with the activation they finish each output with.
    func kernelGeometry(activation: Activation) -> pw_depthwise_geometry {
        pw_depthwise_geometry(
            height: height, width: width, out_height: outputHeight, out_width: outputWidth,
            kernel: Int32(kernelHeight), stride: Int32(stride), pad_top: top, pad_left: left,
            activation: activation.kernelCode)
    }
}
