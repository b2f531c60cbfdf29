import Foundation
import Testing
@testable import Pointwise

/// The ImageNet preprocessing against the reference inputs made with PIL + torchvision, and
/// Pillow's bilinear resize against Pillow's own output (scripts/make_png_fixtures.py).
@Suite("Image preprocessing")
struct ImagePreprocessingTests {
    // MARK: - Helpers

    /// The repository's parent holds `shared/` (CI clones the repository beside it).
    static let referenceFixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../../../../shared/fixtures/efficientnet-lite0")
        .standardizedFileURL

    static let resizeFixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/resize")
        .standardizedFileURL

    /// The resize fixtures: source picture, target width and height (from `NAME_WxH.npy`).
    static let resizeCases: [String] = (try? FileManager.default.contentsOfDirectory(atPath: resizeFixtures.path))?
        .filter { $0.hasSuffix(".npy") }.sorted() ?? []

    // MARK: - Reference pipeline

    @Test("chelsea and coffee preprocess to the reference inputs exactly", arguments: ["chelsea", "coffee"])
    func matchesReference(picture: String) throws {
        let image = try PNG.read(path: Self.referenceFixtures.appendingPathComponent("\(picture).png").path)
        let expected = try NPY.read(contentsOf: Self.referenceFixtures.appendingPathComponent("\(picture).input.npy"))
        let tensor = try ImagePreprocessing()(image)
        #expect(tensor.shape == [1, 3, 224, 224])
        #expect(expected.shape == tensor.shape)
        let values = tensor.scalars
        try #require(values.count == expected.values.count)
        let differences = zip(values, expected.values).map { abs($0 - $1) }
        let maxError = differences.max() ?? 0
        let differing = differences.filter { $0 > 0 }.count
        let report = "max |difference| \(maxError) (one uint8 step is 1/128); \(differing) of \(values.count) differ"
        #expect(maxError == 0, "\(report)")
    }

    @Test("the longer side rounds to nearest, or truncates like torchvision's Resize")
    func resizedSizes() throws {
        let nearest = ImagePreprocessing()
        #expect(try nearest.resizedSize(width: 451, height: 300) == (385, 256))
        #expect(try nearest.resizedSize(width: 300, height: 451) == (256, 385))
        #expect(try nearest.resizedSize(width: 600, height: 400) == (384, 256))
        #expect(try nearest.resizedSize(width: 80, height: 80) == (256, 256))
        #expect(try nearest.resizedSize(width: 1, height: 3) == (256, 768))
        let truncating = ImagePreprocessing(longerSideRounding: .towardZero)
        #expect(try truncating.resizedSize(width: 451, height: 300) == (384, 256))
    }

    @Test("gray and alpha images preprocess like the RGB image they convert to")
    func colorConversions() throws {
        // Gray + alpha: gray 16·i, alpha 16·i + 8; the RGB image repeats 16·i.
        let grayAlpha: [UInt8] = (0..<30).map { (i: Int) -> UInt8 in UInt8(i * 8) }
        let gray = try Image(width: 5, height: 3, channels: 2, bytes: grayAlpha)
        let repeated: [UInt8] = (0..<45).map { (i: Int) -> UInt8 in UInt8(i / 3 * 16) }
        let rgb = try Image(width: 5, height: 3, channels: 3, bytes: repeated)
        let preprocessing = ImagePreprocessing(resizeShorterSide: 8, cropSize: 6)
        #expect(try preprocessing(gray).scalars == preprocessing(rgb).scalars)

        let rgba16 = try Image(width: 5, height: 3, channels: 4, bitDepth: 16,
                               samples: (0..<15).flatMap { (i: Int) -> [UInt16] in
                                   let v = UInt16(i * 16) << 8 | 0xAB
                                   return [v, v, v, 7]
                               })
        #expect(try preprocessing(rgba16).scalars == preprocessing(rgb).scalars)
    }

