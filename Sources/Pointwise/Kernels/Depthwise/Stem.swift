import CPointwiseKernels

/// Dense convolutions of images with few input channels — a network's stem, e.g. EfficientNet's 3×3
/// stride-2 conv 3→32 — on the registry's `stem_rows` kernel: each output row's input rows are held
/// in L1, split into their stride phases (where every tap of consecutive output pixels is a run of
/// consecutive floats) or, for an RGB stem at stride 2 writing channels-last, only copied and read
/// with a stride; 6 output channels × 16 pixels (channels-first) or 6 pixels × 16 channels
/// (channels-last), 32 of them with AVX-512, are accumulated in registers over the taps — instead
/// of im2col writing the whole patch matrix through memory for the GEMM to read back. The input's
/// layout and the output's are independent. Every output element gets the same operations whatever
/// the thread count, so results are bit-identical for any count.
enum Stem {
    /// Whether the kernel handles this convolution (either layout).
    static func supports(inputChannels: Int, groups: Int, dilation: Int) -> Bool {
        groups == 1 && inputChannels <= 4 && dilation == 1
    }

    /// The weights `[Cout, Cin·K·K]` (PyTorch's order) as the kernel reads them, tap-major:
    /// `[Cin·K·K][⌈Cout/32⌉·32]`, zeros after `Cout`, so that the kernel loads whole vectors.
    static func pack(_ weight: [Float], outputChannels: Int) -> [Float] {
        let taps = weight.count / outputChannels, stride = pw_stem_weight_stride(outputChannels)
        var packed = [Float](repeating: 0, count: taps * stride)
        for o in 0..<outputChannels {
            for t in 0..<taps { packed[t * stride + o] = weight[o * taps + t] }
        }
        return packed
    }

    // x: [N, Cin, H, W], w: [Cin·K·K][⌈Cout/32⌉·32] → y: [N, Cout, H', W'], each in its own layout.
    static func forward(
        _ x: Tensor, geometry g: Conv2dGeometry, packedWeight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: Activation, into output: inout Tensor, threads: Int, kernels: KernelConfig
    ) {
        let shape = g.kernelGeometry(activation: activation)
        let table = kernels.table, source = x.pointer, target = output.mutablePointer()
        let (cin, cout) = (x.channels, output.channels)
        let (inputChannelsLast, outputChannelsLast): (Int32, Int32) =
            (x.layout == .channelsLast ? 1 : 0, output.layout == .channelsLast ? 1 : 0)
        let scratch = withUnsafePointer(to: shape) { pw_stem_scratch_floats($0, cin) }
        let workers = Parallel.rowRangeWorkers(images: x.batchSize, rowsPerImage: g.outputHeight, threads: threads)
        let rings = UnsafeMutablePointer<Float>.allocate(capacity: scratch * workers)
        defer { rings.deallocate() }
        Parallel.forEachRowRange(images: x.batchSize, rowsPerImage: g.outputHeight, threads: threads) { worker, n, rows in
            var shape = shape
            table.pointee.stem_rows(
                &shape, cin, cout, inputChannelsLast, outputChannelsLast, source + n * cin * g.height * g.width,
                packedWeight, bias, target + n * cout * g.outputPixels, rows.lowerBound, rows.upperBound,
                rings + worker * scratch)
        }
    }
}
