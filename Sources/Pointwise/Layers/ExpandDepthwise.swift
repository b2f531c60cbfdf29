import CPointwiseKernels
import Foundation

/// An inverted residual block's 1×1 expansion followed by its depthwise convolution, channels-last,
/// computed a band of output rows at a time so that the expansion — the widest activation of the
/// block, 6× its input — never goes through memory: each band's expanded rows are made by the
/// GEMM into a buffer that stays in L2 and filtered by the depthwise kernel straight away. The
/// rows that consecutive bands share (K − S of them) are moved to the buffer's start rather than
/// made again. Every output element gets the operations of the two layers run one after the other
/// (the GEMM sums each pixel's channels in the same order whatever rows it is given, the depthwise
/// kernel each window's taps), so the result is bit-identical to them, for any thread count:
/// threads take bands of output rows, each with a buffer of its own (the few expanded rows at a
/// boundary are made by both).
///
/// In EfficientNet-Lite0 the expansions at 112×112 and 56×56 are 4.8 and 1.8 MB, written by
/// one layer and read back by the next from L3 or memory when unfused.
struct ExpandDepthwise {
    /// The expansion: a 1×1 convolution, stride 1, one group.
    let expand: Conv1x1
    /// The depthwise convolution, on the dedicated depthwise kernels.
    let depthwise: Conv2d

    /// Bytes of expanded rows a band keeps: about half of a Zen 3 core's 512 KiB L2, leaving room
    /// for the band's input and output rows.
    static let bandBudget = 256 << 10

    /// The fused pair, or nil when it does not apply (a grouped or strided expansion, a
    /// depthwise convolution without a dedicated kernel); run the two layers then.
    init?(expand: Conv1x1, depthwise: Conv2d) {
        guard expand.groups == 1, expand.stride == 1, depthwise.isDepthwise,
              depthwise.inputChannels == expand.outputChannels,
              Depthwise.supports(kernelHeight: depthwise.kernelHeight, kernelWidth: depthwise.kernelWidth,
                                 stride: depthwise.stride, dilation: depthwise.dilation)
        else { return nil }
        self.expand = expand
        self.depthwise = depthwise
    }

    /// Output rows per band for `geometry`: as many as keep their expanded rows within
    /// `bandBudget`, at least one.
    static func bandRows(_ g: Conv2dGeometry, channels: Int) -> Int {
        let rowBytes = g.width * channels * MemoryLayout<Float>.stride
        let inputRows = max(g.kernelHeight, bandBudget / max(1, rowBytes))
        return max(1, min(g.outputHeight, (inputRows - g.kernelHeight) / g.stride + 1))
    }

