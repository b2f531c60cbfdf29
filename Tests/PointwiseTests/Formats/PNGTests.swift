import Foundation
import Testing
@testable import Pointwise

/// Tests of the PNG codec against files written by scripts/make_png_fixtures.py (checked there
/// with pypng) and by pypng's and Pillow's own encoders.
@Suite("PNG")
struct PNGTests {
    // MARK: - Helpers

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/png")
        .standardizedFileURL

    /// One line of manifest.json: a fixture and what decoding it must give.
    struct Fixture: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var width: Int
        var height: Int
        var channels: Int
        var bitDepth: Int
        var testDescription: String { file }
    }

    static let manifest: [Fixture] = {
        guard let data = try? Data(contentsOf: fixtures.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode([Fixture].self, from: data)) ?? []
    }()

    /// A deterministic image with every sample value pattern: ramps plus scrambled values.
    static func pattern(width: Int, height: Int, channels: Int, bitDepth: Int) throws -> Image {
        let top = UInt64((1 << bitDepth) - 1)
        let samples = (0..<(width * height * channels)).map { i -> UInt16 in
            let scrambled = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 >> 40
            return UInt16(i % 7 == 0 ? scrambled % (top + 1) : UInt64(i * 37) % (top + 1))
        }
        return try Image(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    // MARK: - Decoding

    @Test("the manifest lists every kind of fixture")
    func manifestIsComplete() {
        #expect(Self.manifest.count >= 50)
        #expect(Set(Self.manifest.map(\.channels)) == [1, 2, 3, 4])
        #expect(Self.manifest.contains { $0.file.contains("adam7") })
    }

    @Test("every fixture decodes to the samples NumPy saved", arguments: manifest)
    func decodesFixture(_ fixture: Fixture) throws {
        let image = try PNG.read(path: Self.fixtures.appendingPathComponent(fixture.file).path)
        let expected = try NPY.read(contentsOf: Self.fixtures
            .appendingPathComponent(fixture.file.replacingOccurrences(of: ".png", with: ".npy")))
        #expect(expected.shape == [fixture.height, fixture.width, fixture.channels])
        #expect(image.width == fixture.width)
        #expect(image.height == fixture.height)
        #expect(image.channels == fixture.channels)
        #expect(image.bitDepth == fixture.bitDepth)
        let decoded = image.samples.map { Float($0) }
        try #require(decoded.count == expected.values.count)
        if let index = decoded.indices.first(where: { decoded[$0] != expected.values[$0] }) {
            Issue.record("sample \(index): expected \(expected.values[index]), decoded \(decoded[index])")
        }
    }

    @Test("bytes after IEND are ignored")
    func trailingBytes() throws {
        let url = Self.fixtures.appendingPathComponent("rgb8_7x5.png")
        let file = try Data(contentsOf: url)
        let image = try PNG.decode(file + Data("garbage".utf8), name: "x.png")
        #expect(image == (try PNG.read(path: url.path)))
    }

    @Test("a decode of a Data slice honours its start index")
    func dataSlice() throws {
        let url = Self.fixtures.appendingPathComponent("gray2_7x5_adam7.png")
        let slice = (Data([1, 2, 3]) + (try Data(contentsOf: url)))[3...]
        #expect(try PNG.decode(slice, name: "x") == (try PNG.read(path: url.path)))
    }

    @Test("a missing file is reported with its path")
    func missingFile() {
        let path = Self.fixtures.appendingPathComponent("does-not-exist.png").path
        let error = #expect(throws: PNGError.self) { try PNG.read(path: path) }
        guard case .file(let access) = error else {
            Issue.record("expected .file, got \(String(describing: error))")
            return
        }
        #expect(access.isMissing)
        #expect(error?.description.hasPrefix(path) == true)
    }

    // MARK: - Encoding

    @Test("encode then decode round-trips", arguments: [1, 2, 3, 4], [8, 16])
    func roundTrip(channels: Int, bitDepth: Int) throws {
        for (width, height) in [(1, 1), (7, 5), (33, 17), (300, 2)] {
            let image = try Self.pattern(width: width, height: height, channels: channels, bitDepth: bitDepth)
            let decoded = try PNG.decode(PNG.encode(image), name: "round trip")
            #expect(decoded == image, "\(width)×\(height)")
        }
    }

    @Test("the encoder picks filters by cost: a smooth picture uses more than filter 0")
    func encoderUsesFilters() throws {
        let bytes = (0..<(64 * 64)).flatMap { (i: Int) -> [UInt8] in [UInt8(i % 64 * 4), UInt8(i / 64 * 4), 128] }
        let image = try Image(width: 64, height: 64, channels: 3, bytes: bytes)
        let file = PNG.encode(image)
        let scanlines = try file.withUnsafeBytes { (bytes) throws(PNGError) -> [UInt8] in
            let contents = try PNG.readContents(bytes, name: "x")
            return try PNG.inflate(contents.imageData, expected: contents.header.imageDataSize, name: "x")
        }
        let filters = Set((0..<64).map { scanlines[$0 * (64 * 3 + 1)] })
        #expect(filters.count > 1, "filters used: \(filters.sorted())")
        #expect(file.count < bytes.count / 4)
    }

    @Test("filtering then unfiltering restores every row, for every filter and stride")
    func filtersInvert() {
        var random = SystemRandomNumberGenerator()
        for stride in [1, 2, 3, 4, 6, 8] {
            for count in [1, stride, 3 * stride + 1, 50] {
                let raw = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
                let above = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
                for filter in PNG.Filter.allCases {
                    var line = [UInt8](repeating: 0, count: count)
                    PNG.apply(filter, raw: raw, previous: above, output: &line, count: count, stride: stride)
                    PNG.unfilter(filter, line: &line, previous: above, count: count, stride: stride)
                    #expect(line == raw, "filter \(filter), stride \(stride), \(count) bytes")
                }
            }
        }
    }

    @Test("the Paeth predictor breaks ties towards left, then above")
    func paeth() {
        #expect(PNG.paethPredictor(10, 10, 10) == 10)
        #expect(PNG.paethPredictor(5, 9, 7) == 7)  // p = 7: c is exact
        #expect(PNG.paethPredictor(40, 10, 20) == 40)  // p = 30: |a-p| = |c-p| = 10, a wins
        #expect(PNG.paethPredictor(0, 30, 10) == 30)  // p = 20: |b-p| = |c-p| = 10, b wins
        #expect(PNG.paethPredictor(100, 50, 60) == 100)  // p = 90: a is closest
        #expect(PNG.paethPredictor(255, 0, 255) == 0)  // p = 0
    }

    @Test("write then read, replacing an existing file and leaving no temporary files")
    func writeAndRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("PNGTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.png").path
        try PNG.write(try Self.pattern(width: 5, height: 4, channels: 1, bitDepth: 8), to: path)
        let image = try Self.pattern(width: 9, height: 3, channels: 4, bitDepth: 16)
        try PNG.write(image, to: path)
        #expect(try PNG.read(path: path) == image)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.png"])

        let missing = directory.appendingPathComponent("missing/out.png").path
        #expect(throws: PNGError.self) { try PNG.write(image, to: missing) }
    }

    // MARK: - Image

    @Test("Image validates its description")
    func imageValidation() {
        #expect(throws: ImageError.invalidSize(width: 0, height: 3)) {
            try Image(width: 0, height: 3, channels: 1, bitDepth: 8, samples: [])
        }
        #expect(throws: ImageError.invalidSize(width: 1 << 20, height: 1 << 20)) {
            try Image(width: 1 << 20, height: 1 << 20, channels: 1, bytes: [])
        }
        #expect(throws: ImageError.invalidChannels(5)) {
            try Image(width: 1, height: 1, channels: 5, bitDepth: 8, samples: [1, 2, 3, 4, 5])
        }
        #expect(throws: ImageError.invalidBitDepth(4)) {
            try Image(width: 1, height: 1, channels: 1, bitDepth: 4, samples: [1])
        }
        #expect(throws: ImageError.sampleCountMismatch(expected: 6, actual: 5)) {
            try Image(width: 2, height: 1, channels: 3, bytes: [1, 2, 3, 4, 5])
        }
        #expect(throws: ImageError.sampleOutOfRange(index: 1, value: 256, bitDepth: 8)) {
            try Image(width: 2, height: 1, channels: 1, bitDepth: 8, samples: [255, 256])
        }
    }
}
