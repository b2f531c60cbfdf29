import Foundation
import Testing
@testable import Pointwise

/// Tests of the checkpoint reader against files written by torch 2.x (scripts/make_torch_fixtures.py),
/// with the expected values from the companion float32 .npy files the same script wrote.
@Suite("TorchCheckpoint")
struct TorchCheckpointTests {
    // MARK: - Helpers

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/torch")
        .standardizedFileURL

    static func fixture(_ name: String) -> String {
        fixtures.appendingPathComponent(name).path
    }

    /// The reference state_dict's names, in the order torch saved them, and their element types.
    static let expectedTypes: KeyValuePairs<String, ElementType> = [
        "conv.weight": .float32, "conv.bias": .float32, "bn.weight": .float32, "bn.bias": .float32,
        "bn.running_mean": .float32, "bn.running_var": .float32, "bn.num_batches_tracked": .int64,
        "half": .float16, "bf16": .bfloat16, "mask": .bool, "transposed": .float32,
        "shared_a": .float32, "shared_b": .float32, "column": .int32, "scalar": .float32,
        "double": .float64, "empty": .float32,
    ]

    /// The values torch holds for `name`, from expected/<name>.npy.
    static func expected(_ name: String) throws -> NPYArray {
        try NPY.read(contentsOf: fixtures.appendingPathComponent("expected/\(name).npy"))
    }

    // MARK: - The reference state_dict in every container

    /// Each container and pickle protocol torch can write, with the format the reader must detect.
    static let formats: [(file: String, format: TorchCheckpoint.Format)] = [
        ("state_dict.pth", .zip), ("state_dict_legacy.pth", .legacy), ("state_dict_p4.pth", .zip),
        ("state_dict_p1_legacy.pth", .legacy), ("state_dict_deflated.pth", .zip),
    ]

    @Test("names, order, element types, shapes and values match torch", arguments: formats)
    func referenceStateDict(file: String, format: TorchCheckpoint.Format) throws {
        let contents = try TorchCheckpoint.load(path: Self.fixture(file))
        #expect(contents.format == format)
        #expect(contents.skipped.isEmpty)
        #expect(contents.tensors.map(\.name) == Self.expectedTypes.map(\.key))
        for ((name, array), (_, type)) in zip(contents.tensors, Self.expectedTypes) {
            let expected = try Self.expected(name)
            #expect(array.elementType == type, "\(name)")
            #expect(array.shape == expected.shape, "\(name): shape \(array.shape), expected \(expected.shape)")
            let values = array.floats()
            #expect(values.map(\.bitPattern) == expected.values.map(\.bitPattern),
                    "\(name): \(values), expected \(expected.values)")
        }
    }

    @Test("a checkpoint in memory reads as the same file does; errors carry the given name",
          arguments: ["state_dict.pth", "state_dict_legacy.pth"])
    func fromData(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture(file)))
        let fromFile = try TorchCheckpoint.load(path: Self.fixture(file))
        let fromData = try TorchCheckpoint.decode(data, name: "upload.pth")
        #expect(fromData.format == fromFile.format)
        #expect(fromData.tensors.map(\.name) == fromFile.tensors.map(\.name))
        #expect(fromData.tensors.map { $0.array.floats().map(\.bitPattern) }
            == fromFile.tensors.map { $0.array.floats().map(\.bitPattern) })
        let error = #expect(throws: TorchCheckpointError.self) {
            try TorchCheckpoint.decode(data.prefix(data.count / 2), name: "upload.pth")
        }
        #expect(error?.description.hasPrefix("upload.pth: ") == true)
    }

    @Test("num_batches_tracked is an int64 scalar holding 7", arguments: formats.map(\.file))
    func batchCount(file: String) throws {
        let tensors = try TorchCheckpoint.read(path: Self.fixture(file))
        let count = try #require(tensors.first { $0.name == "bn.num_batches_tracked" }?.array)
        #expect(count.shape == [] && count.elementType == .int64 && count.integers() == [7])
    }

    @Test("contiguous tensors are views of the mapped file; strided ones are gathered copies",
          arguments: ["state_dict.pth", "state_dict_legacy.pth"])
    func zeroCopy(file: String) throws {
        let tensors = Dictionary(uniqueKeysWithValues: try TorchCheckpoint.read(path: Self.fixture(file)).map { ($0.name, $0.array) })
        for name in ["conv.weight", "shared_a", "shared_b", "scalar", "half"] {
            #expect(tensors[name]?.owner is MappedFile, "\(name) should borrow the mapping")
        }
        for name in ["transposed", "column"] {
            #expect(tensors[name]?.owner is OwnedBytes, "\(name) should be a gathered copy")
        }
        // shared_a (offset 2) and shared_b (offset 5) are windows 12 bytes apart onto one storage.
        let a = try #require(tensors["shared_a"]?.bytes.baseAddress)
        let b = try #require(tensors["shared_b"]?.bytes.baseAddress)
        #expect(b - a == 12)
    }

    // MARK: - Wrapped and nested checkpoints

    @Test("a training checkpoint's state_dict is unwrapped; epoch and arch are reported as skipped")
    func wrapped() throws {
        let contents = try TorchCheckpoint.load(path: Self.fixture("wrapped.pth"))
        #expect(contents.tensors.map(\.name) == Array(Self.expectedTypes.map(\.key).prefix(7)))
        #expect(contents.skipped == ["epoch", "arch"])
        let weight = try #require(contents.tensors.first?.array)
        #expect(weight.floats() == (try Self.expected("conv.weight")).values)
    }

    @Test("tensors spread over several dicts and a list get dotted names")
    func nested() throws {
        let contents = try TorchCheckpoint.load(path: Self.fixture("nested.pth"))
        #expect(contents.tensors.map(\.name) == ["model.w", "ema.w", "layers.0", "layers.1"])
        #expect(contents.tensors.map { $0.array.floats() } == [[1, 1], [2, 2], [0], [5]])
        #expect(contents.skipped == ["step"])
    }

    // MARK: - Errors that name the file

    @Test("a missing file is reported with its path")
    func missingFile() {
        let path = Self.fixture("does-not-exist.pth")
        #expect(throws: TorchCheckpointError.file(FileAccessError(path: path, reason: "no such file", isMissing: true))) {
            try TorchCheckpoint.read(path: path)
        }
    }

    @Test("every error description starts with the path")
    func descriptionsStartWithThePath() {
        let errors: [TorchCheckpointError] = [
            .notACheckpoint(path: "m.pth"), .unsupportedFormat(path: "m.pth", reason: "x"),
            .badMagicNumber(path: "m.pth"), .unsupportedLegacyVersion(path: "m.pth", version: "7"),
            .bigEndian(path: "m.pth"), .truncated(path: "m.pth", part: "x", expected: 8, found: 2),
            .malformed(path: "m.pth", reason: "x"), .missingRecord(path: "m.pth", record: "a/data.pkl"),
            .unsupportedCompression(path: "m.pth", record: "a/data/0", method: 12),
            .storageKeyMissing(path: "m.pth", key: "0"),
            .sizeMismatch(path: "m.pth", storage: "0", expectedBytes: 8, foundBytes: 4),
            .tensorOutOfBounds(path: "m.pth", tensor: "w", reason: "x"), .notAStateDict(path: "m.pth", found: "x"),
            .duplicateName(path: "m.pth", name: "a.b"), .limitExceeded(path: "m.pth", what: "x", limit: 1),
            .pickle(.forbiddenGlobal(name: "m.pth", global: "os.system")),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("m.pth: "), "\(error.description)")
        }
    }
}
