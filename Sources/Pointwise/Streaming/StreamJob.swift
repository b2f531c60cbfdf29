import Foundation

/// A per-pixel computation streamed from an input .npy file to an output file tile by tile, so
/// memory holds one tile at a time whatever the input's size: each input tile is read with
/// `pread` (the next one is prefetched from the disk while this one is computed), each output
/// tile is written to its place in a hidden temporary file whose writeback to the disk starts
/// as it fills, and the file is renamed into place at the end (`AtomicFile.Writer`).
///
/// The output is a .npy file of the whole job, or with a shard, a part file holding the shard's
/// pixels (see `ShardPart`).
struct StreamJob {
    /// The input on the output's pixel grid.
    let source: PixelSource
    /// A tensor added by the computation, shaped like the output (read with stride 1).
    var residual: PixelSource?
    /// Values per output pixel.
    let outputChannels: Int
    /// float32 for values, int64 for class indices.
    let outputType: ElementType
    /// Whether the output has no channel axis (`[N, *spatial]`, a class map).
    let dropsChannelAxis: Bool
    /// Identifies the computation, so parts of different jobs are never merged.
    var fingerprint: String

    /// Output pixels in the whole job.
    var totalPixels: Int { source.images * source.outputPixels }

    /// The output .npy file's shape.
    var outputFileShape: [Int] {
        let spatial = source.outputSpatial
        if dropsChannelAxis { return [source.images] + spatial }
        return source.layout == .channelsFirst
            ? [source.images, outputChannels] + spatial : [source.images] + spatial + [outputChannels]
    }

    /// Whether a pixel's output values are adjacent in the file.
    var outputChannelsLast: Bool { dropsChannelAxis || source.layout == .channelsLast }

    /// Runs the job.
    /// - Parameters:
    ///   - path: the output .npy file (whole job) or part file (with `options.shard`).
    ///   - options: memory budget, shard, execution.
    ///   - workingBytesPerPixel: what `transform` holds per tile pixel (its output and any
    ///     intermediate tensors).
    ///   - transform: computes a tile: gets the input tile `[1, C, count]` (and the residual tile)
    ///     in the source's layout, returns the output tile's bytes, `[outputChannels, count]`
    ///     (channels-first) or `[count, outputChannels]`, valid until its next call.
    func run(
        to path: String, options: StreamingOptions, workingBytesPerPixel: Int,
        transform: (_ input: Tensor, _ residual: Tensor?) throws(StreamingError) -> UnsafeRawBufferPointer
    ) throws(StreamingError) -> StreamingReport {
        let tilePixels = try tileSize(options: options, workingBytesPerPixel: workingBytesPerPixel)
        let pixels = (options.shard ?? .whole).pixels(of: totalPixels)
        let (header, placement) = try layout(for: path, shard: options.shard, pixels: pixels)
        let outputBytes = pixels.count * outputChannels * outputType.byteCount
        let inputBytes = pixels.count * (source.channels * source.file.elementSize
                                         + (residual.map { $0.channels * $0.file.elementSize } ?? 0))
        let dropsPages = options.dropsPages(forBytes: inputBytes + outputBytes)
        let writer: AtomicFile.Writer
        do {
            writer = try AtomicFile.Writer(path: path)
            writer.dropsWrittenPages = dropsPages
            try writer.truncate(to: placement.dataOffset + outputBytes)
            try writer.write(header, at: 0)
        } catch {
            throw .output(error)
        }
        var tiles = 0
        var inputTile = Tensor.empty, residualTile = Tensor.empty
        var positions: [Int] = []
        // A tile: `count` pixels from `first` of image `image`, never crossing an image.
        func tile(at pixel: Int) -> (image: Int, first: Int, count: Int) {
            let image = pixel / source.outputPixels, first = pixel % source.outputPixels
            return (image, first, min(tilePixels, pixels.upperBound - pixel, source.outputPixels - first))
        }
        var pixel = pixels.lowerBound
        while pixel < pixels.upperBound {
            let (image, first, count) = tile(at: pixel)
            let inputRanges = fill(&inputTile, from: source, image: image, first: first, count: count,
                                   positions: &positions)
            let residualRanges = residual.map {
                fill(&residualTile, from: $0, image: image, first: first, count: count, positions: &positions)
            }
            // The disk reads the next tile while this one is computed and written.
            if pixel + count < pixels.upperBound {
                let next = tile(at: pixel + count)
                source.prefetch(image: next.image, first: next.first, count: next.count)
                residual?.prefetch(image: next.image, first: next.first, count: next.count)
            }
            let output = try transform(inputTile, residual == nil ? nil : residualTile)
            do {
                try placement.write(output.baseAddress!, rowStride: count, pixels: pixel..<pixel + count, to: writer)
            } catch {
                throw .output(error)
            }
            for (range, floor) in inputRanges { source.file.release(range, backTo: floor, dropping: dropsPages) }
            if let residual, let residualRanges {
                for (range, floor) in residualRanges { residual.file.release(range, backTo: floor, dropping: dropsPages) }
            }
            tiles += 1
            pixel += count
            options.progress?(pixel - pixels.lowerBound, pixels.count)
        }
        do { try writer.commit() } catch { throw .output(error) }
        return StreamingReport(pixels: pixels, totalPixels: totalPixels, tilePixels: tilePixels, tiles: tiles,
                               bytesRead: inputBytes, bytesWritten: outputBytes)
    }

