import Foundation
import Testing
import Pointwise

/// Malformed PNG files, each mapped to the error it must produce; none may crash the decoder.
@Suite("PNG hostile input")
struct PNGHostileTests {
    // MARK: - Cases

    static let name = "bad.png"

    /// One malformed input and the error it must produce.
    struct HostileCase: Sendable, CustomTestStringConvertible {
        enum Expected: Sendable {
            case error(PNGError)
            /// `.compressedData` whose reason (zlib's own message) contains this text.
            case compressedData(containing: String)
        }

        var label: String
        var data: Data
        var expected: Expected
        var testDescription: String { label }
    }

    static func error(_ label: String, _ data: Data, _ error: PNGError) -> HostileCase {
        HostileCase(label: label, data: data, expected: .error(error))
    }

    static func zlibError(_ label: String, _ idat: [UInt8], containing text: String) -> HostileCase {
        HostileCase(label: label, data: PNGFiles.gray(idat), expected: .compressedData(containing: text))
    }

    // The pieces the cases are made of.
    typealias F = PNGFiles
    static let signature = F.signature
    static let ihdr = F.ihdr()
    static let imageData = F.zlib(F.grayRows)
    static let idat = F.chunk("IDAT", imageData)
    static let iend = F.chunk("IEND")
    static let text = F.chunk("tEXt", Array("Comment\u{0}hi".utf8))
    /// After the signature and IHDR.
    static let secondChunk = 8 + 25

    // A 2×2 palette image with two entries, and a 2×2 RGB image.
    static let paletteHeader = F.ihdr(colorType: 3)
    static let palette = F.chunk("PLTE", [255, 0, 0, 0, 255, 0])
    static let paletteData = F.chunk("IDAT", F.zlib([0, 0, 1, 0, 1, 0]))
    static let rgbHeader = F.ihdr(colorType: 2)
    static let rgbData = F.chunk("IDAT", F.zlib([0] + Array(1...6) + [0] + Array(7...12)))

    static func corruptCRC(_ chunk: [UInt8]) -> (chunk: [UInt8], stored: UInt32, computed: UInt32) {
        let computed = F.crc(Array(chunk[4..<(chunk.count - 4)]))
        var bad = chunk
        bad[bad.count - 1] ^= 0x01
        return (bad, computed ^ 0x01, computed)
    }

