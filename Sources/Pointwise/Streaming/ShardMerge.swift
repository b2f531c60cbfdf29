/// Assembles the part files written by the shards of a streamed job (`--shard I/N`) into the
/// .npy file a single run would have written, byte for byte.
///
/// Parts are checked before anything is written: each must be a shard part, all must come from
/// the same job (same computation, input shape and output), and together they must be shards
/// 0…N−1 of the same N, each exactly once. The merged file is streamed (parts are read a
/// chunk at a time) and renamed into place at the end.
public enum ShardMerge {
    /// Bytes copied per step.
    static let chunkBytes = 8 << 20

    /// Merges the parts at `paths` (any order) into the .npy file `output`.
    /// - Returns: the bytes of output data written.
    /// - Throws: `StreamingError.part` naming the part and the problem (unreadable, not a part, from
    ///   another job, a shard missing or given twice), `.output` if `output` cannot be written.
    @discardableResult
    public static func merge(parts paths: [String], to output: String) throws(StreamingError) -> Int {
        try merge(parts: paths, to: output, dropsPages: nil)
    }

    /// `merge(parts:to:)`, dropping the pages read and written from the page cache as it goes when
    /// `dropsPages` says so (nil: when the files exceed half of memory, `StreamingOptions.exceedsHalfOfMemory`).
    @discardableResult
    static func merge(parts paths: [String], to output: String, dropsPages: Bool?) throws(StreamingError) -> Int {
        let parts = try paths.map { path throws(StreamingError) in try open(path) }
        try checkTogether(parts)
        guard let first = parts.first?.part else { throw .part(path: output, problem: "no parts to merge") }
        let header = NPY.makeHeader(shape: first.outputShape, descr: NPY.descr(for: first.outputType)!)
        let placement = first.mergedPlacement(dataOffset: header.count)
        let total = first.outputShape.reduce(1, *) * first.outputType.byteCount
        do {
            let writer = try AtomicFile.Writer(path: output)
            writer.dropsWrittenPages = dropsPages ?? StreamingOptions.exceedsHalfOfMemory(2 * total)
            try writer.truncate(to: header.count + total)
            try writer.write(header, at: 0)
            for (file, part) in parts {
                try copy(part, from: file, into: writer, placement: placement, dropping: writer.dropsWrittenPages)
            }
            try writer.commit()
        } catch {
            throw .output(error)
        }
        return total
    }

    /// Copies one part's pixels to their places, a chunk of pixels at a time, read with `pread`
    /// (`MappedFile.read(_:into:)`) so that no page of the part stays mapped; with `dropping`,
    /// what was read leaves the page cache too.
    private static func copy(_ part: ShardPart, from file: SafeTensorsFile, into writer: AtomicFile.Writer,
                             placement: PixelPlacement, dropping: Bool) throws(FileAccessError) {
        let array = file[ShardPart.tensorName]!
        guard let base = array.bytes.baseAddress else { return }
        let dataStart = base - file.file.bytes.baseAddress!
        let size = part.outputType.byteCount, pixelBytes = part.channels * size
        let step = max(1, chunkBytes / pixelBytes)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: step * pixelBytes, alignment: 64)
        defer { buffer.deallocate() }
        // Where each row starts: one per channel ([C, pixels]), or one of whole pixels ([pixels, C]).
        let rowStarts = part.channelsLast ? [dataStart]
            : (0..<part.channels).map { dataStart + $0 * part.pixels.count * size }
        let rowBytes = part.channelsLast ? pixelBytes : size
        var start = part.pixels.lowerBound
        while start < part.pixels.upperBound {
            let end = min(part.pixels.upperBound, start + step)
            let local = start - part.pixels.lowerBound, count = end - start
            // The chunk of each row, gathered as [channels, count] (or the chunk's pixels).
            for (index, rowStart) in rowStarts.enumerated() {
                let from = rowStart + local * rowBytes, to = from + count * rowBytes
                file.file.read(from..<to, into: buffer + index * count * rowBytes)
                if dropping { file.file.dropFromCache(from..<to, backTo: rowStart) }
            }
            try placement.write(buffer, rowStride: count, pixels: start..<end, to: writer)
            start = end
        }
    }

    /// Opens a part and checks its tensor against its metadata.
    private static func open(_ path: String) throws(StreamingError) -> (file: SafeTensorsFile, part: ShardPart) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            let reason = error.description.hasPrefix(path + ": ") ? String(error.description.dropFirst(path.count + 2))
                : error.description
            if case .fileAccess = error { throw .part(path: path, problem: reason) }
            let isNPY = (try? MappedFile(path: path)).map { $0.bytes.starts(with: NPY.magic) } ?? false
            throw .part(path: path, problem: isNPY
                ? "is a .npy file, not a shard part (the safetensors file `--shard I/N` writes); merge takes the parts"
                : "is not a shard part (the safetensors file `--shard I/N` writes): \(reason)")
        }
        let part = try ShardPart(metadata: file.metadata, path: path)
        guard let array = file[ShardPart.tensorName], file.names.count == 1 else {
            throw .part(path: path, problem: "a shard part holds exactly one tensor, '\(ShardPart.tensorName)'")
        }
        guard array.elementType == part.outputType, array.shape == part.tensorShape else {
            throw .part(path: path, problem: "tensor '\(ShardPart.tensorName)' is \(array.elementType.rawValue) "
                        + "\(array.shape), but the metadata says \(part.outputType.rawValue) \(part.tensorShape)")
        }
        let perImage = part.outputShape.count < 2 ? 0 : part.outputShape.reduce(1, *) / max(1, part.outputShape[0])
        guard part.outputShape.reduce(1, *) == part.outputShape[0] * part.imagePixels * part.channels,
              perImage == part.imagePixels * part.channels,
              part.pixels == part.shard.pixels(of: part.outputShape[0] * part.imagePixels) else {
            throw .part(path: path, problem: "its pixel range \(part.pixels) is not shard \(part.shard) "
                        + "of the output \(part.outputShape)")
        }
        return (file, part)
    }

    /// Checks that the parts come from one job and are its shards 0…N−1, each once.
    private static func checkTogether(_ parts: [(file: SafeTensorsFile, part: ShardPart)]) throws(StreamingError) {
        guard let (firstFile, first) = parts.first else { return }
        var seen: [Int: String] = [:]
        for (file, part) in parts {
            guard part.fingerprint == first.fingerprint, part.outputShape == first.outputShape,
                  part.outputType == first.outputType, part.channelsLast == first.channelsLast else {
                throw .part(path: file.path, problem: "comes from a different job than \(firstFile.path) "
                            + "(another input, model or output)")
            }
            guard part.shard.count == first.shard.count else {
                throw .part(path: file.path, problem: "is shard \(part.shard) but \(firstFile.path) is shard \(first.shard)")
            }
            if let other = seen[part.shard.index] {
                throw .part(path: file.path, problem: "shard \(part.shard) is also given as \(other)")
            }
            seen[part.shard.index] = file.path
        }
        let missing = (0..<first.shard.count).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            throw .part(path: firstFile.path, problem: "shards " + missing.map { "\($0)/\(first.shard.count)" }
                        .joined(separator: ", ") + " are missing; a merge needs all \(first.shard.count)")
        }
    }
}