    /// depthwise(expand(x)) into `output` (channels-last), with the fast kernels.
    /// - Parameters:
    ///   - input: `[N, Cin, H, W]`, channels-last.
    ///   - output: overwritten with `[N, E, H', W']`, channels-last (its storage reused when it fits).
    ///   - bandRows: output rows per band (nil: as many as `bandBudget` allows).
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
        let (cin, channels) = (expand.inputChannels, expand.outputChannels)
        let g = try depthwise.geometry(forInput: [input.batchSize, channels, input.shape[2], input.shape[3]])
        let outputShape = [input.batchSize, channels, g.outputHeight, g.outputWidth]
        do { try output.prepareOutput(shape: outputShape, layout: .channelsLast) } catch { throw .tensor(error) }
        let shape = g.kernelGeometry(activation: depthwise.activation)
        let band = max(1, bandRows ?? Self.bandRows(g, channels: channels))
        let (source, target) = (input.pointer, output.mutablePointer())
        let (inputImage, outputImage) = (g.height * g.width * cin, g.outputPixels * channels)
        var share = 0.0
        (expand.bias ?? []).withUnsafeBufferPointer { expandBias in
            (depthwise.bias ?? []).withUnsafeBufferPointer { depthwiseBias in
                depthwise.depthwiseTaps.withUnsafeBufferPointer { taps in
                    let operands = Operands(
                        expandBias: expand.bias == nil ? nil : expandBias.baseAddress, taps: taps.baseAddress!,
                        depthwiseBias: depthwise.bias == nil ? nil : depthwiseBias.baseAddress,
                        kernels: options.kernels)
                    let (images, height) = (input.batchSize, g.outputHeight)
                    Parallel.forEachRowRange(images: images, rowsPerImage: height, threads: threads) { worker, n, rows in
                        let timed = worker == 0 && measuresShare
                        let measured = filter(rows, of: g, shape, band: band, input: source + n * inputImage,
                                              output: target + n * outputImage, operands, measuresShare: timed)
                        if timed { share = measured }
                    }
                }
            }
        }
        return share
    }

    /// What the bands of every worker read besides the images.
    private struct Operands {
        let expandBias: UnsafePointer<Float>?
        let taps: UnsafePointer<Float>
        let depthwiseBias: UnsafePointer<Float>?
        let kernels: KernelConfig
    }

    /// Output rows `rows` of one image, a band of `band` rows at a time: each band's expanded
    /// input rows go into a buffer of their own (the rows it shares with the band before kept),
    /// then through the depthwise kernel. Returns the expansion's share of the time when
    /// `measuresShare`, else 0.
    private func filter(
        _ rows: Range<Int>, of g: Conv2dGeometry, _ shape: pw_depthwise_geometry, band: Int,
        input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, _ operands: Operands, measuresShare: Bool
    ) -> Double {
        let (cin, channels) = (expand.inputChannels, expand.outputChannels)
        let rowFloats = g.width * channels
        let buffer = UnsafeMutablePointer<Float>.allocateOnCacheLines(
            min(g.height, (band - 1) * g.stride + g.kernelHeight) * rowFloats)
        var whole = shape
        let scratchFloats = pw_depthwise_rows_scratch_floats(&whole, channels, band)
        let scratch = scratchFloats > 0 ? UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats) : nil
        defer { buffer.deallocate(); scratch?.deallocate() }
        let epilogue = GemmEpilogue(bias: operands.expandBias, biasPerColumn: true, activation: expand.activation)
        let packed = expand.packed[.forwardChannelsLast][0]
        var held = 0..<0  // the input rows whose expansion the buffer holds, from its start
        var (expanding, filtering) = (0.0, 0.0)
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: band) {
            let count = min(band, rows.upperBound - first)
            var (geometry, firstRow) = Depthwise.band(of: shape, rows: first..<first + count)
            let needed = firstRow..<min(g.height, (first + count - 1) * g.stride - g.top + g.kernelHeight)
            let start = measuresShare ? EfficientNetLite.now() : 0
            // Keep the rows this band shares with the last, then expand the rest after them.
            let kept = held.clamped(to: needed)
            if !kept.isEmpty, kept.lowerBound > held.lowerBound {
                memmove(buffer, buffer + (kept.lowerBound - held.lowerBound) * rowFloats,
                        kept.count * rowFloats * MemoryLayout<Float>.stride)
            }
            let fresh = (kept.isEmpty ? needed.lowerBound : kept.upperBound)..<needed.upperBound
            if !fresh.isEmpty {
                let pixels = MatrixView(base: x + fresh.lowerBound * g.width * cin, rowStride: cin, columnStride: 1)
                Gemm.run([GemmProblem(
                    m: fresh.count * g.width, n: channels, k: cin, a: .view(pixels), b: .packed(packed),
                    c: buffer + (fresh.lowerBound - needed.lowerBound) * rowFloats, ldc: channels, epilogue: epilogue)],
                    threads: 1, kernels: operands.kernels)
            }
            held = needed
            let middle = measuresShare ? EfficientNetLite.now() : 0
            _ = operands.kernels.table.pointee.depthwise_rows(
                &geometry, channels, buffer, operands.taps, operands.depthwiseBias,
                y + first * g.outputWidth * channels, 0, count, scratch)
            if measuresShare {
                expanding += middle - start
                filtering += EfficientNetLite.now() - middle
            }
        }
        return measuresShare ? expanding / max(1e-12, expanding + filtering) : 0
    }
}
