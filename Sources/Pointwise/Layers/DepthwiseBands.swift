import CPointwiseKernels
import Foundation

/// A channels-last depthwise convolution whose input is made as it goes, a band of output rows at
/// a time: each band's input rows are written by a producer (a block's 1×1 expansion, or the
/// network's stem) into a buffer that stays in L2 and filtered by the depthwise kernel straight
/// away, so that the map between the two never goes through memory. The rows consecutive bands
/// share (K − S of them) are moved to the buffer's start rather than made again. The shared loop
/// of `ExpandDepthwise` and `StemDepthwise`.
///
/// The producer makes each row the way it would as a layer of its own, and the depthwise kernel
/// filters each window the same way whatever rows it is given, so the result is bit-identical to
/// the two layers run one after the other. Threads take ranges of output rows, each with buffers
/// of its own (the few rows at a boundary are made by both).
struct DepthwiseBands {
    /// Bytes of input rows a band keeps: about half of a Zen 3 core's 512 KiB L2, leaving room
    /// for the band's other reads and its output rows.
    static let budget = 256 << 10

    /// The depthwise convolution, on the dedicated depthwise kernels.
    let depthwise: Conv2d
    /// Its geometry on the produced map.
    let geometry: Conv2dGeometry
    /// The same, as the kernels take it, with the depthwise activation.
    let shape: pw_depthwise_geometry
    /// The map's channels (the depthwise convolution's).
    let channels: Int
    /// Output rows per band.
    let band: Int

    /// Whether `depthwise` can filter a produced map of `channels` channels in bands: a depthwise
    /// convolution of those channels on the dedicated kernels.
    static func accepts(_ depthwise: Conv2d, channels: Int) -> Bool {
        depthwise.isDepthwise && depthwise.inputChannels == channels
            && Depthwise.supports(kernelHeight: depthwise.kernelHeight, kernelWidth: depthwise.kernelWidth,
                                  stride: depthwise.stride, dilation: depthwise.dilation)
    }

    /// The bands of `depthwise` over a produced map of `channels`×`height`×`width`, `bandRows`
    /// output rows each (nil: as many as `budget` allows).
    init(depthwise: Conv2d, channels: Int, height: Int, width: Int, bandRows: Int?) throws(LayerError) {
        self.depthwise = depthwise
        geometry = try depthwise.geometry(forInput: [1, channels, height, width])
        shape = geometry.kernelGeometry(activation: depthwise.activation)
        self.channels = channels
        band = max(1, bandRows ?? Self.bandRows(geometry, channels: channels))
    }

    /// Output rows per band for `geometry`: as many as keep their input rows within `budget`, at
    /// least one.
    static func bandRows(_ g: Conv2dGeometry, channels: Int) -> Int {
        let rowBytes = g.width * channels * MemoryLayout<Float>.stride
        let inputRows = max(g.kernelHeight, budget / max(1, rowBytes))
        return max(1, min(g.outputHeight, (inputRows - g.kernelHeight) / g.stride + 1))
    }

    /// The depthwise output of `images` produced maps into `output`, overwritten with
    /// `[images, C, H', W']` channels-last (its storage reused when it fits), the output rows
    /// shared among `threads` workers: `produce(worker, image, inputRows, destination)` writes
    /// that image's map rows `inputRows` (channels-last, the first at `destination`) on behalf of
    /// `worker`, one band at a time.
    /// - Returns: with `measuresShare`, the producer's share (0…1) of worker 0's time, for a
    ///   per-layer breakdown; else 0.
    func run(
        images: Int, into output: inout Tensor, threads: Int, kernels: KernelConfig, measuresShare: Bool,
        produce: (_ worker: Int, _ image: Int, _ rows: Range<Int>, _ destination: UnsafeMutablePointer<Float>) -> Void
    ) throws(LayerError) -> Double {
        let g = geometry
        do {
            try output.prepareOutput(shape: [images, channels, g.outputHeight, g.outputWidth], layout: .channelsLast)
        } catch { throw .tensor(error) }
        let target = output.mutablePointer()
        var share = 0.0
        (depthwise.bias ?? []).withUnsafeBufferPointer { bias in
            depthwise.depthwiseTaps.withUnsafeBufferPointer { taps in
                let bias = depthwise.bias == nil ? nil : bias.baseAddress
                Parallel.forEachRowRange(images: images, rowsPerImage: g.outputHeight, threads: threads) { worker, n, rows in
                    let timed = worker == 0 && measuresShare
                    let measured = filter(rows, taps: taps.baseAddress!, bias: bias,
                                          output: target + n * g.outputPixels * channels, kernels: kernels,
                                          measuresShare: timed) { produce(worker, n, $0, $1) }
                    if timed { share = measured }
                }
            }
        }
        return share
    }

    /// Output rows `rows` of one image into `y` (the image's first output pixel), a band at a time:
    /// `produce(inputRows, destination)` writes the map's rows `inputRows` (channels-last, the
    /// first at `destination`), then the depthwise kernel filters them with `taps` and `bias`.
    /// - Returns: with `measuresShare`, the producer's share (0…1) of the time, for a per-layer
    ///   breakdown; else 0.
    private func filter(
        _ rows: Range<Int>, taps: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output y: UnsafeMutablePointer<Float>, kernels: KernelConfig, measuresShare: Bool,
        produce: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
    ) -> Double {
        let g = geometry, rowFloats = g.width * channels
        let buffer = UnsafeMutablePointer<Float>.allocateOnCacheLines(
            min(g.height, (band - 1) * g.stride + g.kernelHeight) * rowFloats)
        var whole = shape
        let scratchFloats = pw_depthwise_rows_scratch_floats(&whole, channels, band)
        let scratch = scratchFloats > 0 ? UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats) : nil
        defer { buffer.deallocate(); scratch?.deallocate() }
        var held = 0..<0  // the input rows the buffer holds, from its start
        var (producing, filtering) = (0.0, 0.0)
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: band) {
            let count = min(band, rows.upperBound - first)
            var (bandShape, firstRow) = Depthwise.band(of: shape, rows: first..<first + count)
            let needed = firstRow..<min(g.height, (first + count - 1) * g.stride - g.top + g.kernelHeight)
            let start = measuresShare ? EfficientNetLite.now() : 0
            // Keep the rows this band shares with the last, then make the rest after them.
            let kept = held.clamped(to: needed)
            if !kept.isEmpty, kept.lowerBound > held.lowerBound {
                memmove(buffer, buffer + (kept.lowerBound - held.lowerBound) * rowFloats,
                        kept.count * rowFloats * MemoryLayout<Float>.stride)
            }
            let fresh = (kept.isEmpty ? needed.lowerBound : kept.upperBound)..<needed.upperBound
            if !fresh.isEmpty { produce(fresh, buffer + (fresh.lowerBound - needed.lowerBound) * rowFloats) }
            held = needed
            let middle = measuresShare ? EfficientNetLite.now() : 0
            _ = kernels.table.pointee.depthwise_rows(
                &bandShape, channels, buffer, taps, bias, y + first * g.outputWidth * channels, 0, count, scratch)
            if measuresShare {
                producing += middle - start
                filtering += EfficientNetLite.now() - middle
            }
        }
        return measuresShare ? producing / max(1e-12, producing + filtering) : 0
    }
}
