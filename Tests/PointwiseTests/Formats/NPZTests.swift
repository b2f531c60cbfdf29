import Foundation
import Testing
@testable import Pointwise

/// Tests of the .npz reader and writer against archives written by `np.savez` and
/// `np.savez_compressed` (scripts/make_format_fixtures.py).
@Suite("NPZ")
struct NPZTests {
    static func fixture(_ name: String) -> String {
        FormatFixtures.path("npz/\(name)")
    }

    /// The script's arrays, in the order it passed them to np.savez.
    static let arrays: [(name: String, type: ElementType, shape: [Int])] = [
        ("f4_4d", .float32, [2, 3, 4, 5]), ("f2_2x3", .float16, [2, 3]), ("f8_scalar", .float64, []),
        ("i8_5", .int64, [5]), ("i4_3x1", .int32, [3, 1]), ("i2_2x2", .int16, [2, 2]), ("i1_7", .int8, [7]),
        ("u1_2x5", .uint8, [2, 5]), ("b1_6", .bool, [6]), ("f4_0x3", .float32, [0, 3]),
        ("be_f2_3", .float16, [3]), ("be_f4_2x2", .float32, [2, 2]), ("be_f8_3", .float64, [3]),
        ("be_i2_3", .int16, [3]), ("be_i4_3", .int32, [3]), ("be_i8_3", .int64, [3]),
    ]

    /// A copy of a member's uncompressed bytes (taken while their owner is alive).
    static func contents(of member: ZipArchive.Member, in archive: ZipArchive) throws -> Data {
        let contents = try archive.contents(of: member)
        return withExtendedLifetime(contents.owner) { Data(contents.bytes) }
    }

    // MARK: - Reading

    @Suite("reading")
    struct Reading {
        @Test("np.savez and np.savez_compressed: every dtype, both byte orders, values exact",
              arguments: ["stored.npz", "compressed.npz"])
        func numpyArchives(name: String) throws {
            let read = try NPZ.read(path: fixture(name))
            #expect(read.map(\.name) == arrays.map(\.name))
            for ((name, array), (_, type, shape)) in zip(read, arrays) {
                #expect(array.elementType == type && array.shape == shape, "\(name)")
                let ramp = FormatFixtures.ramp(type, count: array.elementCount)
                #expect(FormatFixtures.values(array) == ramp, "\(name)")
            }
        }

        @Test("stored little-endian members are views of the mapped archive; the rest own their bytes")
        func zeroCopy() throws {
            for (name, array) in try NPZ.read(path: fixture("stored.npz")) {
                #expect((array.owner is MappedFile) == !name.hasPrefix("be_"), "\(name)")
            }
            for (name, array) in try NPZ.read(path: fixture("compressed.npz")) {
                #expect(array.owner is OwnedBytes, "\(name)")
            }
        }

        @Test("positional arrays, and an archive with none")
        func positionalAndEmpty() throws {
            let positional = try NPZ.read(path: fixture("positional.npz"))
            #expect(positional.map(\.name) == ["arr_0", "arr_1"])
            #expect(positional.map(\.array.elementType) == [.float32, .int64])
            #expect(try NPZ.read(path: fixture("empty.npz")).isEmpty)
        }

        @Test("an archive in memory reads as the same file does; errors carry the given name")
        func fromData() throws {
            let data = try FormatFixtures.data("npz/compressed.npz")
            let fromFile = try NPZ.read(path: fixture("compressed.npz"))
            let fromData = try NPZ.decode(data, name: "upload.npz")
            #expect(fromData.map(\.name) == fromFile.map(\.name))
            #expect(fromData.map { FormatFixtures.values($0.array) } == fromFile.map { FormatFixtures.values($0.array) })
            let error = #expect(throws: NPZError.self) { try NPZ.decode(data.prefix(100), name: "upload.npz") }
            #expect(error?.description.hasPrefix("upload.npz: ") == true)
        }

        @Test("a member of a dtype Pointwise lacks names the archive and the member")
        func unsupportedMember() throws {
            let path = fixture("complex.npz")
            let member = "\(path) member 'z.npy'"
            let expected = NPZError.array(.unsupportedElementType(name: member, descr: "<c8"))
            #expect(throws: expected) { try NPZ.read(path: path) }
            #expect(expected.description.hasPrefix("\(path) member 'z.npy': unsupported dtype '<c8'"))
        }

