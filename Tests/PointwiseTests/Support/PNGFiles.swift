import Foundation

/// Hand-assembled PNG files for the hostile-input tests: chunks with correct (or deliberately
/// wrong) CRCs and zlib streams of stored blocks, written here independently of the codec.
enum PNGFiles {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// CRC-32 (the polynomial PNG and zip use), bit by bit.
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value)]
    }

    /// Length, type, data, CRC; `length` and `crc` override the true values.
    static func chunk(_ type: String, _ data: [UInt8] = [], length: UInt32? = nil, crc: UInt32? = nil) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(length ?? UInt32(data.count)) + body + bigEndian(crc ?? Self.crc(body))
    }

    /// An IHDR chunk; defaults describe a 2×2 8-bit gray image.
    static func ihdr(width: UInt32 = 2, height: UInt32 = 2, bitDepth: UInt8 = 8, colorType: UInt8 = 0,
                     compression: UInt8 = 0, filter: UInt8 = 0, interlace: UInt8 = 0) -> [UInt8] {
        chunk("IHDR", bigEndian(width) + bigEndian(height) + [bitDepth, colorType, compression, filter, interlace])
    }

    /// A zlib stream holding `bytes` in stored (uncompressed) blocks, with its Adler-32 checksum.
    static func zlib(_ bytes: [UInt8], checksum: Bool = true) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let count = min(65_535, bytes.count - start)
            let final: UInt8 = start + count == bytes.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += bytes[start..<(start + count)]
            start += count
        } while start < bytes.count
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return checksum ? out + bigEndian(b << 16 | a) : out
    }

    /// Rows of a 2×2 8-bit gray image, each with filter type 0.
    static let grayRows: [UInt8] = [0, 10, 20, 0, 30, 40]

    /// Signature plus chunks.
    static func file(_ chunks: [UInt8]...) -> Data {
        Data(signature + chunks.joined())
    }

    /// A valid 2×2 gray image with `idat` as its image data (defaults to `grayRows`).
    static func gray(_ idat: [UInt8] = zlib(grayRows)) -> Data {
        file(ihdr(), chunk("IDAT", idat), chunk("IEND"))
    }
}
