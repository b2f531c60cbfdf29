extension PixelNetwork {
    /// Runs the network over an .npy file of any size, tile by tile, in bounded memory: a
    /// multispectral scene larger than RAM becomes a per-pixel output or class map (FCN's dense
    /// prediction with a network of 1×1 convolutions, which needs no halo between tiles).
    ///
    /// Streaming, interruption and sharding work as in `Conv1x1.stream`.
    /// - Parameters:
    ///   - input: an .npy file, `[N, Cin, *spatial]` (nchw) or `[N, *spatial, Cin]` (nhwc).
    ///   - layout: the memory order of the input and of a per-pixel output.
    ///   - output: the .npy file to write (or the part file, with a shard).
    ///   - classMap: write each pixel's highest-scoring output channel as int64 `[N, *spatial]`
    ///     (ties and NaN resolved as NumPy's `argmax` does) instead of the outputs
    ///     `[N, Cout, *spatial]` (float32).
    ///   - options: memory budget, shard, threads, implementation, progress.
    /// - Returns: what was done: pixels, tiles, bytes.
    /// - Throws: `StreamingError` naming the file or setting at fault.
    @discardableResult
    public func stream(
        input: String, layout: Layout = .channelsFirst, output: String, classMap: Bool = false,
        options: StreamingOptions = StreamingOptions()
    ) throws(StreamingError) -> StreamingReport {
        let source = try PixelSource(Conv1x1.open(input), layout: layout)
        guard source.channels == widths[0] else {
            throw .shape(path: input, problem: "has \(source.channels) channels; the network expects \(widths[0])")
        }
        var hash = JobFingerprint()
        hash.combine(text: "pixel network \(activation) layout \(layout) class map \(classMap)")
        hash.combine(shape: widths)
        for parameter in parameters { hash.combine(floats: parameter.value.scalars) }
        hash.combine(shape: source.file.shape)
        let outputs = widths[widths.count - 1]
        let job = StreamJob(source: source, residual: nil, outputChannels: classMap ? 1 : outputs,
                            outputType: classMap ? .int64 : .float32, dropsChannelAxis: classMap, fingerprint: hash.hex)
        var scores = Tensor.empty
        let classes = UnsafeMutableBufferPointer<Int64>.allocate(capacity: StreamingOptions.largestTile)
        defer { classes.deallocate() }
        // Each layer's output lives at once with the next one's.
        let working = 4 * (widths.dropFirst().max()! * 2) + (classMap ? 8 : 0)
        return try job.run(to: output, options: options, workingBytesPerPixel: working) {
            (x: Tensor, _: Tensor?) throws(StreamingError) -> UnsafeRawBufferPointer in
            do { scores = try self(x, options: options.execution) } catch { throw .model(String(describing: error)) }
            guard classMap else { return UnsafeRawBufferPointer(start: scores.pointer, count: scores.count * 4) }
            Self.argmax(scores, into: classes)
            return UnsafeRawBufferPointer(start: classes.baseAddress, count: scores.pixelsPerImage * 8)
        }
    }

    /// Per pixel of a `[1, K, P]` tensor, the index of the largest of its K values (the first
    /// of equals; the first NaN wins, as in NumPy), into `classes[0..<P]`.
    static func argmax(_ scores: Tensor, into classes: UnsafeMutableBufferPointer<Int64>) {
        let channels = scores.channels, pixels = scores.pixelsPerImage
        let (channelStride, pixelStride) = scores.layout == .channelsFirst ? (pixels, 1) : (1, channels)
        let values = scores.pointer
        for pixel in 0..<pixels {
            var best = 0, bestValue = values[pixel * pixelStride]
            for channel in 1..<max(channels, 1) where !bestValue.isNaN {
                let value = values[pixel * pixelStride + channel * channelStride]
                if value > bestValue || value.isNaN { (best, bestValue) = (channel, value) }
            }
            classes[pixel] = Int64(best)
        }
    }
}
