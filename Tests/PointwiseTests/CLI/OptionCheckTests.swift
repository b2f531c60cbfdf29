import Foundation
import Testing
@testable import Pointwise

/// Options checked before any work: values out of range (negative ones included), options that do
/// not apply to the chosen mode, and errors that name the option at fault, each with exit status 2
/// and no output file.
@Suite struct OptionCheckTests {
    /// A scratch directory with `CommandLineTests.makeFiles()`'s arrays and a few more: `nan.npy`
    /// [1, 2, 3, 3] (NaN in channel 0, nothing finite in channel 1), `loss.npy` [4] with a 0,
    /// `labels.npy` [2, 3, 4] of classes 0–2, `ignored.npy` all −100, `huge.npy` a uint64 label of
    /// 2⁶³, and `wide.png` (64×1).
    static func makeFiles() throws -> URL {
        let directory = try CommandLineTests.makeFiles()
        func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
        var nan = [Float](repeating: 1, count: 18)
        nan[4] = .nan
        for i in 9..<18 { nan[i] = .nan }
        nan[0] = 0
        try NPY.write(NPYArray(shape: [1, 2, 3, 3], values: nan), to: url("nan.npy"))
        try NPY.write(NPYArray(shape: [4], values: [1, 0.5, 0, 0.25]), to: url("loss.npy"))
        func integers(_ values: [UInt64], descr: String) -> Data {
            Data(NPY.makeHeader(shape: [2, 3, 4], descr: descr)) + values.withUnsafeBytes { Data($0) }
        }
        try integers((0..<24).map { UInt64($0 % 3) }, descr: "<i8").write(to: url("labels.npy"))
        try integers(Array(repeating: UInt64(bitPattern: -100), count: 24), descr: "<i8").write(to: url("ignored.npy"))
        try integers(Array(repeating: 0, count: 23) + [1 << 63], descr: "<u8").write(to: url("huge.npy"))
        try PNG.write(try Image(width: 64, height: 1, channels: 3, bytes: [UInt8](repeating: 128, count: 192)),
                      to: url("wide.png").path)
        return directory
    }

    @Test("refused with exit status 2, an error naming the option, and no output", arguments: [
        // visualize: options of another mode, duplicate channels, --log of non-positive values
        (["visualize", "--input", "x.npy", "--row", "1"], "--row"),
        (["visualize", "--input", "x.npy", "--log"], "--log"),
        (["visualize", "--weights", "w.npy", "--channels", "0-3"], "--channels"),
        (["visualize", "--history", "loss.npy", "--image", "1"], "--image"),
        (["visualize", "--input", "x.npy", "--channels", "0-3,2"], "channel 2 more than once"),
        (["visualize", "--history", "loss.npy", "--log"], "--log"),
        // train: no labelled pixel, a label out of range, epochs, momentum, hidden widths
        (["train", "--input", "x.npy", "--labels", "ignored.npy"], "no labelled pixels"),
        (["train", "--input", "x.npy", "--labels", "huge.npy"], "9223372036854775808, out of range"),
        (["train", "--input", "x.npy", "--labels", "labels.npy", "--epochs", "9223372036854775807"], "--epochs"),
        (["train", "--input", "x.npy", "--labels", "labels.npy", "--optimizer", "sgd", "--momentum", "2"], "--momentum"),
        (["train", "--input", "x.npy", "--labels", "labels.npy", "--momentum", "0.5"], "--momentum"),
        (["train", "--input", "x.npy", "--labels", "labels.npy", "--hidden", "99999999999"], "--hidden"),
        // bench: one benchmark at a time, options of another, --input named as itself
        (["bench", "--train", "--block"], "--train, --block"),
        (["bench", "--block", "--shape", "1,2,3,4,5"], "--shape, --block"),
        (["bench", "--input", "x.npy"], "--input"),
        (["bench", "--model", "efficientnet-lite0", "--input", "truncated.npy", "--weights", "w.npy"], "--input"),
        // compress: empty budgets, --calibrate without a use, sizes out of range
        (["compress", "--budgets", "1,,0.5"], "--budgets"),
        (["compress", "--budgets", ""], "--budgets"),
        (["compress", "--calibrate", "wide.png"], "--calibrate"),
        (["compress", "--calibration-sizes", "100000"], "--calibration-sizes"),
        // classify: a dense map the picture cannot be resized to fails before the model is loaded
        (["classify", "wide.png", "--dense-size", "100000", "--dense-map", "m.npy"], "--dense-size"),
        (["classify", "wide.png", "--dense-size", "4096", "--dense-map", "m.npy", "--weights", "missing.npy"], "--dense-size 4096"),
        // negative values reach the commands' own range checks
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--stride", "-1"], "--stride -1"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--groups", "-1"], "--groups -1"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--threads", "-1"], "--threads: must be in 1…1024, got -1"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--shard", "-1/4"], "0 ≤ I < N"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--max-memory", "-1"], "a size is a whole number of bytes ≥ 1"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--max-memory", "0"], "a size is a whole number of bytes ≥ 1"),
        (["apply", "--input", "x.npy", "--weight", "w.npy", "--max-memory", "1"], "48 MiB for the program itself"),
        (["train", "--input", "x.npy", "--labels", "labels.npy", "--hidden", "-1"], "--hidden -1"),
        (["visualize", "--input", "x.npy", "--channels", "-1"], "--channels"),
        (["help", "frobnicate"], "unknown subcommand 'frobnicate'"),
    ])
    func refused(arguments: [String], message: String) throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let x = try Data(contentsOf: directory.appendingPathComponent("x.npy"))
        try x.prefix(x.count - 7).write(to: directory.appendingPathComponent("truncated.npy"))
        let output = ["visualize": ["--output", "out.png"], "train": ["--output", "model"], "apply": ["--output", "y.npy"]]
        try CommandLineTests.expectRefused(arguments, in: directory, outputs: output[arguments[0]] ?? [], saying: message)
    }

    @Test("visualize draws NaN magenta, says how many, and names the channel with no finite value")
    func visualizeNaN() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let picture = directory.appendingPathComponent("nan.png").path
        let result = try CommandLineTests.run(["visualize", "--input", directory.appendingPathComponent("nan.npy").path,
                                               "--output", picture])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("10 of the 18 values drawn are NaN or infinite"), "stderr: \(result.stderr)")
        let image = try PNG.read(path: picture)
        let magenta = stride(from: 0, to: image.samples.count, by: image.channels).filter {
            image.samples[$0] == 255 && image.samples[$0 + 1] == 0 && image.samples[$0 + 2] == 255
        }.count
        #expect(magenta >= 10 * 16 * 16)   // 3×3 tiles zoomed by 16, the most
    }

    @Test("help with a known subcommand still succeeds")
    func helpTopics() throws {
        #expect(try CommandLineTests.run(["help", "apply"]).status == 0)
        #expect(try CommandLineTests.run(["help", "models", "fetch"]).status == 0)
        #expect(try CommandLineTests.run(["help", "models", "nonsense"]).status == 2)
    }

    @Test("train --momentum with sgd in [0, 1) runs")
    func momentumAccepted() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let result = try CommandLineTests.run(["train", "--input", path("x.npy"), "--labels", path("labels.npy"),
                                               "--optimizer", "sgd", "--momentum", "0.5", "--epochs", "2",
                                               "--output", path("model")])
        #expect(result.status == 0, "stderr: \(result.stderr)")
    }
}
