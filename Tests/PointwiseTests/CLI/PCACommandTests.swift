import Foundation
import Testing
@testable import Pointwise

/// `pointwise pca` end to end: the file it writes holds the library's PCA, either layout, and bad
/// input exits with status 2, names the argument or file, and writes nothing.
@Suite struct PCACommandTests {
    /// A scratch directory with the fixture X (nchw), the same in nhwc, a NaN and a one-pixel file.
    static func makeFiles() throws -> URL {
        let directory = try FormatFixtures.temporaryDirectory()
        let x = try PCAFixtures.x()
        try NPY.write(NPYArray(shape: x.shape, values: x.scalars), to: directory.appendingPathComponent("x.npy"))
        try NPY.write(NPYArray(shape: [4, 8, 8, 6], values: x.converted(to: .channelsLast).scalars),
                      to: directory.appendingPathComponent("x_nhwc.npy"))
        var poisoned = x.scalars
        poisoned[17] = .nan
        try NPY.write(NPYArray(shape: x.shape, values: poisoned), to: directory.appendingPathComponent("nan.npy"))
        try NPY.write(NPYArray(shape: [1, 6, 1, 1], values: Array(x.scalars.prefix(6))),
                      to: directory.appendingPathComponent("one.npy"))
        return directory
    }

    @Test("round trip: weight [K, C], bias [K], mean [C], explained_variance [K] equal the library's, both layouts")
    func roundTrip() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pca = try PCA(fitting: PCAFixtures.x()), encoder = try pca.encoder(components: 3)
        for (file, layout) in [("x.npy", "nchw"), ("x_nhwc.npy", "nhwc")] {
            let output = directory.appendingPathComponent("pca-\(layout).safetensors").path
            let result = try CommandLineTests.run([
                "pca", "--input", directory.appendingPathComponent(file).path, "--components", "3",
                "--layout", layout, "--output", output,
            ])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let saved = try SafeTensorsFile(path: output)
            #expect(saved.names == ["weight", "bias", "mean", "explained_variance"])
            let expected: [(String, [Int], [Float])] = [
                ("weight", [3, 6], encoder.weight.scalars), ("bias", [3], encoder.bias!),
                ("mean", [6], pca.mean.map(Float.init)),
                ("explained_variance", [3], pca.explainedVariance.prefix(3).map(Float.init)),
            ]
            for (name, shape, values) in expected {
                let array = try saved.array(named: name)
                #expect(array.elementType == .float32 && array.shape == shape, "\(layout) \(name): \(array.shape)")
                #expect(array.floats() == values, "\(layout) \(name)")
            }
        }
    }

    @Test("bad input: exit status 2, an error naming the argument or file, no output file", arguments: [
        (["--input", "x.npy", "--components", "0"], "--components"),
        (["--input", "x.npy", "--components", "7"], "--components"),
        (["--input", "missing.npy", "--components", "2"], "missing.npy"),
        (["--input", "nan.npy", "--components", "2"], "nan.npy"),
        (["--input", "one.npy", "--components", "2"], "one.npy"),
        (["--input", "x.npy", "--components", "2", "--layout", "nhcw"], "--layout"),
        (["--input", "x.npy", "--components", "2", "--compare", "--steps", "0"], "--steps"),
        (["--input", "x.npy", "--components", "2", "--compare", "--lr", "0"], "--lr"),
    ])
    func badInput(arguments: [String], named subject: String) throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        let output = directory.appendingPathComponent("pca.safetensors")
        let resolved = arguments.map { $0.hasSuffix(".npy") ? directory.appendingPathComponent($0).path : $0 }
        let result = try CommandLineTests.run(["pca"] + resolved + ["--output", output.path])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(subject), "stderr: \(result.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == before)
    }
}
