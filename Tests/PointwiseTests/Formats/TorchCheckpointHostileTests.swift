import Foundation
import Testing
@testable import Pointwise

/// Checkpoints the reader must refuse (scripts/make_torch_fixtures.py writes them by hand or by
/// editing real ones), each with the error it must produce, and corrupted copies of real
/// checkpoints that must fail cleanly rather than crash.
@Suite("TorchCheckpoint hostile input")
struct TorchCheckpointHostileTests {
    static func fixture(_ name: String) -> String {
        TorchCheckpointTests.fixtures.appendingPathComponent("hostile/\(name)").path
    }

    /// Runs `body` with the path of a file in a fresh temporary folder, removed afterwards.
    static func withTemporaryPath(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("TorchHostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder.appendingPathComponent("checkpoint.pth").path)
    }

    /// One bad file and a test of the error it must produce (paths vary, so most cases match the
    /// case and its key fields).
    struct BadFile: Sendable, CustomTestStringConvertible {
        var file: String
        var matches: @Sendable (TorchCheckpointError, String) -> Bool
        var testDescription: String { file }
    }

    static func forbidden(_ file: String, _ global: String) -> BadFile {
        BadFile(file: file) { error, path in error == .pickle(.forbiddenGlobal(name: path, global: global)) }
    }

    static let badFiles: [BadFile] = [
        forbidden("os_system.pth", "os.system"),
        forbidden("reduce_posix_system.pth", "posix.system"),
        forbidden("eval_stack_global.pth", "builtins.eval"),
        forbidden("getattr.pth", "__builtin__.getattr"),
        forbidden("popen.pth", "subprocess.Popen"),
        forbidden("numpy_reconstruct.pth", "numpy.core.multiarray._reconstruct"),
        BadFile(file: "truncated_storage.pth") { error, _ in
            if case .truncated(_, let part, _, _) = error { return part.hasPrefix("storage '") }
            return false
        },
        BadFile(file: "truncated_pickle.pth") { error, _ in
            if case .pickle(.truncated) = error { return true }
            return false
        },
        BadFile(file: "truncated_zip.pth") { error, path in
            error == .malformed(path: path, reason: "no end of central directory record (the archive is "
                                + "truncated or not a zip file)")
        },
        BadFile(file: "lying_count.pth") { error, _ in
            if case .sizeMismatch(_, _, let expected, let found) = error { return found > expected }
            return false
        },
        BadFile(file: "huge_count.pth") { error, _ in
            if case .sizeMismatch(_, _, _, let found) = error { return found == Int.max }
            return false
        },
        BadFile(file: "bad_magic.pth") { error, path in error == .badMagicNumber(path: path) },
        BadFile(file: "not_a_checkpoint.pth") { error, path in error == .notACheckpoint(path: path) },
        BadFile(file: "missing_storage.pth") { error, path in error == .storageKeyMissing(path: path, key: "0") },
        BadFile(file: "short_storage.pth") { error, path in
            error == .sizeMismatch(path: path, storage: "state_dict/data/0", expectedBytes: 48, foundBytes: 44)
        },
        BadFile(file: "big_endian.pth") { error, path in error == .bigEndian(path: path) },
        BadFile(file: "out_of_bounds.pth") { error, _ in
            if case .tensorOutOfBounds(_, "w", _) = error { return true }
            return false
        },
        BadFile(file: "torchscript.pt") { error, _ in
            if case .unsupportedFormat(_, let reason) = error { return reason.contains("TorchScript") }
            return false
        },
    ]

    @Test("each hostile or broken file is refused with its error", arguments: badFiles)
    func refused(_ bad: BadFile) {
        let path = Self.fixture(bad.file)
        do {
            let tensors = try TorchCheckpoint.read(path: path)
            Issue.record("\(bad.file) was read: \(tensors.map(\.name))")
        } catch {
            #expect(bad.matches(error, path), "\(bad.file): \(error)")
            #expect(error.description.hasPrefix(path + ": "), "\(error.description)")
        }
    }

    // MARK: - Containers that nest, cycle or share themselves

    /// A legacy checkpoint around `object` (a protocol 2 pickle body that can use `tensor`), whose
    /// one storage `'0'` holds `values`.
    static func legacyCheckpoint(object: [UInt8], values: [Float] = [2]) -> [UInt8] {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + TorchCheckpoint.legacyMagic + [0x2E]
        let version: [UInt8] = [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
        let sysInfo: [UInt8] = [0x80, 0x02, 0x7D, 0x2E]
        let keys: [UInt8] = [0x80, 0x02, 0x5D] + PickleTests.unicode("0") + [0x61, 0x2E]
        let data = withUnsafeBytes(of: UInt64(values.count).littleEndian, Array.init)
            + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        return magic + version + sysInfo + [0x80, 0x02] + object + [0x2E] + keys + data
    }

    /// Pushes a float tensor of shape [`size`] on storage '0' of `storageCount` elements (and
    /// memoizes it as entry 0); `view` pushes the legacy view metadata.
    static func makeTensor(storageCount: UInt8 = 1, view: [UInt8] = [0x4E], size: UInt8 = 1) -> [UInt8] {
        PickleTests.global("torch._utils", "_rebuild_tensor_v2") + [0x28, 0x28]
            + PickleTests.unicode("storage") + PickleTests.global("torch", "FloatStorage") + PickleTests.unicode("0")
            + PickleTests.unicode("cpu") + [0x4B, storageCount] + view + [0x74, 0x51]
            + [0x4B, 0, 0x4B, size, 0x85, 0x4B, 1, 0x85, 0x89]
            + PickleTests.global("collections", "OrderedDict") + [0x29, 0x52, 0x74, 0x52, 0x71, 0]
    }

    static let tensor = makeTensor()

    /// `{'a': value}` around the opcodes that push `value`.
    static func dictA(_ value: [UInt8]) -> [UInt8] {
        [0x7D] + PickleTests.unicode("a") + value + [0x73]
    }

    static let nesting = "levels of nested containers (or a container holds itself)"

    static let abusedContainers: [(label: String, object: [UInt8], what: String)] = [
        // {'a': [[[ … [tensor] … ]]]}, 100 levels.
        ("deep nesting", dictA([UInt8](repeating: 0x5D, count: 100) + tensor + [UInt8](repeating: 0x61, count: 100)),
         nesting),
        // L = [tensor]; L.append(L)
        ("a list that holds itself", dictA([0x5D, 0x71, 1] + tensor + [0x61, 0x68, 1, 0x61]), nesting),
        // X = tensor, then 40 times X = [X, X]: 2⁴⁰ paths to one tensor.
        ("exponential sharing", dictA(tensor + (0..<40).flatMap { _ in [0x71, 2, 0x30, 0x28, 0x68, 2, 0x68, 2, 0x6C] }),
         "visits of shared containers"),
        // ((( … (tensor,) … ),),) a million deep: unpickles, then flattening stops at the depth limit.
        ("a million nested tuples", dictA(tensor + [UInt8](repeating: 0x85, count: 1_000_000)), nesting),
    ]

    @Test("containers that nest deeply, hold themselves or share exponentially are refused",
          arguments: abusedContainers)
    func containerAbuse(label: String, object: [UInt8], what: String) throws {
        try Self.withTemporaryPath { path in
            try Data(Self.legacyCheckpoint(object: object)).write(to: URL(fileURLWithPath: path))
            do throws(TorchCheckpointError) {
                let tensors = try TorchCheckpoint.read(path: path)
                Issue.record("\(label) was read: \(tensors.count) tensors")
            } catch {
                guard case .limitExceeded(path, what, _) = error else {
                    Issue.record("\(label): \(error)")
                    return
                }
            }
        }
    }

    @Test("the checkpoint builder itself reads its one tensor")
    func containerBaseline() throws {
        try Self.withTemporaryPath { path in
            try Data(Self.legacyCheckpoint(object: Self.dictA(Self.tensor))).write(to: URL(fileURLWithPath: path))
            let tensors = try TorchCheckpoint.read(path: path)
            #expect(tensors.map(\.name) == ["a"] && tensors.first?.array.floats() == [2])
        }
    }

    @Test("a legacy storage view (torch < 0.4) is its slice of the root storage")
    func legacyView() throws {
        // ('storage', FloatStorage, '0', 'cpu', 3, ('v', 1, 2)): elements 1 and 2 of [1, 2, 3].
        let view = [0x28] + PickleTests.unicode("v") + [0x4B, 1, 0x4B, 2, 0x74]
        let object = Self.dictA(Self.makeTensor(storageCount: 3, view: view, size: 2))
        try Self.withTemporaryPath { path in
            try Data(Self.legacyCheckpoint(object: object, values: [1, 2, 3])).write(to: URL(fileURLWithPath: path))
            #expect(try TorchCheckpoint.read(path: path).map { $0.array.floats() } == [[2, 3]])
        }
    }

    // MARK: - Corruption

    @Test("truncated and bit-flipped copies of real checkpoints fail cleanly or read consistently",
          arguments: ["state_dict.pth", "state_dict_legacy.pth", "state_dict_p4.pth"])
    func corruption(file: String) throws {
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: TorchCheckpointTests.fixture(file))))
        var random = SplitMix64(seed: 0x5EED)  // reproducible corruption
        var variants: [[UInt8]] = stride(from: 0, to: original.count, by: 31).map { Array(original.prefix($0)) }
        for _ in 0..<150 {
            var copy = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                copy[Int.random(in: 0..<copy.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            variants.append(copy)
        }
        var inconsistent: [String] = []
        try Self.withTemporaryPath { path in
            for variant in variants {
                try Data(variant).write(to: URL(fileURLWithPath: path))
                // Either outcome is fine; what matters is no crash, and arrays consistent with their shapes.
                guard let tensors = try? TorchCheckpoint.read(path: path) else { continue }
                for (name, array) in tensors
                where array.bytes.count != array.elementCount * array.elementType.byteCount {
                    inconsistent.append(name)
                }
            }
        }
        #expect(inconsistent.isEmpty)
    }
}
