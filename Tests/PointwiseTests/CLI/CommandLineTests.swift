import Foundation
import Testing
@testable import Pointwise

/// The `pointwise` executable end to end: results equal to the library's, and bad input
/// answered with exit status 2, an `error:` line naming the argument or file, and no output file.
@Suite struct CommandLineTests {
    /// The built `pointwise` binary, beside the test bundle in the build directory.
    static var binary: URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("pointwise")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    /// Runs the binary (with `environment` added to this process's); returns its exit status and
    /// standard error.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        try launch(arguments, readingStandardOutput: false, environment: environment)
    }

    /// Runs the binary; returns its exit status and standard output.
    static func output(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        try launch(arguments, readingStandardOutput: true)
    }

    /// Runs `arguments` in `directory` — names ending in .npy or .png are files in it, and so is
    /// every non-option entry of `outputs`, appended — and expects a refusal: exit status 2, an
    /// error line starting `error: ` and then `subject` (when given) and containing `phrase`,
    /// and `directory` holding the same files as before (no output, no temporary file).
    static func expectRefused(_ arguments: [String], in directory: URL, outputs: [String] = [],
                              naming subject: String? = nil, saying phrase: String = "") throws {
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        func inside(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let resolved = arguments.map { $0.hasSuffix(".npy") || $0.hasSuffix(".png") ? inside($0) : $0 }
        let result = try run(resolved + outputs.map { $0.hasPrefix("--") ? $0 : inside($0) })
        #expect(result.status == 2, "\(arguments): stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: " + (subject ?? "")) && (phrase.isEmpty || result.stderr.contains(phrase)),
                "stderr: \(result.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == before)
    }

    /// Runs the binary, reading one of its output streams (the other is discarded).
    private static func launch(_ arguments: [String], readingStandardOutput: Bool,
                               environment: [String: String] = [:]) throws -> (Int32, String) {
        let binary = try #require(Self.binary, "the pointwise executable is not built beside the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = readingStandardOutput ? pipe : FileHandle.nullDevice
        process.standardError = readingStandardOutput ? FileHandle.nullDevice : pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// A fresh scratch directory holding X [2, 5, 3, 4], W [7, 5, 1, 1], bias [7] and R [2, 7, 2, 2].
    static func makeFiles() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pointwise-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var random = SplitMix64(seed: 5)
        let arrays: [(String, [Int])] = [("x", [2, 5, 3, 4]), ("w", [7, 5, 1, 1]), ("b", [7]), ("r", [2, 7, 2, 2])]
        for (name, shape) in arrays {
            let values = TestSupport.randomValues(shape.reduce(1, *), using: &random)
            try NPY.write(NPYArray(shape: shape, values: values), to: directory.appendingPathComponent("\(name).npy"))
        }
        return directory
    }

    @Test("apply writes what the library computes, bit for bit (bias, residual, stride, activation)")
    func applyMatchesLibrary() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let result = try Self.run([
            "apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--bias", path("b.npy"),
            "--residual", path("r.npy"), "--stride", "2", "--activation", "relu6", "--threads", "2",
            "--output", path("y.npy"),
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let output = try NPY.read(contentsOf: directory.appendingPathComponent("y.npy"))
        let read = { (name: String) throws -> NPYArray in try NPY.read(contentsOf: directory.appendingPathComponent(name)) }
        let (x, w, b, r) = (try read("x.npy"), try read("w.npy"), try read("b.npy"), try read("r.npy"))
        let conv = try Conv1x1(weight: Tensor(shape: w.shape, values: w.values), bias: b.values, stride: 2,
                               activation: .relu6)
        let expected = try conv(Tensor(shape: x.shape, values: x.values),
                                residual: Tensor(shape: r.shape, values: r.values), options: ExecutionOptions(threads: 1))
        #expect(output.shape == [2, 7, 2, 2])
        #expect(output.values == expected.scalars)
    }

    @Test("POINTWISE_KERNELS runs the family it names (the library's bits with that family) and refuses names it does not know")
    func kernelFamilyFromEnvironment() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let read = { (name: String) throws -> NPYArray in try NPY.read(contentsOf: directory.appendingPathComponent(name)) }
        let (x, w) = (try read("x.npy"), try read("w.npy"))
        let conv = try Conv1x1(weight: Tensor(shape: w.shape, values: w.values), activation: .silu)
        for kernels in KernelConfig.available {
            let result = try Self.run(["apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--activation", "silu",
                                       "--output", path("y.npy")],
                                      environment: ["POINTWISE_KERNELS": kernels.shortName])
            #expect(result.status == 0, "\(kernels.shortName): \(result.stderr)")
            let expected = try conv(Tensor(shape: x.shape, values: x.values),
                                    options: ExecutionOptions(threads: 1, kernels: kernels))
            #expect(try read("y.npy").values == expected.scalars, "\(kernels.shortName)")
        }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("y.npy"))
        let unknown = try Self.run(["apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--output", path("y.npy")],
                                   environment: ["POINTWISE_KERNELS": "sse9"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("error: POINTWISE_KERNELS: unknown kernel family 'sse9'"), "\(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("y.npy")))
        if KernelConfig.avx512 == nil {
            let missing = try Self.run(["cost", "--help"], environment: ["POINTWISE_KERNELS": "avx512"])
            #expect(missing.status == 2 && missing.stderr.contains("cannot run the 'avx512' kernels"), "\(missing.stderr)")
        }
    }

    @Test("bad input: exit status 2, an error naming the argument or file, no output file", arguments: [
        (["--weight", "w.npy"], "--input"),                        // missing option
        (["--input", "missing.npy", "--weight", "w.npy"], "missing.npy"),
        (["--input", "x.npy", "--weight", "b.npy"], "--weight"),   // a weight of rank 1
        (["--input", "x.npy", "--weight", "w.npy", "--groups", "2"], "--groups"),
        (["--input", "x.npy", "--weight", "w.npy", "--residual", "x.npy"], "--residual"),
        (["--input", "x.npy", "--weight", "w.npy", "--activation", "gelu"], "--activation"),
        (["--input", "x.npy", "--weight", "w.npy", "--threads", "0"], "--threads"),
        (["--input", "truncated.npy", "--weight", "w.npy"], "truncated.npy"),
        (["--input", "x.npy", "--weight", "w.npy", "--no-such-flag"], "--no-such-flag"),
    ])
    func badInput(arguments: [String], named subject: String) throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let x = try Data(contentsOf: directory.appendingPathComponent("x.npy"))
        try x.prefix(x.count - 7).write(to: directory.appendingPathComponent("truncated.npy"))
        let output = directory.appendingPathComponent("y.npy")
        let resolved = arguments.map { $0.hasSuffix(".npy") ? directory.appendingPathComponent($0).path : $0 }
        let result = try Self.run(["apply"] + resolved + ["--output", output.path])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(subject), "stderr: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(Set(leftovers) == ["x.npy", "w.npy", "b.npy", "r.npy", "truncated.npy"], "left behind: \(leftovers)")
    }

    @Test("apply --explain describes the GEMM of the input's own tiles: its pixels, stride and layout")
    func explainDescribesTheInput() throws {
        let directory = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var random = SplitMix64(seed: 8)
        try NPY.write(NPYArray(shape: [1, 40, 7, 7], values: TestSupport.randomValues(40 * 49, using: &random)),
                      to: directory.appendingPathComponent("x7.npy"))
        try NPY.write(NPYArray(shape: [1, 7, 7, 40], values: TestSupport.randomValues(40 * 49, using: &random)),
                      to: directory.appendingPathComponent("x7-nhwc.npy"))
        try NPY.write(NPYArray(shape: [20, 40], values: TestSupport.randomValues(800, using: &random)),
                      to: directory.appendingPathComponent("w20.npy"))
        for (input, extra, gemm, edges) in [
            ("x7.npy", [String](), "Y[20×49] = W[20×40] · X[40×49]", "edges: the last 1 of the 49 columns"),
            ("x7.npy", ["--stride", "2"], "Y[20×16] = W[20×40] · X[40×16]", "edges: a last row panel of 2 of the 20 rows"),
            ("x7-nhwc.npy", ["--layout", "nhwc"], "Y[49×20] = X[49×40] · Wᵀ[40×20]",
             "edges: the last 4 of the 20 columns in an 8-wide edge tile"),
        ] {
            let result = try Self.output(["apply", "--input", path(input), "--weight", path("w20.npy"), "--explain",
                                          "--output", path("y.npy")] + extra)
            #expect(result.status == 0)
            #expect(result.stdout.contains(gemm) && result.stdout.contains(edges), "\(input) \(extra): \(result.stdout)")
        }
        // The first line gives the whole input, then the tile each GEMM runs on; the input is read with pread.
        let result = try Self.output(["apply", "--input", path("x.npy"), "--weight", path("w.npy"), "--explain",
                                      "--output", path("y.npy")])
        #expect(result.stdout.hasPrefix("conv1x1: [2, 5, 3, 4] → [2, 7, 3, 4], streamed in tiles of [1, 5, 12] → [1, 7, 12]"),
                "\(result.stdout)")
        #expect(result.stdout.contains("read with pread") && !result.stdout.contains("memory-mapped"), "\(result.stdout)")
        let nhwc = try Self.output(["apply", "--input", path("x7-nhwc.npy"), "--weight", path("w20.npy"), "--layout", "nhwc",
                                    "--explain", "--output", path("y.npy")])
        #expect(nhwc.stdout.hasPrefix("conv1x1: [1, 40, 7, 7] → [1, 20, 7, 7], streamed in tiles of [1, 40, 49]"),
                "\(nhwc.stdout)")
    }

    @Test("bench rejects a malformed --shape with exit status 2")
    func benchBadShape() throws {
        let result = try Self.run(["bench", "--shape", "1,2,3", "--skip-reference"])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: --shape 1,2,3"), "stderr: \(result.stderr)")
    }
}
