import Foundation
import Testing
@testable import Pointwise

/// `import-torch`, `classify` and `models` end to end: real conversions, and bad input answered
/// with exit status 2, an `error:` line naming the file and no output file.
@Suite struct ModelCommandTests {
    static let torchFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/torch").standardizedFileURL

    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pointwise-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("import-torch converts zip and legacy checkpoints to safetensors with the same tensors",
          arguments: ["state_dict.pth", "state_dict_legacy.pth"])
    func importTorch(file: String) throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = Self.torchFixtures.appendingPathComponent(file).path
        let output = directory.appendingPathComponent("w.safetensors").path
        let result = try CommandLineTests.run(["import-torch", checkpoint, "--output", output])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let expected = try TorchCheckpoint.read(path: checkpoint)
        let converted = try SafeTensorsFile(path: output)
        #expect(converted.arrays.map(\.name) == expected.map(\.name))
        for (name, array) in expected {
            let copy = try converted.array(named: name)
            #expect(copy.elementType == array.elementType && copy.shape == array.shape)
            #expect(Array(copy.bytes) == Array(array.bytes), "\(name)")
        }
    }

    @Test("import-torch refuses hostile checkpoints: exit 2, the file and problem named, nothing written",
          arguments: ["os_system.pth", "eval_stack_global.pth", "truncated_storage.pth", "lying_count.pth", "bad_magic.pth"])
    func importHostile(file: String) throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("w.safetensors").path
        let result = try CommandLineTests.run(["import-torch", Self.torchFixtures.appendingPathComponent("hostile/\(file)").path,
                                               "--output", output])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: CHECKPOINT: ") && result.stderr.contains(file), "stderr: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("classify refuses weights that are not EfficientNet-Lite0's, or missing, naming --weights")
    func classifyBadWeights() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("x.npy")
        try NPY.write(NPYArray(shape: [1, 3, 32, 32], values: Array(repeating: 0, count: 3 * 32 * 32)), to: input)
        let logits = directory.appendingPathComponent("l.npy").path
        for weights in [Self.torchFixtures.appendingPathComponent("state_dict.pth").path,   // another model
                        directory.appendingPathComponent("missing.safetensors").path,
                        input.path] {                                                      // not a weights file
            let result = try CommandLineTests.run(["classify", input.path, "--weights", weights, "--logits-out", logits])
            #expect(result.status == 2)
            #expect(result.stderr.hasPrefix("error: --weights: "), "stderr: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: logits))
        }
    }

    @Test("classify refuses bad pictures and options with exit status 2", arguments: [
        (["--top", "0"], "--top"),
        (["--dense-size", "8"], "--dense-size"),
        (["--threads", "0"], "--threads"),
    ])
    func classifyBadOptions(options: [String], subject: String) throws {
        let result = try CommandLineTests.run(["classify", "picture.png"] + options)
        #expect(result.status == 2)
        #expect(result.stderr.contains(subject), "stderr: \(result.stderr)")
    }

    @Test("classify names the picture that is not a PNG, or a tensor of the wrong shape")
    func classifyBadInput() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fake = directory.appendingPathComponent("photo.png")
        try Data("not a picture".utf8).write(to: fake)
        let wrong = directory.appendingPathComponent("x.npy")
        try NPY.write(NPYArray(shape: [1, 4, 8, 8], values: Array(repeating: 0, count: 256)), to: wrong)
        for (input, subject) in [(fake.path, "photo.png"), (wrong.path, "x.npy")] {
            // The input is checked before the weights are loaded, so any --weights will do.
            let result = try CommandLineTests.run(["classify", input, "--weights", "/nonexistent/weights.safetensors"])
            #expect(result.status == 2)
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(subject), "stderr: \(result.stderr)")
        }
    }

    @Test("models fetch --from another model's checkpoint stores nothing and says why")
    func fetchWrongCheckpoint() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTests.run([
            "models", "fetch", "efficientnet-lite0", "--from", Self.torchFixtures.appendingPathComponent("state_dict.pth").path,
            "--directory", directory.path,
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not the efficientnet-lite0 checkpoint"), "stderr: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("compress refuses budgets outside (0, 1], bad thread counts, calibration sizes and distillation settings before loading anything")
    func compressBadArguments() throws {
        for arguments in [["--budgets", "0.7,0"], ["--budgets", "1.5"], ["--budgets", "x"], ["--threads", "0"],
                          ["--calibration-sizes", "320,16"], ["--distill-steps", "-1"], ["--distill-batch", "0", "--distill-steps", "5"],
                          ["--distill-rate", "0", "--distill-steps", "5"], ["--distill-temperature", "nan", "--distill-steps", "5"],
                          ["--distill-block-weight", "-1", "--distill-steps", "5"],
                          ["--calibration-sizes", "200", "--distill-steps", "5"]] {
            let result = try CommandLineTests.run(["compress", "--weights", "/nonexistent.safetensors"] + arguments)
            #expect(result.status == 2 && result.stderr.contains(arguments[0]), "\(arguments): \(result.stderr)")
        }
    }

    @Test("models fetch refuses an unknown model and a missing --from file")
    func fetchBadArguments() throws {
        let unknown = try CommandLineTests.run(["models", "fetch", "resnet-50"])
        #expect(unknown.status == 2 && unknown.stderr.contains("resnet-50"), "stderr: \(unknown.stderr)")
        let missing = try CommandLineTests.run(["models", "fetch", "efficientnet-lite0", "--from", "/nonexistent/x.whl"])
        #expect(missing.status == 2 && missing.stderr.contains("--from"), "stderr: \(missing.stderr)")
    }

    @Test("cost prints the articles' comparisons with the hand-checked savings")
    func cost() throws {
        let (status, text) = try CommandLineTests.output(["cost", "--skip-measure"])
        #expect(status == 0)
        #expect(text.contains("2,359,296") && text.contains("102,400") && text.contains("23.0× fewer parameters"))
        #expect(text.contains("1×1 laterals: 9.0× fewer"))
        let bad = try CommandLineTests.run(["cost", "--threads", "0"])
        #expect(bad.status == 2 && bad.stderr.contains("--threads"))
    }

    @Test("visualize draws a grid and a heatmap, and refuses bad channel lists without writing")
    func visualize() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix64(seed: 1)
        let x = directory.appendingPathComponent("x.npy"), w = directory.appendingPathComponent("w.npy")
        try NPY.write(NPYArray(shape: [1, 5, 8, 8], values: TestSupport.randomValues(320, using: &random)), to: x)
        try NPY.write(NPYArray(shape: [4, 5, 1, 1], values: TestSupport.randomValues(20, using: &random)), to: w)
        let grid = directory.appendingPathComponent("grid.png").path, heat = directory.appendingPathComponent("heat.png").path
        #expect(try CommandLineTests.run(["visualize", "--input", x.path, "--channels", "0-4", "--output", grid]).status == 0)
        #expect(try CommandLineTests.run(["visualize", "--weights", w.path, "--output", heat]).status == 0)
        #expect(try PNG.read(path: grid).width > 5 * 64 && PNG.read(path: heat).height > 4)
        let bad = directory.appendingPathComponent("bad.png").path
        for arguments in [["--input", x.path, "--channels", "3-9"], ["--input", x.path, "--channels", "x"],
                          ["--input", x.path, "--weights", w.path], ["--weights", x.path]] {
            let result = try CommandLineTests.run(["visualize"] + arguments + ["--output", bad])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: bad))
        }
    }
}
