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
    static func legacyCheckpoint(object: [UInt8], values: [Float] = [2], keys keyList: [String] = ["0"],
                                 version: UInt8 = 0xE9) -> [UInt8] {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + TorchCheckpoint.legacyMagic + [0x2E]
        let version: [UInt8] = [0x80, 0x02, 0x4D, version, 0x03, 0x2E]
        let sysInfo: [UInt8] = [0x80, 0x02, 0x7D, 0x2E]
        let keys: [UInt8] = [0x80, 0x02, 0x5D] + keyList.flatMap { PickleTests.unicode($0) + [0x61] } + [0x2E]
        let data = withUnsafeBytes(of: UInt64(values.count).littleEndian, Array.init)
            + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        return magic + version + sysInfo + [0x80, 0x02] + object + [0x2E] + keys + data
    }

    /// Pushes a float tensor of shape [`size`] on storage '0' of `storageCount` elements (and
    /// memoizes it as entry 0); `view` pushes the legacy view metadata.
    static func makeTensor(storageCount: UInt8 = 1, view: [UInt8] = [0x4E], size: UInt8 = 1) -> [UInt8] {
        makeTensor(storageCount: [0x4B, storageCount], view: view, sizes: [[0x4B, size]])
    }

    /// The same with each operand given as the opcodes that push it: the storage's class and
    /// element count, the storage offset, and the sizes and strides.
    static func makeTensor(storageClass: String = "FloatStorage", storageCount: [UInt8], view: [UInt8] = [0x4E],
                           offset: [UInt8] = [0x4B, 0], sizes: [[UInt8]], strides: [[UInt8]] = [[0x4B, 1]]) -> [UInt8] {
        var bytes: [UInt8] = PickleTests.global("torch._utils", "_rebuild_tensor_v2") + [0x28, 0x28]
        bytes += PickleTests.unicode("storage") + PickleTests.global("torch", storageClass)
        bytes += PickleTests.unicode("0") + PickleTests.unicode("cpu") + storageCount + view + [0x74, 0x51]
        bytes += offset + [0x28] + Array(sizes.joined()) + [0x74, 0x28] + Array(strides.joined()) + [0x74, 0x89]
        return bytes + PickleTests.global("collections", "OrderedDict") + [0x29, 0x52, 0x74, 0x52, 0x71, 0]
    }

    /// `LONG1` of `value`, 8 bytes of two's complement.
    static func long(_ value: Int64) -> [UInt8] {
        [0x8A, 8] + withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    /// `BININT` of `value`, which may be negative.
    static func int32(_ value: Int32) -> [UInt8] {
        [0x4A] + withUnsafeBytes(of: value.littleEndian, Array.init)
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

    @Test("an expanded tensor within the copy budget reads as its one value repeated")
    func expanded() throws {
        let bytes = Self.legacyTensor(sizes: [[0x4D, 0x00, 0x10]], strides: [[0x4B, 0]])  // 4096 × stride 0
        let tensors = try TorchCheckpoint.decode(Data(bytes), name: Self.name).tensors
        #expect(tensors.first?.array.floats() == [Float](repeating: 2, count: 4096))
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

    // MARK: - Checkpoints assembled here, one field lying in each

    /// An assembled checkpoint and a test of the error it must produce.
    struct BuiltFile: Sendable, CustomTestStringConvertible {
        var label: String
        var bytes: [UInt8]
        var matches: @Sendable (TorchCheckpointError) -> Bool
        var testDescription: String { label }
    }

    static let name = "hostile.pth"

    /// A legacy checkpoint of `{'a': tensor}`, the tensor made by `makeTensor` from these operands.
    static func legacyTensor(storageClass: String = "FloatStorage", storageCount: [UInt8] = [0x4B, 1],
                             offset: [UInt8] = [0x4B, 0], sizes: [[UInt8]] = [[0x4B, 1]],
                             strides: [[UInt8]] = [[0x4B, 1]]) -> [UInt8] {
        legacyCheckpoint(object: dictA(makeTensor(storageClass: storageClass, storageCount: storageCount,
                                                  offset: offset, sizes: sizes, strides: strides)))
    }

    /// A zip checkpoint of the records `records` (the pickle for `archive/data.pkl` included).
    static func zipCheckpoint(_ records: [(name: String, data: [UInt8])]) -> [UInt8] {
        ZipFile(records).bytes
    }

    /// `{'a': tensor}` as a zip checkpoint's data.pkl (its persistent id has no view).
    static let zipPickle = [0x80, 0x02] + dictA(makeTensor(storageCount: [0x4B, 1], view: [], sizes: [[0x4B, 1]]))
        + [0x2E]

    static func outOfBounds(_ label: String, _ bytes: [UInt8], reason: String) -> BuiltFile {
        BuiltFile(label: label, bytes: bytes) { error in
            if case .tensorOutOfBounds(name, "a", let text) = error { return text.contains(reason) }
            return false
        }
    }

    static func pickleMalformed(_ label: String, _ bytes: [UInt8], reason: String) -> BuiltFile {
        BuiltFile(label: label, bytes: bytes) { error in
            if case .pickle(.malformed(name, _, let text)) = error { return text.contains(reason) }
            return false
        }
    }

    static func malformed(_ label: String, _ bytes: [UInt8], reason: String) -> BuiltFile {
        BuiltFile(label: label, bytes: bytes) { error in
            if case .malformed(name, let text) = error { return text.contains(reason) }
            return false
        }
    }

    static let builtFiles: [BuiltFile] = [
        // Truncated at each section of a legacy file: a pickle, the element count, the storage.
        BuiltFile(label: "cut inside the object pickle", bytes: Array(legacyCheckpoint(object: dictA(tensor)).prefix(40))) {
            if case .pickle(.truncated) = $0 { return true }
            return false
        },
        BuiltFile(label: "cut inside a storage's element count",
                  bytes: Array(legacyCheckpoint(object: dictA(tensor)).dropLast(9))) {
            $0 == .truncated(path: name, part: "the element count of storage '0'", expected: 8, found: 3)
        },
        BuiltFile(label: "cut inside a storage", bytes: Array(legacyCheckpoint(object: dictA(tensor)).dropLast(1))) {
            $0 == .truncated(path: name, part: "storage '0'", expected: 4, found: 3)
        },

        // Lying sizes, strides, offsets and counts.
        outOfBounds("sizes whose product overflows", legacyTensor(sizes: [long(1 << 32), long(1 << 32)],
                                                                  strides: [[0x4B, 1], [0x4B, 1]]),
                    reason: "whose product overflows"),
        outOfBounds("sizes whose byte count overflows", legacyTensor(sizes: [long(1 << 62)]),
                    reason: "too large to address"),
        outOfBounds("strides that overflow", legacyTensor(sizes: [[0x4B, 2], [0x4B, 2]],
                                                          strides: [long(1 << 62), long(1 << 62)]),
                    reason: "that overflow"),
        outOfBounds("a storage offset past the storage", legacyTensor(offset: [0x4B, 5]), reason: "reaches element 5"),
        outOfBounds("sizes larger than the storage", legacyTensor(sizes: [[0x4B, 2]]), reason: "reaches element 1"),
        BuiltFile(label: "one element expanded to 2^28 (1 GiB and a fuzzing timeout from 200 bytes)",
                  bytes: legacyTensor(sizes: [long(1 << 28)], strides: [[0x4B, 0]])) {
            $0 == .limitExceeded(path: name, what: "bytes of copies of non-contiguous tensors", limit: 1 << 24)
        },
        BuiltFile(label: "a storage of 2^62 elements", bytes: legacyTensor(storageCount: long(1 << 62))) {
            if case .limitExceeded(name, "addressable bytes in one storage", _) = $0 { return true }
            return false
        },
        pickleMalformed("a negative size", legacyTensor(sizes: [int32(-1)]), reason: "size"),
        pickleMalformed("a negative stride", legacyTensor(strides: [int32(-1)]), reason: "stride"),
        pickleMalformed("a negative storage offset", legacyTensor(offset: int32(-4)), reason: "offset"),
        pickleMalformed("a negative storage size", legacyTensor(storageCount: int32(-1)), reason: "storage size"),
        pickleMalformed("sizes and strides of different lengths", legacyTensor(strides: [[0x4B, 1], [0x4B, 1]]),
                        reason: "1 sizes but 2 strides"),
        malformed("the key list names a storage twice", legacyCheckpoint(object: dictA(tensor), keys: ["0", "0"]),
                  reason: "names '0' twice"),
        malformed("the key list names an unknown storage", legacyCheckpoint(object: dictA(tensor), keys: ["9"]),
                  reason: "names '9', which no tensor uses"),
        BuiltFile(label: "legacy version 1002", bytes: legacyCheckpoint(object: dictA(tensor), version: 0xEA)) {
            $0 == .unsupportedLegacyVersion(path: name, version: "1002")
        },

        // Names and dtypes.
        BuiltFile(label: "two tensors under one dotted name",
                  bytes: legacyCheckpoint(object: [0x7D] + PickleTests.unicode("a.b") + tensor + [0x73]
                      + PickleTests.unicode("a") + [0x7D] + PickleTests.unicode("b") + [0x68, 0, 0x73, 0x73])) {
            $0 == .duplicateName(path: name, name: "a.b")
        },
        pickleMalformed("a non-UTF-8 key", legacyCheckpoint(object: [0x7D, 0x8C, 2, 0xC3, 0x28] + tensor + [0x73]),
                        reason: "not valid UTF-8"),
        BuiltFile(label: "a complex storage", bytes: legacyTensor(storageClass: "ComplexFloatStorage")) {
            $0 == .pickle(.unsupportedStorageType(name: name, storageType: "torch.ComplexFloatStorage"))
        },
        BuiltFile(label: "a storage class outside torch's", bytes: legacyTensor(storageClass: "Float")) {
            $0 == .pickle(.forbiddenGlobal(name: name, global: "torch.Float"))
        },

        // The zip container.
        malformed("records outside one folder", zipCheckpoint([("data.pkl", zipPickle)]), reason: "one folder"),
        BuiltFile(label: "no data.pkl", bytes: zipCheckpoint([("archive/version", Array("3\n".utf8))])) {
            $0 == .missingRecord(path: name, record: "archive/data.pkl")
        },
        malformed("a byteorder that is neither", zipCheckpoint([("archive/byteorder", Array("middle".utf8)),
                                                                ("archive/data.pkl", zipPickle)]),
                  reason: "neither 'little' nor 'big'"),
        malformed("a non-UTF-8 record name",
                  ZipFile(rawNames: [(Array("archive/".utf8) + [0xFF], []), (Array("archive/data.pkl".utf8), zipPickle)]).bytes,
                  reason: "UTF-8"),
        BuiltFile(label: "a storage record shorter than its storage",
                  bytes: zipCheckpoint([("archive/data.pkl", zipPickle), ("archive/data/0", [0, 0])])) {
            $0 == .sizeMismatch(path: name, storage: "archive/data/0", expectedBytes: 4, foundBytes: 2)
        },
        BuiltFile(label: "no storage record", bytes: zipCheckpoint([("archive/data.pkl", zipPickle)])) {
            $0 == .storageKeyMissing(path: name, key: "0")
        },
    ]

    @Test("each assembled checkpoint with a lying field is refused with its error", arguments: builtFiles)
    func assembled(_ built: BuiltFile) {
        do {
            let contents = try TorchCheckpoint.decode(Data(built.bytes), name: Self.name)
            Issue.record("\(built.label) was read: \(contents.tensors.map(\.name))")
        } catch {
            #expect(built.matches(error), "\(built.label): \(error)")
            #expect(error.description.hasPrefix(Self.name + ": "), "\(error.description)")
        }
    }

    @Test("the assembled zip checkpoint itself reads")
    func zipBaseline() throws {
        let bytes = Self.zipCheckpoint([("archive/data.pkl", Self.zipPickle), ("archive/data/0", [0, 0, 0x80, 0x3F])])
        let contents = try TorchCheckpoint.decode(Data(bytes), name: Self.name)
        #expect(contents.format == .zip && contents.tensors.map { $0.array.floats() } == [[1]])
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
