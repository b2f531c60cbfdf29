import CPointwiseZlib

// MARK: - Chunk reader

extension PNG {
    /// The 8 bytes every PNG starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// One chunk, its data borrowed from the file.
    struct Chunk {
        /// Four ASCII letters, e.g. `IDAT`.
        let type: String
        let data: UnsafeRawBufferPointer
        /// Where the chunk (its length field) starts in the file.
        let offset: Int

        /// Critical chunks have an upper-case first letter; a decoder must understand them.
        var isCritical: Bool { type.utf8.first.map { $0 & 0x20 == 0 } ?? false }
    }

    /// Walks the chunks after the signature, checking each one's length, type and CRC.
    struct ChunkReader {
        let bytes: UnsafeRawBufferPointer
        let name: String
        private var position = PNG.signature.count

        init(_ bytes: UnsafeRawBufferPointer, name: String) {
            self.bytes = bytes
            self.name = name
        }

        /// The next chunk, or nil when the file ends exactly after the previous one.
        mutating func next() throws(PNGError) -> Chunk? {
            let start = position
            let remaining = bytes.count - start
            guard remaining > 0 else { return nil }
            guard remaining >= 8 else {
                throw .truncated(name: name, section: .chunkHeader, expected: 8, found: remaining)
            }
            let length = bytes.loadUnaligned(fromByteOffset: start, as: UInt32.self).bigEndian
            guard length <= UInt32(Int32.max) else {
                throw .chunkTooLong(name: name, offset: start, length: length)
            }
            let typeBytes = Array(bytes[(start + 4)..<(start + 8)])
            guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0 & ~0x20) }) else {
                throw .badChunkType(name: name, offset: start, bytes: typeBytes)
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            let count = Int(length)
            guard remaining - 8 >= count else {
                throw .truncated(name: name, section: .chunkData(type), expected: count, found: remaining - 8)
            }
            guard remaining - 8 - count >= 4 else {
                throw .truncated(name: name, section: .chunkCRC(type), expected: 4, found: remaining - 8 - count)
            }
            let stored = bytes.loadUnaligned(fromByteOffset: start + 8 + count, as: UInt32.self).bigEndian
            let computed = PNG.crc(UnsafeRawBufferPointer(rebasing: bytes[(start + 4)..<(start + 8 + count)]))
            guard stored == computed else {
                throw .crcMismatch(name: name, type: type, offset: start, stored: stored, computed: computed)
            }
            position = start + 12 + count
            return Chunk(type: type, data: UnsafeRawBufferPointer(rebasing: bytes[(start + 8)..<(start + 8 + count)]),
                         offset: start)
        }
    }

    /// The CRC-32 PNG stores after each chunk, over its type and data.
    static func crc(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return previous }
        return UInt32(crc32(uLong(previous), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }
}

// MARK: - Chunk order

extension PNG {
    /// What decoding needs from the chunks, borrowed from the file.
    struct Contents {
        let header: Header
        /// PLTE: RGB triples (palette images only).
        let palette: UnsafeRawBufferPointer?
        /// tRNS of a palette image: the alpha of the first entries.
        let paletteAlpha: UnsafeRawBufferPointer?
        /// The IDAT chunks' data, in order: together, one zlib stream.
        let imageData: [UnsafeRawBufferPointer]
    }

    /// Checks the signature and the chunk structure, and collects the chunks decoding needs.
    static func readContents(_ bytes: UnsafeRawBufferPointer, name: String) throws(PNGError) -> Contents {
        let prefix = min(bytes.count, signature.count)
        guard bytes.prefix(prefix).elementsEqual(signature.prefix(prefix)) else { throw .badSignature(name: name) }
        guard prefix == signature.count else {
            throw .truncated(name: name, section: .signature, expected: signature.count, found: prefix)
        }
        var reader = ChunkReader(bytes, name: name)
        guard let first = try reader.next() else { throw .missingChunk(name: name, type: "IHDR") }
        guard first.type == "IHDR" else { throw .headerNotFirst(name: name, found: first.type) }
        let header = try Header(first.data, name: name)

        var palette: UnsafeRawBufferPointer?
        var paletteAlpha: UnsafeRawBufferPointer?
        var imageData: [UnsafeRawBufferPointer] = []
        var imageDataEnded = false
        while let chunk = try reader.next() {
            if chunk.type != "IDAT", !imageData.isEmpty { imageDataEnded = true }
            switch chunk.type {
            case "IHDR":
                throw .duplicateChunk(name: name, type: "IHDR")
            case "PLTE":
                palette = try checkedPalette(chunk, header: header, previous: palette,
                                             afterImageData: !imageData.isEmpty, name: name)
            case "tRNS" where header.colorType == .palette:
                guard paletteAlpha == nil else { throw .duplicateChunk(name: name, type: "tRNS") }
                guard let palette, imageData.isEmpty else {
                    throw .misplacedChunk(name: name, type: "tRNS", reason: "it must come after PLTE and before IDAT")
                }
                guard chunk.data.count <= palette.count / 3 else {
                    throw .malformedChunk(name: name, type: "tRNS", reason: "it has \(chunk.data.count) alpha values "
                                          + "for \(palette.count / 3) palette entries")
                }
                paletteAlpha = chunk.data
            case "IDAT":
                guard !imageDataEnded else {
                    throw .misplacedChunk(name: name, type: "IDAT", reason: "the image data must be in consecutive "
                                          + "IDAT chunks, but other chunks come between them")
                }
                if header.colorType == .palette, palette == nil { throw .missingChunk(name: name, type: "PLTE") }
                imageData.append(chunk.data)
            case "IEND":
                guard chunk.data.isEmpty else {
                    throw .malformedChunk(name: name, type: "IEND", reason: "its length is \(chunk.data.count), not 0")
                }
                guard !imageData.isEmpty else { throw .missingChunk(name: name, type: "IDAT") }
                return Contents(header: header, palette: palette, paletteAlpha: paletteAlpha, imageData: imageData)
            default:
                if chunk.isCritical { throw .unknownCriticalChunk(name: name, type: chunk.type) }
            }
        }
        throw .missingChunk(name: name, type: imageData.isEmpty ? "IDAT" : "IEND")
    }

    /// A PLTE chunk's data, after checking that it is allowed here and well formed.
    private static func checkedPalette(_ chunk: Chunk, header: Header, previous: UnsafeRawBufferPointer?,
                                       afterImageData: Bool, name: String) throws(PNGError) -> UnsafeRawBufferPointer {
        guard header.colorType != .gray, header.colorType != .grayAlpha else {
            throw .misplacedChunk(name: name, type: "PLTE", reason: "grayscale images must not have a palette")
        }
        guard previous == nil else { throw .duplicateChunk(name: name, type: "PLTE") }
        guard !afterImageData else {
            throw .misplacedChunk(name: name, type: "PLTE", reason: "it must come before the image data (IDAT)")
        }
        let count = chunk.data.count
        guard count % 3 == 0, (3...768).contains(count) else {
            throw .malformedChunk(name: name, type: "PLTE", reason: "it has \(count) bytes; a palette is "
                                  + "1 … 256 RGB entries of 3 bytes")
        }
        return chunk.data
    }
}
