import Foundation
import Testing
@testable import Pointwise

extension NPZTests {
    /// The error's case and the fields a test can predict (not the path, which every
    /// description is checked to start with, nor free-text reasons).
    static func summary(_ error: NPZError?) -> String {
        switch error {
        case nil: "no error"
        case .fileAccess?: "fileAccess"
        case .notNPY(_, let member)?: "notNPY(\(member))"
        case .duplicateName(_, let name)?: "duplicateName(\(name))"
        case .array(let error)?: "array(\(error))"
        case .unsupportedElementType(_, let name, let type)?: "unsupportedElementType(\(name), \(type))"
        case .archive(let error)?:
            switch error {
            case .notAnArchive: "notAnArchive"
            case .corrupt(_, let member, _): "corrupt(\(member ?? "central directory"))"
            case .unsupportedCompression(_, let member, let method):
                "unsupportedCompression(\(member), \(method))"
            case .encrypted(_, let member): "encrypted(\(member))"
            case .implausibleSize(_, let member, let declared, _): "implausibleSize(\(member), \(declared))"
            case .sizeMismatch(_, let member, let declared): "sizeMismatch(\(member), \(declared))"
            case .checksumMismatch(_, let member, let recorded, _): "checksumMismatch(\(member), \(recorded))"
            case .overlap(_, let member, let other): "overlap(\(member), \(other))"
            }
        }
    }

    @Suite("hostile input")
    struct HostileInput {
        /// The hand-assembled archives in Fixtures/npz/hostile (the script says how each is broken).
        static let cases: [(file: String, expected: String)] = [
            ("not_zip.npz", "notAnArchive"),
            ("not_npy.npz", "notNPY(readme.txt)"),
            ("duplicate.npz", "duplicateName(a)"),
            ("crc_mismatch.npz", "checksumMismatch(a.npy, \(0x1234_5678))"),
            ("name_mismatch.npz", "corrupt(a.npy)"),
            ("bad_name.npz", "corrupt(\u{FFFD}\u{FFFD}.npy)"),
            ("encrypted.npz", "encrypted(a.npy)"),
            ("bzip2.npz", "unsupportedCompression(a.npy, 12)"),
            ("directory_outside.npz", "corrupt(central directory)"),
            ("too_many_entries.npz", "corrupt(central directory)"),
            ("spanned.npz", "corrupt(central directory)"),
            ("lying_size.npz", "sizeMismatch(a.npy, 1000)"),
            ("huge_claim.npz", "implausibleSize(a.npy, \(1 << 40))"),
            ("stored_huge.npz", "corrupt(a.npy)"),
            ("zip64_overflow.npz", "implausibleSize(a.npy, \(UInt64.max - 15))"),
            ("unterminated.npz", "corrupt(a.npy)"),
            ("bad_deflate.npz", "corrupt(a.npy)"),
            ("overlap.npz", "overlap(b.npy, a.npy)"),
        ]

        @Test("each broken archive throws its error, naming the archive", arguments: cases)
        func hostile(file: String, expected: String) {
            let path = fixture("hostile/\(file)")
            let error = #expect(throws: NPZError.self) { try NPZ.read(path: path) }
            #expect(summary(error) == expected)
            #expect(error?.description.hasPrefix("\(path): ") == true)
        }

        // MARK: - Archives assembled here, one field lying in each

        static let name = "hostile.npz"
        /// A float32 (2, 3) member, as np.save writes it.
        static let member = Array(NPYTests.npy(header: NPYTests.dict(), data: Array(repeating: 0, count: 24)))
        static let archive = ZipFile([("a.npy", member)])
        static let entry = archive.directoryEntries[0]

        /// The error of a member whose `.npy` bytes throw `error` (named as the reader labels it).
        static func array(_ error: (String) -> NPYError) -> String {
            "array(\(error("\(name) member 'a.npy'")))"
        }

        /// An archive of the one member `a.npy` holding `header`'s .npy file and `count` data bytes.
        static func npyMember(_ header: String, count: Int = 0) -> ZipFile {
            ZipFile([("a.npy", Array(NPYTests.npy(header: header, data: Array(repeating: 0, count: count))))])
        }