    @Test("parameters out of range are rejected", arguments: [
        ImagePreprocessing(cropSize: 300), ImagePreprocessing(resizeShorterSide: 0), ImagePreprocessing(cropSize: 0),
        ImagePreprocessing(scale: 0), ImagePreprocessing(mean: .nan),
    ])
    func invalidParameters(preprocessing: ImagePreprocessing) throws {
        let image = try Image(width: 2, height: 2, channels: 1, bytes: [1, 2, 3, 4])
        let error = #expect(throws: ImageError.self) { try preprocessing(image) }
        guard case .invalidParameter = error else {
            Issue.record("expected .invalidParameter, got \(String(describing: error))")
            return
        }
    }

    @Test("an extreme aspect ratio that would exceed the pixel limit is rejected")
    func oversizedResize() throws {
        let strip = try Image(width: 1 << 20, height: 1, channels: 1, bytes: [UInt8](repeating: 9, count: 1 << 20))
        #expect(throws: ImageError.invalidSize(width: 1 << 28, height: 256)) { try ImagePreprocessing()(strip) }
    }

    // MARK: - Pillow's bilinear resize

    @Test("resizing matches Pillow's Image.resize(BILINEAR) exactly", arguments: resizeCases)
    func matchesPillow(file: String) throws {
        // NAME_WxH_OUTWxOUTH.npy: the source is NAME_WxH.png.
        let parts = file.dropLast(4).split(separator: "_")
        try #require(parts.count == 3)
        let size = parts[2].split(separator: "x").compactMap { Int($0) }
        try #require(size.count == 2)
        let source = try PNG.read(path: Self.resizeFixtures.appendingPathComponent("\(parts[0])_\(parts[1]).png").path)
        let expected = try NPY.read(contentsOf: Self.resizeFixtures.appendingPathComponent(file))
        let resized = try source.resizedBilinear(width: size[0], height: size[1])
        #expect(resized.width == size[0] && resized.height == size[1])
        let values = resized.samples.map { Float($0) }
        try #require(values.count == expected.values.count)
        let differing = zip(values, expected.values).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(values.count) samples differ from Pillow's")
    }

    @Test("there are resize fixtures to compare with")
    func resizeFixturesExist() {
        #expect(Self.resizeCases.count >= 10)
    }

    @Test("resizing to the same size is the identity; 16-bit input keeps its high byte")
    func identityResize() throws {
        let image = try Image(width: 4, height: 3, channels: 3, bitDepth: 16,
                              samples: (0..<36).map { UInt16($0 * 1800) })
        let resized = try image.resizedBilinear(width: 4, height: 3)
        #expect(resized.bitDepth == 8)
        #expect(resized.samples == image.samples.map { $0 >> 8 })
        #expect(throws: ImageError.invalidSize(width: 0, height: 3)) { try image.resizedBilinear(width: 0, height: 3) }
    }

    // MARK: - Image to tensor

    @Test("8-bit images keep their values, channels-first")
    func tensorLayout() throws {
        let image = try Image(width: 2, height: 1, channels: 3, bytes: [1, 2, 3, 4, 5, 6])
        let tensor = image.tensor()
        #expect(tensor.shape == [1, 3, 1, 2])
        #expect(tensor.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test("16-bit samples scale by 255 / 65535; gray expands to RGB; alpha drops on request")
    func tensorOptions() throws {
        let image = try Image(width: 2, height: 1, channels: 2, bitDepth: 16, samples: [65535, 100, 257, 200])
        let all = image.tensor()
        #expect(all.shape == [1, 2, 1, 2])
        #expect(all.scalars == [255, 1, Float(100) / 257, Float(200) / 257])
        let rgb = image.tensor(droppingAlpha: true, expandingGrayToRGB: true)
        #expect(rgb.shape == [1, 3, 1, 2])
        #expect(rgb.scalars == [255, 1, 255, 1, 255, 1])
        let grayAlpha = image.tensor(expandingGrayToRGB: true)
        #expect(grayAlpha.shape == [1, 4, 1, 2])
        let gray = image.tensor(droppingAlpha: true)
        #expect(gray.scalars == [255, 1])
    }
}
