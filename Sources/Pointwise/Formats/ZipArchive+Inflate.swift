import CPointwiseZlib

extension ZipArchive {
    /// Inflates a raw deflate stream that must produce exactly `size` bytes.
    ///
    /// The buffer grows as output arrives (from at most 64 MiB, doubling), so a size the stream
    /// does not back up costs nothing; it never exceeds `size` plus one spare byte, which catches
    /// a stream that would produce more than declared. A stream that ends before its compressed
    /// bytes do, or needs more than them, is corrupt.
    ///
    /// - Returns: A buffer whose first `size` bytes are the member's.
    static func inflate(_ compressed: UnsafeRawBufferPointer, into size: Int, member: String,
                        path: String) throws(ZipArchiveError) -> OwnedBytes {
        var output = OwnedBytes(byteCount: min(size + 1, 1 << 26))
        var stream = z_stream()
        // Negative window bits: a raw deflate stream, as ZIP stores it (no zlib header).
        let status = inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw .corrupt(path: path, member: member, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var (consumed, produced) = (0, 0)
        while true {
            if produced == output.mutableBytes.count {
                let larger = OwnedBytes(byteCount: min(size + 1, 2 * produced))
                larger.mutableBytes.copyMemory(from: output.bytes)
                output = larger
            }
            // zlib counts in 32 bits; feed larger members in pieces.
            let input = min(compressed.count - consumed, Int(UInt32.max))
            let room = min(output.mutableBytes.count - produced, Int(UInt32.max))
            stream.next_in = compressed.baseAddress.map {
                UnsafeMutablePointer(mutating: ($0 + consumed).assumingMemoryBound(to: Bytef.self))
            }
            stream.avail_in = UInt32(input)
            stream.next_out = output.mutableBytes.baseAddress.map {
                ($0 + produced).assumingMemoryBound(to: Bytef.self)
            }
            stream.avail_out = UInt32(room)
            let status = CPointwiseZlib.inflate(&stream, Z_NO_FLUSH)
            consumed += input - Int(stream.avail_in)
            produced += room - Int(stream.avail_out)
            guard produced <= size else { throw .sizeMismatch(path: path, member: member, declared: size) }
            switch status {
            case Z_STREAM_END where produced == size:
                return output
            case Z_STREAM_END:
                throw .sizeMismatch(path: path, member: member, declared: size)
            case Z_OK:
                continue
            case Z_BUF_ERROR where consumed == compressed.count:
                throw .corrupt(path: path, member: member, reason: "the deflate stream is truncated")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corrupt(path: path, member: member, reason: "invalid deflate data (\(message))")
            }
        }
    }

    /// The CRC-32 of `bytes`, as ZIP records it.
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return 0 }
        let crc = crc32_z(0, base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count))
        return UInt32(truncatingIfNeeded: crc)
    }
}