    /// Pixels per tile within the memory budget.
    private func tileSize(options: StreamingOptions, workingBytesPerPixel: Int) throws(StreamingError) -> Int {
        let inputBytes = source.channels * (4 + source.file.elementSize)
        let residualBytes = residual.map { $0.channels * (4 + $0.file.elementSize) } ?? 0
        let perPixel = inputBytes + residualBytes + workingBytesPerPixel
        // A tile never crosses an image, so an image smaller than the smallest tile is the floor's tile.
        let smallest = min(StreamingOptions.smallestTile, max(1, source.outputPixels))
        let minimum = StreamingOptions.fixedAllowance + smallest * perPixel
        guard options.maxMemory >= minimum else {
            throw .memoryBudget(bytes: options.maxMemory, minimum: minimum, tilePixels: smallest, bytesPerPixel: perPixel)
        }
        return min(StreamingOptions.largestTile, (options.maxMemory - StreamingOptions.fixedAllowance) / perPixel)
    }

    /// The output file's header and where its pixels go.
    private func layout(for path: String, shard: Shard?, pixels: Range<Int>)
        throws(StreamingError) -> (header: [UInt8], placement: PixelPlacement) {
        guard let shard else {
            let header = NPY.makeHeader(shape: outputFileShape, descr: NPY.descr(for: outputType)!)
            return (header, PixelPlacement(dataOffset: header.count, channels: outputChannels,
                                           channelsLast: outputChannelsLast, imagePixels: source.outputPixels,
                                           firstPixel: 0, elementSize: outputType.byteCount))
        }
        let part = ShardPart(shard: shard, fingerprint: fingerprint, outputShape: outputFileShape,
                             outputType: outputType, channels: outputChannels, channelsLast: outputChannelsLast,
                             imagePixels: source.outputPixels, pixels: pixels)
        let header: [UInt8]
        do {
            header = try SafeTensors.header(for: [(ShardPart.tensorName, outputType, part.tensorShape)],
                                            metadata: part.metadata, path: path)
        } catch {
            throw .part(path: path, problem: error.description)
        }
        return (header, part.placement(dataOffset: header.count))
    }

    /// Reads a tile of `source` into `tile` (its storage kept when the tile size changes and it is
    /// large enough).
    private func fill(_ tile: inout Tensor, from source: PixelSource, image: Int, first: Int, count: Int,
                      positions: inout [Int]) -> [(read: Range<Int>, floor: Int)] {
        try! tile.prepareOutput(shape: [1, source.channels, count], layout: source.layout)  // shape checked by the caller
        return source.read(image: image, first: first, count: count, into: tile.mutablePointer(),
                           positions: &positions)
    }
}
