import Foundation
import Testing
@testable import Pointwise

/// Where the commands' outputs go: through FIFOs and symbolic links, never onto an input or another
/// output, checked before any work, and nothing of a failed run left behind.
@Suite struct OutputFileTests {
    /// The scratch files of `CommandLineTests.makeFiles()` and a path maker for them.
    static func scratch() throws -> (directory: URL, path: (String) -> String) {
        let directory = try CommandLineTests.makeFiles()
        return (directory, { directory.appendingPathComponent($0).path })
    }

    /// Runs the binary and expects exit status 2 with an error line containing every one of `phrases`.
    static func expectRefused(_ arguments: [String], saying phrases: [String]) throws {
        let result = try CommandLineTests.run(arguments)
        #expect(result.status == 2, "\(arguments): stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: "), "stderr: \(result.stderr)")
        for phrase in phrases { #expect(result.stderr.contains(phrase), "expected '\(phrase)': \(result.stderr)") }
    }

    @Test("apply writes through a FIFO (which stays a FIFO) and through a symbolic link (which stays a link)")
    func fifoAndLink() throws {
        let (directory, path) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let apply = ["apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--output"]
        #expect(try CommandLineTests.run(apply + [path("y.npy")]).status == 0)
        let expected = try Data(contentsOf: URL(fileURLWithPath: path("y.npy")))

        #expect(mkfifo(path("fifo"), 0o644) == 0)
        let reader = open(path("fifo"), O_RDONLY | O_NONBLOCK)  // open first: the writer does not wait
        try #require(reader >= 0)
        defer { close(reader) }
        let result = try CommandLineTests.run(apply + [path("fifo")])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        var received = [UInt8](repeating: 0, count: 1 << 16)
        let count = read(reader, &received, received.count)
        #expect(Data(received.prefix(max(count, 0))) == expected)
        var status = stat()
        #expect(lstat(path("fifo"), &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced")

        try FileManager.default.createDirectory(atPath: path("elsewhere"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: path("link.npy"), withDestinationPath: "elsewhere/y.npy")
        #expect(try CommandLineTests.run(apply + [path("link.npy")]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path("link.npy")) == "elsewhere/y.npy")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("elsewhere/y.npy"))) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path("elsewhere")) == ["y.npy"])
    }

    @Test("an output that is also an input is refused before any work, and the input is untouched")
    func outputIsAnInput() throws {
        let (directory, path) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let common = ["--input", path("x.npy"), "--weight", path("w.npy"), "--bias", path("b.npy")]
        for part in 0..<2 {
            let result = try CommandLineTests.run(["apply"] + common + ["--shard", "\(part)/2", "--output", path("p\(part)")])
            #expect(result.status == 0, "stderr: \(result.stderr)")
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        let contents = try before.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
        for (arguments, input) in [
            (["apply"] + common + ["--output", path("x.npy")], "--input"),
            (["apply"] + common + ["--output", directory.path + "/../" + directory.lastPathComponent + "/w.npy"], "--weight"),
            (["apply"] + common + ["--output", directory.path + "/./b.npy"], "--bias"),
            (["pca", "--input", path("x.npy"), "--components", "2", "--output", path("x.npy")], "--input"),
            (["merge", path("p0"), path("p1"), "--output", path("p0")], "PART"),
        ] {
            try Self.expectRefused(arguments, saying: ["--output: ", "is also the input \(input)"])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == before)
        #expect(try before.map { try Data(contentsOf: directory.appendingPathComponent($0)) } == contents)
    }

    @Test("two outputs naming the same file, or a bad second output, are refused before any work: no model, no logits")
    func badSecondOutput() throws {
        let (directory, path) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try CommandLineTests.run(["visualize", "--weights", path("w.npy"), "--output", path("picture.png")]).status == 0)
        let train = ["train", "--input", path("x.npy"), "--target", path("x.npy"), "--epochs", "1"]
        let classify = ["classify", path("picture.png"), "--logits-out", path("l.npy"), "--dense-map"]
        for (arguments, phrases) in [
            (train + ["--history", path("model"), "--output", path("model")], ["--history: ", "is also the output --output"]),
            (train + ["--history", path("no/h.npy"), "--output", path("model")], ["--history: ", "does not exist"]),
            (train + ["--output", path("no/model")], ["--output: ", "does not exist"]),
            (classify + [directory.path + "/./l.npy"], ["--dense-map: ", "is also the output --logits-out"]),
            (classify + [path("no/m.npy")], ["--dense-map: ", "does not exist"]),
            (["bench", "--shape", "1,8,8,4,4", "--skip-reference", "--json", path("no/r.json")], ["--json: ", "does not exist"]),
        ] {
            try Self.expectRefused(arguments, saying: phrases)
        }
        #expect(!FileManager.default.fileExists(atPath: path("model")))
        #expect(!FileManager.default.fileExists(atPath: path("l.npy")))
    }

    @Test("a folder or FIFO given as any input file gets the same message, naming the path once")
    func specialInputs() throws {
        let (directory, path) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: false)
        #expect(mkfifo(path("fifo"), 0o644) == 0)
        // (A FIFO as --input or --residual is only tried as a folder: a reader that opens it waits for a writer.)
        for (special, options) in [("folder", ["--input", "--weight", "--bias", "--residual"]), ("fifo", ["--weight", "--bias"])] {
            for option in options {
                var files = ["--input": path("x.npy"), "--weight": path("w.npy")]
                files[option] = path(special)
                let arguments = files.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
                try Self.expectRefused(["apply"] + arguments + ["--output", path("y.npy")],
                                       saying: ["error: \(option): \(path(special)): not a regular file"])
            }
        }
        #expect(!FileManager.default.fileExists(atPath: path("y.npy")))
    }
}
