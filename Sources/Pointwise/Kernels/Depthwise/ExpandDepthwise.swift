import CPointwiseKernels

/// An inverted-residual block's expansion (1×1, Cin → E channels) and depthwise convolution (3×3
/// or 5×5, stride 1 or 2) run together, channels-first, one band of output rows at a time: each band
/// expands only the input rows its depthwise outputs read, into a buffer of about `bandBytes` that
/// stays in cache, and filters its E planes from there. The expanded activation — a block's
/// largest, 4.8 MB in EfficientNet-Lite0's second block at 112×112 — is then never written to
/// memory whole and read back. Rows two bands share are expanded twice (a few percent more
/// multiply-adds with bands this size). Every element gets exactly the operations of the two layers
/// run one after the other, so the result is bit-identical to them, for any thread count.
enum ExpandDepthwise {
    /// The expanded rows a band holds, in bytes: a quarter of a Zen 3 core's 512 KiB L2 per band
    /// costed too many recomputed rows, 1 MiB measured best in EfficientNet-Lite0 (see README).
    static let bandBytes = 1 << 20

    /// Whether `expand` then `depthwise` can run fused on `input`: channels-first `[N, Cin, H, W]`,
    /// an ungrouped stride-1 expansion and a depthwise convolution the kernels handle.
    static func supports(expand: Conv1x1, depthwise: Conv2d, input: Tensor) -> Bool {
        input.layout == .channelsFirst && input.shape.count == 4 && input.channels == expand.inputChannels
            && expand.groups == 1 && expand.stride == 1
            && depthwise.isDepthwise && depthwise.inputChannels == expand.outputChannels
            && Depthwise.supports(kernelHeight: depthwise.kernelHeight, kernelWidth: depthwise.kernelWidth,
                                  stride: depthwise.stride, dilation: depthwise.dilation)
    }

    /// Whether fusing pays: the expanded activation of one image spans at least two bands (a smaller
    /// one stays in cache between the two layers anyway).
    static func pays(expand: Conv1x1, input: Tensor) -> Bool {
        expand.outputChannels * input.pixelsPerImage * 4 >= 2 * bandBytes
    }

    /// `depthwise(expand(x))` into `output`, in bands of about `bandBytes` of expanded rows
    /// (`supports` must hold).
    /// - Throws: `LayerError` when the input does not fit the layers or the options are invalid.
    static func forward(
        _ x: Tensor, expand: Conv1x1, depthwise: Conv2d, into output: inout Tensor, options: ExecutionOptions,
        bandBytes: Int = bandBytes
    ) throws(LayerError) {
        precondition(supports(expand: expand, depthwise: depthwise, input: x), "ExpandDepthwise on an unsupported pair")
        let threads: Int
        do { threads = try options.validatedThreads() } catch { throw .convolution(error) }
        let (images, cin, height, width) = (x.batchSize, x.channels, x.shape[2], x.shape[3])
        let expanded = expand.outputChannels
        let g = try depthwise.geometry(forInput: [images, expanded, height, width])
        do {
            try output.prepareOutput(shape: [images, expanded, g.outputHeight, g.outputWidth], layout: .channelsFirst)
        } catch { throw .tensor(error) }
        let (kernel, stride, top) = (g.kernelHeight, g.stride, g.top)
        // Output rows per band: as many as fit their input rows in bandBytes, at least one.
        let bandInputRows = max(kernel, bandBytes / (expanded * width * 4))
        let rowsPerBand = max(1, (bandInputRows - kernel) / stride + 1)
        let bandsPerImage = (g.outputHeight + rowsPerBand - 1) / rowsPerBand
        let bands = images * bandsPerImage, workers = max(1, min(threads, bands))
        let maxInputRows = (rowsPerBand - 1) * stride + kernel
        var widest = pw_depthwise_geometry(
            height: maxInputRows, width: width, out_height: rowsPerBand, out_width: g.outputWidth,
            kernel: Int32(kernel), stride: Int32(stride), pad_top: top, pad_left: g.left,
            activation: depthwise.activation.kernelCode)
        let planeScratch = pw_depthwise_scratch_floats(&widest)
        let source = x.pointer, target = output.mutablePointer(), table = options.kernels.table
        let packedExpansion = expand.packed[.forwardChannelsFirst][0]
        let (outputPlane, inputPlane) = (g.outputPixels, height * width)
        let expandBias = expand.bias ?? [], filterBias = depthwise.bias ?? []
        expandBias.withUnsafeBufferPointer { expandBiasBuffer in
            filterBias.withUnsafeBufferPointer { filterBiasBuffer in
                Parallel.forEach(workers) { worker in
                    let band = UnsafeMutablePointer<Float>.allocate(capacity: expanded * maxInputRows * width)
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: planeScratch)
                    defer { band.deallocate(); scratch.deallocate() }
                    for index in bands * worker / workers..<bands * (worker + 1) / workers {
                        let (n, first) = (index / bandsPerImage, index % bandsPerImage * rowsPerBand)
                        let end = min(first + rowsPerBand, g.outputHeight)
                        // Input rows [low, high) hold every row outputs first..<end read inside the image.
                        let low = max(0, first * stride - top), high = min(height, (end - 1) * stride - top + kernel)
                        let rows = max(0, high - low)
                        if rows > 0 {
                            // band[E][rows·W] = act(W · x[n][:, low..<high] + bias)
                            let problem = GemmProblem(
                                m: expanded, n: rows * width, k: cin, a: .packed(packedExpansion),
                                b: .view(MatrixView(base: source + n * cin * inputPlane + low * width,
                                                    rowStride: inputPlane, columnStride: 1)),
                                c: band, ldc: rows * width,
                                epilogue: GemmEpilogue(bias: expand.bias == nil ? nil : expandBiasBuffer.baseAddress,
                                                       activation: expand.activation))
                            Gemm.run([problem], threads: 1, kernels: options.kernels)
                        }
                        // The band as a plane of `rows` rows whose row 0 is input row `low`.
                        var shape = pw_depthwise_geometry(
                            height: rows, width: width, out_height: end - first, out_width: g.outputWidth,
                            kernel: Int32(kernel), stride: Int32(stride), pad_top: low - (first * stride - top),
                            pad_left: g.left, activation: depthwise.activation.kernelCode)
                        for c in 0..<expanded {
                            _ = table.pointee.depthwise_plane(
                                &shape, band + c * rows * width, depthwise.weight.pointer + c * kernel * kernel,
                                depthwise.bias == nil ? 0 : filterBiasBuffer[c],
                                target + (n * expanded + c) * outputPlane + first * g.outputWidth, scratch)
                        }
                    }
                }
            }
        }
    }
}
