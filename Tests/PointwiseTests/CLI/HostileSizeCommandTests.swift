import Foundation
import Testing
@testable import Pointwise

/// Numbers far beyond anything real on the command line — thread counts, groups, batch sizes,
/// steps, labels, benchmark shapes — answered with exit status 2 and an `error:` line naming the
/// argument, never a crash.
@Suite struct HostileSizeCommandTests {
    static let huge = String(Int.max)

    /// A scratch directory with X [2, 5, 3, 4], W [7, 5, 1, 1] (`CommandLineTests.makeFiles`), and
    /// int64 labels [2, 3, 4] of 0 and 1 except one of 2⁴⁰.
    static func makeFiles() throws -> URL {
        let directory = try CommandLineTests.makeFiles()
        var labels = (0..<24).map { Int64($0 % 2) }
        labels[5] = 1 << 40
        let bytes = labels.withUnsafeBytes { Data($0) }
        try NPY.encode(RawArray(elementType: .int64, shape: [2, 3, 4], data: bytes))
            .write(to: directory.appendingPathComponent("labels.npy"))
        return directory
    }

    @Test("bad numbers: exit status 2, an error naming the argument, no output", arguments: [
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--threads", "9223372036854775807"], "--threads"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--groups", "9223372036854775807"], "--groups"),
        (["classify", "x.npy", "--threads", "3000000000"], "--threads"),
        (["bench", "--threads", "3000000000"], "--threads"),
        (["bench", "--shape", "1,1,1,4294967296,4294967296", "--skip-reference"], "--shape 1,1,1,4294967296,4294967296"),
        (["train", "--input", "x.npy", "--labels", "labels.npy"], "--labels"),
        (["pca", "--input", "x.npy", "--components", "2", "--compare", "--steps", "9223372036854775807"], "--steps"),
    ])
    func badNumbers(arguments: [String], named subject: String) throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writes = ["apply", "train", "pca"].contains(arguments[0])
        try CommandLineTests.expectRefused(arguments, in: directory, outputs: writes ? ["--output", "out"] : [],
                                           naming: subject)
    }

    @Test("apply --explain with a stride of Int.max explains and writes the one-pixel output")
    func explainHugeStride() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let result = try CommandLineTests.output(["apply", "--input", path("x.npy"), "--weight", path("w.npy"),
                                                  "--stride", Self.huge, "--explain", "--output", path("y.npy")])
        #expect(result.status == 0)
        #expect(result.stdout.contains("conv1x1: [2, 5, 3, 4] → [2, 7, 1, 1], streamed in tiles of [1, 5, 1] → [1, 7, 1]"),
                "stdout: \(result.stdout)")
        #expect(try NPY.read(contentsOf: URL(fileURLWithPath: path("y.npy"))).shape == [2, 7, 1, 1])
    }

    @Test("train with a batch size of Int.max takes every pixel in one step")
    func trainHugeBatch() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let result = try CommandLineTests.run(["train", "--input", path("x.npy"), "--target", path("x.npy"), "--epochs", "1",
                                               "--batch-size", Self.huge, "--threads", "1", "--output", path("model")])
        #expect(result.status == 0, "stderr: \(result.stderr)")
    }
}