    static let structure: [HostileCase] = [
        error("empty file", Data(), .truncated(name: name, section: .signature, expected: 8, found: 0)),
        error("half a signature", Data(signature.prefix(4)),
              .truncated(name: name, section: .signature, expected: 8, found: 4)),
        error("a GIF", Data("GIF89a".utf8), .badSignature(name: name)),
        error("signature mangled by a text-mode transfer", Data([0x89, 0x50, 0x4E, 0x47, 0x0A, 0x1A, 0x0A, 0, 0]),
              .badSignature(name: name)),
        error("signature only", F.file(), .missingChunk(name: name, type: "IHDR")),
        error("chunk header cut", Data(signature + ihdr.prefix(5)),
              .truncated(name: name, section: .chunkHeader, expected: 8, found: 5)),
        error("IHDR data cut", Data(signature + ihdr.prefix(8 + 5)),
              .truncated(name: name, section: .chunkData("IHDR"), expected: 13, found: 5)),
        error("IHDR CRC cut", Data(signature + ihdr.prefix(8 + 13 + 2)),
              .truncated(name: name, section: .chunkCRC("IHDR"), expected: 4, found: 2)),
        error("IDAT data cut", Data(signature + ihdr + idat.prefix(10)),
              .truncated(name: name, section: .chunkData("IDAT"), expected: imageData.count, found: 2)),
        error("IEND CRC cut", Data(signature + ihdr + idat + iend.prefix(9)),
              .truncated(name: name, section: .chunkCRC("IEND"), expected: 4, found: 1)),
        error("IDAT length 2^31", F.file(ihdr, F.chunk("IDAT", [], length: 0x8000_0000)),
              .chunkTooLong(name: name, offset: secondChunk, length: 0x8000_0000)),
        error("IDAT length 2^32 - 1", F.file(ihdr, F.chunk("IDAT", [], length: 0xFFFF_FFFF)),
              .chunkTooLong(name: name, offset: secondChunk, length: 0xFFFF_FFFF)),
        error("ancillary chunk length 2^31", F.file(ihdr, F.chunk("tEXt", [], length: 0x8000_0000), idat, iend),
              .chunkTooLong(name: name, offset: secondChunk, length: 0x8000_0000)),
        error("IDAT length past the end of the file", F.file(ihdr, F.chunk("IDAT", imageData, length: 1000), iend),
              .truncated(name: name, section: .chunkData("IDAT"), expected: 1000, found: imageData.count + 4 + 12)),
        error("chunk type with a digit", F.file(ihdr, F.chunk("ID4T", imageData), iend),
              .badChunkType(name: name, offset: secondChunk, bytes: Array("ID4T".utf8))),
        error("chunk type with a NUL", F.file(ihdr, [0, 0, 0, 0, 0x49, 0, 0x41, 0x54, 0, 0, 0, 0]),
              .badChunkType(name: name, offset: secondChunk, bytes: [0x49, 0, 0x41, 0x54])),
        error("a chunk before IHDR", F.file(text, ihdr, idat, iend), .headerNotFirst(name: name, found: "tEXt")),
        error("IDAT before IHDR", F.file(idat, ihdr, iend), .headerNotFirst(name: name, found: "IDAT")),
        error("two IHDR chunks", F.file(ihdr, ihdr, idat, iend), .duplicateChunk(name: name, type: "IHDR")),
        error("unknown critical chunk", F.file(ihdr, F.chunk("ABCD", [1]), idat, iend),
              .unknownCriticalChunk(name: name, type: "ABCD")),
        error("no IDAT", F.file(ihdr, iend), .missingChunk(name: name, type: "IDAT")),
        error("file ends after IHDR", F.file(ihdr), .missingChunk(name: name, type: "IDAT")),
        error("no IEND", F.file(ihdr, idat), .missingChunk(name: name, type: "IEND")),
        error("IEND with data", F.file(ihdr, idat, F.chunk("IEND", [0])),
              .malformedChunk(name: name, type: "IEND", reason: "its length is 1, not 0")),
        error("IDAT chunks not consecutive",
              F.file(ihdr, F.chunk("IDAT", Array(imageData.prefix(5))), text,
                     F.chunk("IDAT", Array(imageData.dropFirst(5))), iend),
              .misplacedChunk(name: name, type: "IDAT", reason: "the image data must be in consecutive IDAT chunks, "
                              + "but other chunks come between them")),
    ]

    static let crcs: [HostileCase] = {
        let (badHeader, headerStored, headerComputed) = corruptCRC(ihdr)
        let (badData, dataStored, dataComputed) = corruptCRC(idat)
        let (badText, textStored, textComputed) = corruptCRC(text)
        return [
            error("IHDR CRC wrong", F.file(badHeader, idat, iend),
                  .crcMismatch(name: name, type: "IHDR", offset: 8, stored: headerStored, computed: headerComputed)),
            error("IDAT CRC wrong", F.file(ihdr, badData, iend),
                  .crcMismatch(name: name, type: "IDAT", offset: secondChunk, stored: dataStored,
                               computed: dataComputed)),
            error("ancillary chunk CRC wrong", F.file(ihdr, badText, idat, iend),
                  .crcMismatch(name: name, type: "tEXt", offset: secondChunk, stored: textStored,
                               computed: textComputed)),
        ]
    }()

    static let header: [HostileCase] = [
        error("IHDR of 12 bytes", F.file(F.chunk("IHDR", Array(ihdr[8..<20])), idat, iend),
              .malformedChunk(name: name, type: "IHDR", reason: "its length is 12, not 13")),
        error("width 0", F.file(F.ihdr(width: 0), idat, iend), .invalidDimensions(name: name, width: 0, height: 2)),
        error("height 0", F.file(F.ihdr(height: 0), idat, iend), .invalidDimensions(name: name, width: 2, height: 0)),
        error("width 2^31", F.file(F.ihdr(width: 1 << 31), idat, iend),
              .invalidDimensions(name: name, width: 1 << 31, height: 2)),
        error("65536 × 65536 pixels", F.file(F.ihdr(width: 65536, height: 65536), idat, iend),
              .imageTooLarge(name: name, width: 65536, height: 65536, limit: Image.maxPixels)),
        error("2^31 - 1 × 2^31 - 1 pixels", F.file(F.ihdr(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF), idat, iend),
              .imageTooLarge(name: name, width: 0x7FFF_FFFF, height: 0x7FFF_FFFF, limit: Image.maxPixels)),
    ] + [(0, 3), (1, 8), (5, 8), (7, 8), (2, 4), (3, 16), (4, 1), (6, 2), (0, 0), (2, 32)].map { colorType, depth in
        error("color type \(colorType) at \(depth) bits",
              F.file(F.ihdr(bitDepth: depth, colorType: colorType), idat, iend),
              .invalidColorType(name: name, colorType: colorType, bitDepth: depth))
    } + [
        error("compression method 1", F.file(F.ihdr(compression: 1), idat, iend),
              .unsupportedMethod(name: name, field: "compression", value: 1)),
        error("filter method 1", F.file(F.ihdr(filter: 1), idat, iend),
              .unsupportedMethod(name: name, field: "filter", value: 1)),
        error("interlace method 2", F.file(F.ihdr(interlace: 2), idat, iend),
              .unsupportedMethod(name: name, field: "interlace", value: 2)),
    ]