        @Test("NPY.encode reproduces np.save's bytes for every little-endian member")
        func encodeMatchesNumPy() throws {
            let archive = try ZipArchive(file: MappedFile(path: fixture("stored.npz")))
            for member in archive.members where !member.name.hasPrefix("be_") {
                let numpy = try contents(of: member, in: archive)
                let array = try NPY.decodeArray(numpy, name: member.name)
                #expect(NPY.encode(array) == numpy, "\(member.name)")
            }
        }

        @Test("a missing archive is a file access error naming it")
        func missing() {
            let path = fixture("missing.npz")
            let missing = FileAccessError(path: path, reason: "no such file", isMissing: true)
            #expect(throws: NPZError.fileAccess(missing)) { try NPZ.read(path: path) }
        }
    }

    // MARK: - Writing

    @Suite("writing")
    struct Writing {
        @Test("write then read: names, element types, shapes and bytes survive", arguments: [false, true])
        func roundTrip(compressed: Bool) throws {
            let original = try NPZ.read(path: fixture("stored.npz"))
            let path = FormatFixtures.scratchPath("roundTrip", extension: "npz")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try NPZ.write(original, compressed: compressed, to: path)
            let copy = try NPZ.read(path: path)
            #expect(copy.map(\.name) == original.map(\.name))
            for ((name, read), (_, written)) in zip(copy, original) {
                #expect(read.elementType == written.elementType && read.shape == written.shape, "\(name)")
                #expect(Array(read.bytes) == Array(written.bytes), "\(name)")
            }
            let archive = try ZipArchive(file: MappedFile(path: path))
            #expect(archive.members.allSatisfy { $0.isDeflated == compressed })
            // Members are np.save's bytes exactly.
            for (member, (_, array)) in zip(archive.members, original) {
                #expect(try contents(of: member, in: archive) == NPY.encode(array), "\(member.name)")
            }
        }

        @Test("a deflated member larger than the first 64 MiB inflate buffer")
        func largeMember() throws {
            let count = (1 << 26) + 5
            var bytes = Data(count: count)
            bytes[count - 1] = 7
            let path = FormatFixtures.scratchPath("large", extension: "npz")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try NPZ.write([("big", RawArray(elementType: .uint8, shape: [count], data: bytes))],
                          compressed: true, to: path)
            let read = try #require(try NPZ.read(path: path).first?.array)
            #expect(read.shape == [count])
            #expect(read.bytes.last == 7 && read.bytes.prefix(1000).allSatisfy { $0 == 0 })
        }

        @Test("the same arrays always give the same bytes")
        func deterministic() throws {
            let arrays = try NPZ.read(path: fixture("positional.npz"))
            let first = FormatFixtures.scratchPath("first", extension: "npz")
            let second = FormatFixtures.scratchPath("second", extension: "npz")
            defer {
                try? FileManager.default.removeItem(atPath: first)
                try? FileManager.default.removeItem(atPath: second)
            }
            try NPZ.write(arrays, compressed: true, to: first)
            try NPZ.write(arrays, compressed: true, to: second)
            let (one, two) = (URL(fileURLWithPath: first), URL(fileURLWithPath: second))
            #expect(try Data(contentsOf: one) == Data(contentsOf: two))
        }

        @Test("duplicate names and bfloat16 are rejected before touching the disk")
        func invalidArrays() throws {
            let directory = try FormatFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("out.npz").path
            let a = RawArray(shape: [2], floats: [1, 2])
            #expect(throws: NPZError.duplicateName(path: path, name: "a")) {
                try NPZ.write([("a", a), ("a", a)], to: path)
            }
            let bf16 = RawArray(elementType: .bfloat16, shape: [1], data: Data([0x80, 0x3F]))
            #expect(throws: NPZError.unsupportedElementType(path: path, name: "b", elementType: .bfloat16)) {
                try NPZ.write([("a", a), ("b", bf16)], to: path)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }

        @Test("an unwritable destination is a file access error naming it, leaving nothing behind")
        func unwritable() throws {
            let directory = try FormatFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            // The destination is a directory: the archive is written, but cannot replace it.
            let error = #expect(throws: NPZError.self) {
                try NPZ.write([("a", RawArray(shape: [1], floats: [1]))], to: directory.path)
            }
            #expect(error?.description.hasPrefix(directory.path) == true)
            let parent = directory.deletingLastPathComponent().path
            let siblings = try FileManager.default.contentsOfDirectory(atPath: parent)
            #expect(!siblings.contains { $0.hasPrefix(".\(directory.lastPathComponent).") })
        }
    }
}