        static let builtCases: [(label: String, data: Data, expected: String)] = [
            // Truncated at each section: the end record, the directory, the member's own bytes.
            ("local header and data only", Data(archive.bytes[..<archive.directoryEntries[0]]), "notAnArchive"),
            ("end record cut", Data(archive.bytes.dropLast(3)), "notAnArchive"),
            ("directory cut", Data(archive.bytes[..<(entry + 20)] + archive.bytes[archive.end...]),
             "corrupt(central directory)"),
            ("empty member", ZipFile([("a.npy", [])]).data, array { .truncated(name: $0, part: .magic, expected: 6, found: 0) }),
            ("member's data cut", npyMember(NPYTests.dict(), count: 20).data,
             array { .truncated(name: $0, part: .data, expected: 24, found: 20) }),

            // Lying lengths and offsets.
            ("directory offset past the end", archive.setting(archive.end + 16, to: 0xFFFF_FFF0, size: 4).data,
             "corrupt(central directory)"),
            ("directory size of zero for one entry", archive.setting(archive.end + 12, to: 0, size: 4).data,
             "corrupt(central directory)"),
            ("comment length past the end", archive.setting(archive.end + 20, to: 100, size: 2).data, "notAnArchive"),
            ("entry name length past the directory", archive.setting(entry + 28, to: 0xFFFF, size: 2).data,
             "corrupt(central directory)"),
            ("entry extra length past the directory", archive.setting(entry + 30, to: 0x1000, size: 2).data,
             "corrupt(central directory)"),
            ("local header offset past the directory", archive.setting(entry + 42, to: 0x7FFF_FFFF, size: 4).data,
             "corrupt(a.npy)"),
            ("local header offset into the data", archive.setting(entry + 42, to: 10, size: 4).data,
             "corrupt(a.npy)"),
            ("local name length past the end", archive.setting(26, to: 0xFFFF, size: 2).data, "corrupt(a.npy)"),
            ("sizes past the directory", archive.setting(entry + 20, to: 1 << 20, size: 4)
                .setting(entry + 24, to: 1 << 20, size: 4).data, "corrupt(a.npy)"),
            ("stored size differs from the data", archive.setting(entry + 24, to: 10, size: 4).data,
             "implausibleSize(a.npy, 10)"),

            // Shapes and dtypes inside a member.
            ("member shape overflows", npyMember(NPYTests.dict(shape: "(4294967296, 4294967296)")).data,
             array { .sizeOverflow(name: $0, shape: [4_294_967_296, 4_294_967_296]) }),
            ("member negative dimension", npyMember(NPYTests.dict(shape: "(-1, 3)")).data,
             array { .negativeDimension(name: $0, shape: [-1, 3]) }),
            ("member huge shape, no data", npyMember(NPYTests.dict(shape: "(1000000000, 1000000000)")).data,
             array { .truncated(name: $0, part: .data, expected: 4_000_000_000_000_000_000, found: 0) }),
            ("member complex dtype", npyMember(NPYTests.dict(descr: "'<c8'")).data,
             array { .unsupportedElementType(name: $0, descr: "<c8") }),
            ("member header not UTF-8",
             ZipFile([("a.npy", [0x93] + Array("NUMPY".utf8) + [1, 0, 4, 0, 0x7B, 0xFF, 0xFE, 0x7D])]).data,
             array { .headerNotUTF8(name: $0) }),

            // Names.
            ("duplicate names", ZipFile([("a.npy", member), ("a.npy", member)]).data,
             "duplicateName(a)"),
            ("non-UTF-8 name (overlong '/')", ZipFile(rawNames: [([0xC0, 0xAF] + Array(".npy".utf8), member)]).data,
             "corrupt(\u{FFFD}\u{FFFD}.npy)"),
            ("name without .npy", ZipFile([("a.npz", member)]).data, "notNPY(a.npz)"),
        ]

        @Test("each assembled archive with a lying field throws its error", arguments: builtCases)
        func assembled(label: String, data: Data, expected: String) {
            let error = #expect(throws: NPZError.self, "\(label)") { try NPZ.decode(data, name: Self.name) }
            #expect(summary(error) == expected, "\(label)")
            #expect(error?.description.hasPrefix(Self.name) == true, "\(label)")
        }

        @Test("the assembled archive itself reads")
        func assembledBaseline() throws {
            let arrays = try NPZ.decode(Self.archive.data, name: Self.name)
            #expect(arrays.map(\.name) == ["a"] && arrays.first?.array.shape == [2, 3])
        }

        /// Every prefix of the small archive; every 7th of the larger one keeps the test fast.
        @Test("an archive cut short anywhere throws",
              arguments: [("positional.npz", 1), ("compressed.npz", 7)])
        func everyPrefix(name: String, stride step: Int) throws {
            let original = try FormatFixtures.data("npz/\(name)")
            let path = FormatFixtures.scratchPath("prefix", extension: "npz")
            defer { try? FileManager.default.removeItem(atPath: path) }
            for length in stride(from: 0, to: original.count, by: step) {
                try original.prefix(length).write(to: URL(fileURLWithPath: path))
                #expect(throws: NPZError.self, "prefix of \(length) bytes") { try NPZ.read(path: path) }
            }
        }

        @Test("random corruption of valid archives never crashes or hangs",
              arguments: ["positional.npz", "compressed.npz", "hostile/overlap.npz"])
        func randomCorruption(name: String) throws {
            let original = try FormatFixtures.data("npz/\(name)")
            let path = FormatFixtures.scratchPath("corrupt", extension: "npz")
            defer { try? FileManager.default.removeItem(atPath: path) }
            var random = SplitMix64(seed: 0x219)
            for _ in 0..<500 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] = UInt8.random(in: 0...255, using: &random)
                }
                try bytes.write(to: URL(fileURLWithPath: path))
                if let arrays = try? NPZ.read(path: path) {
                    for (_, array) in arrays { _ = array.floats() }
                }
            }
        }
    }
}