    static let palettes: [HostileCase] = [
        error("PLTE in a gray image", F.file(ihdr, palette, idat, iend),
              .misplacedChunk(name: name, type: "PLTE", reason: "grayscale images must not have a palette")),
        error("PLTE of 4 bytes", F.file(paletteHeader, F.chunk("PLTE", [1, 2, 3, 4]), paletteData, iend),
              .malformedChunk(name: name, type: "PLTE", reason: "it has 4 bytes; a palette is 1 … 256 RGB entries "
                              + "of 3 bytes")),
        error("empty PLTE", F.file(paletteHeader, F.chunk("PLTE"), paletteData, iend),
              .malformedChunk(name: name, type: "PLTE", reason: "it has 0 bytes; a palette is 1 … 256 RGB entries "
                              + "of 3 bytes")),
        error("PLTE of 257 entries",
              F.file(paletteHeader, F.chunk("PLTE", [UInt8](repeating: 7, count: 771)), paletteData, iend),
              .malformedChunk(name: name, type: "PLTE", reason: "it has 771 bytes; a palette is 1 … 256 RGB entries "
                              + "of 3 bytes")),
        error("two PLTE chunks", F.file(paletteHeader, palette, palette, paletteData, iend),
              .duplicateChunk(name: name, type: "PLTE")),
        error("PLTE after IDAT", F.file(rgbHeader, rgbData, palette, iend),
              .misplacedChunk(name: name, type: "PLTE", reason: "it must come before the image data (IDAT)")),
        error("palette image without PLTE", F.file(paletteHeader, paletteData, iend),
              .missingChunk(name: name, type: "PLTE")),
        error("tRNS longer than the palette",
              F.file(paletteHeader, palette, F.chunk("tRNS", [1, 2, 3]), paletteData, iend),
              .malformedChunk(name: name, type: "tRNS", reason: "it has 3 alpha values for 2 palette entries")),
        error("tRNS before PLTE", F.file(paletteHeader, F.chunk("tRNS", [1]), palette, paletteData, iend),
              .misplacedChunk(name: name, type: "tRNS", reason: "it must come after PLTE and before IDAT")),
        error("tRNS after IDAT", F.file(paletteHeader, palette, paletteData, F.chunk("tRNS", [1]), iend),
              .misplacedChunk(name: name, type: "tRNS", reason: "it must come after PLTE and before IDAT")),
        error("two tRNS chunks",
              F.file(paletteHeader, palette, F.chunk("tRNS", [1]), F.chunk("tRNS", [1]), paletteData, iend),
              .duplicateChunk(name: name, type: "tRNS")),
        error("palette index out of range",
              F.file(paletteHeader, palette, F.chunk("IDAT", F.zlib([0, 0, 2, 0, 1, 0])), iend),
              .paletteIndexOutOfRange(name: name, index: 2, count: 2)),
    ]

