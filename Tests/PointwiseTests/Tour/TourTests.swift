import Foundation
import Testing
@testable import Pointwise

/// The tour end to end (in its quick mode): every step's claim holds, and every picture is looked at.
@Suite struct TourTests {
    @Test("every step runs, its claims hold, and every picture is a real, non-constant PNG")
    func tour() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pointwise-tour-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = ModelStore().cachedPath(for: .efficientnetLite0)
        let photo = EfficientNetLitePretrainedTests.fixtures.appendingPathComponent("chelsea.png").path
        let steps = try Tour(output: folder.path, threads: 2, quick: true, weights: weights, photo: photo).run()
        let figures = steps.flatMap(\.figures).joined(separator: "\n")
        #expect(figures.contains("2,359,296 → 102,400 parameters"))
        #expect(figures.contains("XOR accuracy 50%") && figures.contains("XOR accuracy 100%"))
        let grayscale = try #require(steps.first { $0.title.hasPrefix("Grayscale") })
        let fixed = try #require(grayscale.figures.first)   // "fixed weights: max |conv − formula| = 6.0e-08 over …"
        let difference = try #require(Double(fixed.split(separator: "= ")[1].split(separator: " ")[0]))
        #expect(difference <= 1e-6, "\(fixed)")
        let report = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        for (index, step) in steps.enumerated() {
            #expect(report.contains("## \(index + 1). \(step.title)"))
            for picture in step.pictures {
                #expect(report.contains("![\(picture)](\(picture))"))
                let image = try PNG.read(path: folder.appendingPathComponent(picture).path)
                #expect(image.width >= 100 && image.height >= 100, "\(picture): \(image.width)×\(image.height)")
                #expect(Set(image.samples).count > 4, "\(picture) is nearly constant")
            }
        }
        #expect(steps.flatMap(\.pictures).count >= 9)
        #expect(figures.contains("16 components keep 99.99% of the variance"))
        let comparison = try #require(steps.first { $0.title.hasPrefix("PCA versus") }).figures
        let ratios = comparison.compactMap { $0.split(separator: "(").last.flatMap { Double($0.prefix { $0 != "×" }) } }
        #expect(ratios.count == 3 && ratios[0] == 1 && ratios[1] >= 0.999 && ratios[1] < 2, "\(comparison)")
    }

    @Test("an output path that is a file is refused, and nothing is written")
    func unwritable() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pointwise-tour-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: FileAccessError.self) { try Tour(output: file.path, quick: true).run() }
    }
}
