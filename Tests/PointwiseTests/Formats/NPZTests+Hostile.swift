import Foundation
import Testing
import Pointwise

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