    static let imageDataCases: [HostileCase] = [
        zlibError("not a zlib stream", [1, 2, 3, 4, 5, 6], containing: "header"),
        zlibError("zlib stream asking for a preset dictionary", [0x78, 0xBB, 0, 0, 0, 1, 1, 0, 0],
                  containing: "preset dictionary"),
        zlibError("wrong Adler-32 checksum", Array(imageData.dropLast()) + [imageData[imageData.count - 1] ^ 1],
                  containing: "check"),
        zlibError("zlib stream without its checksum", F.zlib(F.grayRows, checksum: false),
                  containing: "stops before its end"),
        error("empty IDAT", PNGFiles.gray([]), .tooLittleImageData(name: name, expected: 6, found: 0)),
        error("too little image data", PNGFiles.gray(F.zlib(Array(F.grayRows.dropLast()))),
              .tooLittleImageData(name: name, expected: 6, found: 5)),
        error("zlib stream cut inside a block", PNGFiles.gray(Array(imageData.prefix(8))),
              .tooLittleImageData(name: name, expected: 6, found: 1)),
        error("too much image data", PNGFiles.gray(F.zlib(F.grayRows + [0])),
              .tooMuchImageData(name: name, expected: 6)),
        error("far too much image data", PNGFiles.gray(F.zlib([UInt8](repeating: 0, count: 100_000))),
              .tooMuchImageData(name: name, expected: 6)),
        error("filter type 5", PNGFiles.gray(F.zlib([0, 10, 20, 5, 30, 40])),
              .badFilterType(name: name, row: 1, filter: 5)),
        error("filter type 9 in the third scanline of an interlaced image",
              F.file(F.ihdr(interlace: 1), F.chunk("IDAT", F.zlib([0, 1, 0, 2, 9, 3, 4])), iend),
              .badFilterType(name: name, row: 2, filter: 9)),
        error("a tiny file claiming 2^28 pixels", F.file(F.ihdr(width: 16384, height: 16384), idat, iend),
              .tooLittleImageData(name: name, expected: 16384 * (1 + 16384), found: 6)),
    ]

    static let cases = structure + crcs + header + palettes + imageDataCases

    // MARK: - Tests

    @Test("the hand-made valid files decode")
    func validBaseline() throws {
        let gray = try PNG.decode(PNGFiles.gray(), name: Self.name)
        #expect(gray.samples == [10, 20, 30, 40])
        let paletted = try PNG.decode(F.file(Self.paletteHeader, Self.palette, Self.paletteData, Self.iend), name: "p")
        #expect(paletted.samples == [255, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 0])
        let rgb = try PNG.decode(F.file(Self.rgbHeader, Self.rgbData, Self.iend), name: "p")
        #expect(rgb.samples == (1...12).map(UInt16.init))
        let interlaced = try PNG.decode(F.file(F.ihdr(interlace: 1), F.chunk("IDAT", F.zlib([0, 1, 0, 2, 0, 3, 4])),
                                               Self.iend), name: "p")
        #expect(interlaced.samples == [1, 2, 3, 4])
    }

    @Test("each malformed file throws its error", arguments: cases)
    func hostile(_ testCase: HostileCase) {
        let error = #expect(throws: PNGError.self) { try PNG.decode(testCase.data, name: Self.name) }
        switch testCase.expected {
        case .error(let expected):
            #expect(error == expected)
        case .compressedData(let text):
            guard case .compressedData(let name, let reason) = error else {
                Issue.record("expected .compressedData, got \(String(describing: error))")
                return
            }
            #expect(name == Self.name)
            #expect(reason.contains(text), "reason: \(reason)")
        }
        #expect(error?.description.hasPrefix("\(Self.name): ") == true)
    }

    @Test("every strict prefix of a valid file throws",
          arguments: ["palette4_33x17_adam7_trns.png", "rgb16_13x11.png", "rgb8_13x11_chunks.png"])
    func everyPrefix(file: String) throws {
        let data = try Data(contentsOf: PNGTests.fixtures.appendingPathComponent(file))
        for length in 0..<data.count {
            #expect(throws: PNGError.self) { try PNG.decode(data.prefix(length), name: Self.name) }
        }
    }

    @Test("random corruption with repaired CRCs never crashes",
          arguments: ["palette2_13x11_adam7_trns.png", "gray16_13x11_adam7.png", "rgb8_7x5.png"])
    func randomCorruption(file: String) throws {
        let original = Array(try Data(contentsOf: PNGTests.fixtures.appendingPathComponent(file)))
        var random = SplitMix64(seed: 0xC0FFEE)
        var decoded = 0
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes[Int.random(in: 8..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            Self.repairCRCs(&bytes)
            if (try? PNG.decode(Data(bytes), name: Self.name)) != nil { decoded += 1 }
        }
        // Some corruptions (in pixel values or ancillary chunks) still make a valid file.
        #expect(decoded < 3_000)
    }

    /// Rewrites each chunk's CRC to match its (corrupted) contents, so corruption reaches the
    /// decoder's later stages instead of stopping at the CRC check.
    static func repairCRCs(_ bytes: inout [UInt8]) {
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= bytes.count - offset - 12 else { return }
            let crc = PNGFiles.crc(Array(bytes[(offset + 4)..<(offset + 8 + length)]))
            bytes.replaceSubrange((offset + 8 + length)..<(offset + 12 + length), with: PNGFiles.bigEndian(crc))
            offset += 12 + length
        }
    }
}
