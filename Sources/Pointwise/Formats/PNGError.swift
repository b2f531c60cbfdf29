/// Why a PNG file could not be read, decoded or written.
///
/// Every case carries the file path or label (`name`) plus the specifics, and `description` is a
/// sentence starting with that name.
public enum PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where in the file it ended too early.
    public enum Section: Equatable, Sendable, CustomStringConvertible {
        /// The 8-byte PNG signature.
        case signature
        /// A chunk's 4-byte length and 4-byte type.
        case chunkHeader
        /// The data of the chunk with this type.
        case chunkData(String)
        /// The 4-byte CRC of the chunk with this type.
        case chunkCRC(String)

        /// "the signature", "the IDAT chunk's data", …
        public var description: String {
            switch self {
            case .signature: "the signature"
            case .chunkHeader: "a chunk's length and type"
            case .chunkData(let type): "the \(type) chunk's data"
            case .chunkCRC(let type): "the \(type) chunk's CRC"
            }
        }
    }

    /// The file could not be opened or read, or written (`FileAccessError` names the path).
    case file(FileAccessError)
    /// The file does not start with the PNG signature `\x89PNG\r\n\x1a\n`.
    case badSignature(name: String)
    /// The file ends inside `section`, which needs `expected` bytes but only `found` remain.
    case truncated(name: String, section: Section, expected: Int, found: Int)
    /// A chunk at byte `offset` declares a length above 2³¹ − 1, which PNG forbids.
    case chunkTooLong(name: String, offset: Int, length: UInt32)
    /// The 4 type bytes of the chunk at byte `offset` are not ASCII letters.
    case badChunkType(name: String, offset: Int, bytes: [UInt8])
    /// The CRC stored after the chunk `type` at byte `offset` does not match its contents.
    case crcMismatch(name: String, type: String, offset: Int, stored: UInt32, computed: UInt32)
    /// The first chunk is `found`, but a PNG must start with IHDR.
    case headerNotFirst(name: String, found: String)
    /// A chunk that may appear only once appears again.
    case duplicateChunk(name: String, type: String)
    /// A required chunk (`IHDR`, `IDAT`, `PLTE` for palette images, `IEND`) is absent.
    case missingChunk(name: String, type: String)
    /// A chunk appears where the format forbids it; `reason` says why.
    case misplacedChunk(name: String, type: String, reason: String)
    /// A critical chunk (upper-case first letter) this decoder does not know.
    case unknownCriticalChunk(name: String, type: String)
    /// A chunk's contents are malformed (wrong length, too many entries, …); `reason` says how.
    case malformedChunk(name: String, type: String, reason: String)
    /// Width or height is 0 or above 2³¹ − 1.
    case invalidDimensions(name: String, width: UInt32, height: UInt32)
    /// The image has more than `limit` pixels (see `PNG.maxPixels`).
    case imageTooLarge(name: String, width: Int, height: Int, limit: Int)
    /// The color type and bit depth are not one of the combinations PNG allows.
    case invalidColorType(name: String, colorType: UInt8, bitDepth: UInt8)
    /// The compression, filter or interlace method (`field`) is not one PNG defines.
    case unsupportedMethod(name: String, field: String, value: UInt8)
    /// zlib could not decompress the image data; `reason` is its message.
    case compressedData(name: String, reason: String)
    /// The decompressed image data has `found` bytes but the header implies `expected`.
    case tooLittleImageData(name: String, expected: Int, found: Int)
    /// The decompressed image data has more than the `expected` bytes the header implies.
    case tooMuchImageData(name: String, expected: Int)
    /// Scanline `row` (counted over all interlace passes) starts with an undefined filter type.
    case badFilterType(name: String, row: Int, filter: UInt8)
    /// A pixel refers to palette entry `index`, but the palette has only `count` entries.
    case paletteIndexOutOfRange(name: String, index: Int, count: Int)

    /// A sentence starting with the file name that says what is wrong.
    public var description: String {
        switch self {
        case .file(let error):
            return error.description
        case .badSignature(let name):
            return "\(name): not a PNG file (it does not start with the PNG signature \\x89PNG\\r\\n\\x1a\\n)"
        case .truncated(let name, let section, let expected, let found):
            return "\(name): the file is truncated: \(section) needs \(expected) bytes "
                + "but only \(found) are present"
        case .chunkTooLong(let name, let offset, let length):
            return "\(name): the chunk at byte \(offset) declares length \(length), "
                + "above the PNG limit of 2^31 - 1"
        case .badChunkType(let name, let offset, let bytes):
            let hex = bytes.map { String($0, radix: 16) }.joined(separator: " ")
            return "\(name): the chunk at byte \(offset) has type bytes [\(hex)], which are not 4 ASCII letters"
        case .crcMismatch(let name, let type, let offset, let stored, let computed):
            return "\(name): the \(type) chunk at byte \(offset) is corrupt: its CRC is "
                + "\(hex32(stored)) but its contents give \(hex32(computed))"
        case .headerNotFirst(let name, let found):
            return "\(name): the first chunk is \(found), but a PNG must start with an IHDR chunk"
        case .duplicateChunk(let name, let type):
            return "\(name): the file has more than one \(type) chunk"
        case .missingChunk(let name, let type):
            return "\(name): the file has no \(type) chunk"
        case .misplacedChunk(let name, let type, let reason):
            return "\(name): misplaced \(type) chunk: \(reason)"
        case .unknownCriticalChunk(let name, let type):
            return "\(name): unknown critical chunk \(type) (a decoder must not guess what it means)"
        case .malformedChunk(let name, let type, let reason):
            return "\(name): malformed \(type) chunk: \(reason)"
        case .invalidDimensions(let name, let width, let height):
            return "\(name): invalid size \(width)×\(height): width and height must be 1 … 2^31 - 1"
        case .imageTooLarge(let name, let width, let height, let limit):
            return "\(name): the image is \(width)×\(height) pixels, more than the \(limit) this decoder accepts"
        case .invalidColorType(let name, let colorType, let bitDepth):
            return "\(name): color type \(colorType) with bit depth \(bitDepth) is not a valid PNG combination "
                + "(gray 0: 1/2/4/8/16, RGB 2: 8/16, palette 3: 1/2/4/8, gray+alpha 4: 8/16, RGBA 6: 8/16)"
        case .unsupportedMethod(let name, let field, let value):
            return "\(name): unknown \(field) method \(value) in IHDR"
        case .compressedData(let name, let reason):
            return "\(name): the compressed image data is corrupt (\(reason))"
        case .tooLittleImageData(let name, let expected, let found):
            return "\(name): the image data decompresses to \(found) bytes, but the image needs \(expected)"
        case .tooMuchImageData(let name, let expected):
            return "\(name): the image data decompresses to more than the \(expected) bytes the image needs"
        case .badFilterType(let name, let row, let filter):
            return "\(name): scanline \(row) has filter type \(filter); only 0 … 4 exist"
        case .paletteIndexOutOfRange(let name, let index, let count):
            return "\(name): a pixel uses palette entry \(index), but the palette has only \(count) entries"
        }
    }
}

/// `0x1234ABCD`.
private func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
