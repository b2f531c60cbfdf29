import Foundation
import Testing
@testable import Pointwise

/// `apply --shard`, `merge`, `--max-memory` and interruption, end to end through the binary.
@Suite struct StreamingCommandTests {
    @Test("apply --shard I/N for every I, then merge, gives the file apply writes in one run")
    func shardThenMerge() throws {
        let directory = try CommandLineTests.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let common = ["apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--bias", path("b.npy"),
                      "--max-memory", "64M"]
        #expect(try CommandLineTests.run(common + ["--output", path("y.npy")]).status == 0)
        for index in 0..<3 {
            let result = try CommandLineTests.run(common + ["--shard", "\(index)/3", "--output", path("part\(index)")])
            #expect(result.status == 0, "stderr: \(result.stderr)")
        }
        let merge = try CommandLineTests.run(["merge", path("part2"), path("part0"), path("part1"), "--output", path("m.npy")])
        #expect(merge.status == 0, "stderr: \(merge.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("m.npy"))) == Data(contentsOf: URL(fileURLWithPath: path("y.npy"))))
        let incomplete = try CommandLineTests.run(["merge", path("part0"), path("part1"), "--output", path("bad.npy")])
        #expect(incomplete.status == 2)
        #expect(incomplete.stderr.contains("2/3 are missing"), "stderr: \(incomplete.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("bad.npy")))
    }

    @Test("bad --shard and --max-memory values: exit status 2 naming the option", arguments: [
        (["--shard", "3/3"], "--shard"), (["--shard", "x"], "--shard"),
        (["--max-memory", "12Q"], "--max-memory"), (["--max-memory", "1M"], "--max-memory"),
    ])
    func badSettings(arguments: [String], subject: String) throws {
        let directory = try CommandLineTests.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("y.npy").path
        let result = try CommandLineTests.run(["apply", "--input", directory.appendingPathComponent("x.npy").path,
                                               "--weight", directory.appendingPathComponent("w.npy").path]
                                              + arguments + ["--output", output])
        #expect(result.status == 2)
        #expect(result.stderr.contains(subject), "stderr: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("SIGTERM during a run removes the temporary file and leaves the previous output intact")
    func interrupted() throws {
        let binary = try #require(CommandLineTests.binary)
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        // 2M pixels through the reference loops on one thread: seconds of work, so the signal
        // lands mid-run (the test waits for the temporary file to appear before sending it).
        try NPY.write(NPYArray(shape: [1, 4, 2_000_000], values: [Float](repeating: 0.5, count: 8_000_000)),
                      to: URL(fileURLWithPath: path("x.npy")))
        try NPY.write(NPYArray(shape: [64, 4], values: [Float](repeating: 0.25, count: 256)),
                      to: URL(fileURLWithPath: path("w.npy")))
        let previous = Data("previous output".utf8)
        try previous.write(to: URL(fileURLWithPath: path("y.npy")))
        let process = Process()
        process.executableURL = binary
        process.arguments = ["apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--algorithm", "reference",
                             "--threads", "1", "--output", path("y.npy")]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        func temporaries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".tmp") }
        }
        while temporaries().isEmpty && process.isRunning && Date() < deadline { usleep(2_000) }
        #expect(process.isRunning, "the run ended before it could be interrupted")
        // SIGTERM, as a scheduler sends it. (A child of a non-interactive shell may start with
        // SIGINT ignored, and then rightly keeps ignoring it; this one also starts with every
        // signal blocked, inherited from the test runner's thread, which the tool undoes.)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGTERM)
        #expect(temporaries().isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("y.npy"))) == previous)
    }
}
