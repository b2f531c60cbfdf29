extension Conv1x1 {
    /// Applies the convolution to an .npy file of any size, tile by tile, in bounded memory.
    ///
    /// The input is read one tile of pixels at a time (the next tile is prefetched from the disk
    /// while this one is computed); each output tile goes straight to its place in a hidden
    /// temporary file, renamed onto `output` once complete (an interrupted run leaves the
    /// previous `output` as it was). Memory stays within
    /// `options.maxMemory` whatever the input's size. With `options.shard`, only that shard's
    /// pixels are computed, into a part file; `ShardMerge` assembles the parts into the .npy
    /// file a single run writes, byte for byte.
    ///
    /// The results equal `callAsFunction` on the whole tensor loaded in memory.
    /// - Parameters:
    ///   - input: an .npy file, `[N, Cin, *spatial]` (nchw) or `[N, *spatial, Cin]` (nhwc); float16,
    ///     float32 or float64 (converted a tile at a time).
    ///   - layout: the memory order of the input, the residual and the output.
    ///   - residual: an .npy file shaped like the output, added before the activation, or nil.
    ///   - output: the .npy file to write (or the part file, with a shard).
    ///   - options: memory budget, shard, threads, implementation, progress.
    /// - Returns: what was done: pixels, tiles, bytes.
    /// - Throws: `StreamingError` naming the file or setting at fault.
    @discardableResult
    public func stream(
        input: String, layout: Layout = .channelsFirst, residual: String? = nil, output: String,
        options: StreamingOptions = StreamingOptions()
    ) throws(StreamingError) -> StreamingReport {
        let source = try PixelSource(Self.open(input), layout: layout, stride: stride)
        guard source.channels == inputChannels else {
            throw .shape(path: input, problem: "has \(source.channels) channels; the weight expects Cin = \(inputChannels)")
        }
        var job = StreamJob(source: source, residual: nil, outputChannels: outputChannels, outputType: .float32,
                            dropsChannelAxis: false, fingerprint: "")
        if let residual {
            let file = try Self.open(residual)
            guard file.shape == job.outputFileShape else {
                throw .shape(path: residual, problem: "is \(file.shape); the residual must be shaped like the output, \(job.outputFileShape)")
            }
            job.residual = try PixelSource(file, layout: layout)
        }
        job.fingerprint = fingerprint(of: job)
        let tileConvolution: Conv1x1
        do {
            tileConvolution = stride == 1 ? self
                : try Conv1x1(weight: weight, bias: bias, stride: 1, groups: groups, activation: activation)
        } catch {
            throw .model(error.description)
        }
        var tileOutput = Tensor.empty
        return try job.run(to: output, options: options, workingBytesPerPixel: 4 * outputChannels) {
            (x: Tensor, r: Tensor?) throws(StreamingError) -> UnsafeRawBufferPointer in
            do {
                try tileConvolution.forward(x, residual: r, into: &tileOutput, options: options.execution)
            } catch {
                throw .model(String(describing: error))
            }
            return UnsafeRawBufferPointer(start: tileOutput.pointer, count: tileOutput.count * 4)
        }
    }

    /// The job's identity: this convolution's parameters and the files' shapes and layout.
    private func fingerprint(of job: StreamJob) -> String {
        var hash = JobFingerprint()
        hash.combine(text: "conv1x1 stride \(stride) groups \(groups) activation \(activation) layout \(job.source.layout)")
        hash.combine(floats: weight.scalars)
        hash.combine(floats: bias ?? [])
        hash.combine(shape: job.source.file.shape)
        hash.combine(shape: job.residual?.file.shape ?? [])
        return hash.hex
    }

    /// Maps an input file, as a streaming error.
    static func open(_ path: String) throws(StreamingError) -> MappedNPY {
        do { return try MappedNPY(path: path) } catch { throw .input(error) }
    }
}
