import CPointwiseKernels

/// Depthwise convolutions (one K×K filter per channel) on the dedicated C kernels:
/// 3×3 and 5×5, stride 1 or 2, dilation 1, any padding, in the registry's `depthwise_plane`
/// (channels-first, one plane at a time, copied into a zero-padded scratch so the inner loops
/// have no edges), `depthwise_group` (channels-first at stride 2 and on narrow planes: eight
/// planes at a time, interleaved into a zero-padded channels-last scratch) and `depthwise_rows`
/// (channels-last: eight channels per vector). These layers do about K² flops per element moved,
/// so they are memory-bound: the kernels read the input and write the output once. Every output
/// element is computed by the same operations whatever the thread count and whichever
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
        var shape = pw_depthwise_geometry(
            height: g.height, width: g.width, out_height: g.outputHeight, out_width: g.outputWidth,
            kernel: Int32(g.kernelHeight), stride: Int32(g.stride), pad_top: g.top, pad_left: g.left,
            activation: activation.kernelCode)
        let table = kernels.table, source = x.pointer, target = output.mutablePointer()
        let (channels, inputPlane, outputPlane) = (x.channels, g.height * g.width, g.outputPixels)
        switch x.layout {
        case .channelsFirst where pw_depthwise_groups(&shape) != 0:
            // Eight planes of one image at a time (the last group of an image may have fewer).
            let groupsPerImage = (channels + 7) / 8
            forEachShare(of: x.batchSize * groupsPerImage, threads: threads,
                         scratch: pw_depthwise_group_scratch_floats(&shape)) { group, scratch in
                var shape = shape
                let c = group % groupsPerImage * 8, plane = group / groupsPerImage * channels + c
                _ = table.pointee.depthwise_group(
                    &shape, min(8, channels - c), source + plane * inputPlane, weight + c * g.taps, bias.map { $0 + c },
                    target + plane * outputPlane, scratch)
            }
        case .channelsFirst:
            forEachShare(of: x.batchSize * channels, threads: threads, scratch: pw_depthwise_scratch_floats(&shape)) {
                plane, scratch in
                var shape = shape
                let c = plane % channels
                _ = table.pointee.depthwise_plane(
                    &shape, source + plane * inputPlane, weight + c * g.taps, bias?[c] ?? 0,
                    target + plane * outputPlane, scratch)
            }
        case .channelsLast:
            Parallel.forEachRowRange(images: x.batchSize, rowsPerImage: g.outputHeight, threads: threads) { _, n, rows in
                var shape = shape
                _ = table.pointee.depthwise_rows(
                    &shape, channels, source + n * inputPlane * channels, taps, bias,
                    target + n * outputPlane * channels, rows.lowerBound, rows.upperBound)
            }
        }
    }

    /// Runs `body` for each of `count` work items, the items shared out among up to `threads`
    /// workers in contiguous runs, each worker with its own scratch of `scratch` floats.
    private static func forEachShare(
        of count: Int, threads: Int, scratch: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void
    ) {
        let workers = max(1, min(threads, count))
        Parallel.forEach(workers) { worker in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            defer { buffer.deallocate() }
            for item in count * worker / workers..<count * (worker + 1) / workers { body(item, buffer) }
        }
    }
}
