import CPointwiseZlib

// MARK: - zlib streams

extension PNG {
    /// Deflate never expands more than 1032:1 (a 258-byte match coded in 2 bits), so this many
    /// output bytes per input byte, plus slack for headers, bounds what a stream can produce.
    private static let maximumInflationRatio = 1032

    /// Inflates the zlib stream split across `pieces` (the IDAT chunks) into exactly `expected` bytes.
    ///
    /// The output buffer starts at the smaller of `expected + 1` and what the compressed size could
    /// inflate to, and grows only as data arrives, so a tiny file claiming a huge image allocates little.
    /// - Throws: `.compressedData` for a corrupt or unfinished stream, `.tooLittleImageData` or
    ///   `.tooMuchImageData` when it does not hold exactly `expected` bytes.
    static func inflate(_ pieces: [UnsafeRawBufferPointer], expected: Int, name: String) throws(PNGError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .compressedData(name: name, reason: "zlib could not start: out of memory")
        }
        defer { inflateEnd(&stream) }

        let compressed = pieces.reduce(0) { $0 + $1.count }
        let (bound, overflow) = compressed.multipliedReportingOverflow(by: maximumInflationRatio)
        var output = [UInt8](repeating: 0, count: overflow ? expected + 1 : min(expected + 1, bound + 1024))
        var produced = 0
        var finished = false
        pieces: for piece in pieces {
            guard let base = piece.baseAddress else { continue }
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(piece.count)
            while stream.avail_in > 0 {
                if produced == output.count {
                    guard output.count <= expected else { throw .tooMuchImageData(name: name, expected: expected) }
                    output += repeatElement(0, count: min(expected + 1, 2 * output.count) - output.count)
                }
                let status = output.withUnsafeMutableBufferPointer { buffer in
                    // `produced < buffer.count`, so the base address exists.
                    stream.next_out = buffer.baseAddress.map { $0 + produced }
                    stream.avail_out = uInt(min(buffer.count - produced, Int(UInt32.max)))
                    let status = CPointwiseZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = buffer.count - Int(stream.avail_out)
                    return status
                }
                switch status {
                case Z_STREAM_END:
                    finished = true
                    break pieces
                case Z_OK, Z_BUF_ERROR:
                    continue  // Z_BUF_ERROR: the output is full; the next round grows it or fails.
                case Z_NEED_DICT:
                    throw .compressedData(name: name, reason: "the stream asks for a preset dictionary, "
                                          + "which PNG does not allow")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw .compressedData(name: name, reason: message)
                }
            }
        }
        guard produced <= expected else { throw .tooMuchImageData(name: name, expected: expected) }
        guard produced == expected else { throw .tooLittleImageData(name: name, expected: expected, found: produced) }
        guard finished else {
            throw .compressedData(name: name, reason: "the zlib stream stops before its end and checksum")
        }
        output.removeLast(output.count - expected)
        return output
    }

    /// Compresses `bytes` into a zlib stream at zlib's default level (6).
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(compressBound(uLong(bytes.count))))
        var length = uLong(output.count)
        let status = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &length, input.baseAddress, uLong(input.count), Z_DEFAULT_COMPRESSION)
            }
        }
        // compressBound guarantees room, so only running out of memory can fail here.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        output.removeLast(output.count - Int(length))
        return output
    }
}
