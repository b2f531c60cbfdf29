import Foundation
import Testing
@testable import Pointwise

/// `MappedFile.read(_:into:)` reads with `pread` rather than through the mapping; it must give
/// exactly the bytes the mapping shows, for a file on disk and for bytes copied from memory.
@Suite struct MappedFileTests {
    /// 300,007 pseudo-random bytes (not a multiple of the page size).
    static func randomBytes() -> [UInt8] {
        var random = SplitMix64(seed: 21)
        return (0..<300_007).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Ranges at the ends, across page boundaries, empty and whole.
    static let ranges: [Range<Int>] = [0..<1, 0..<4096, 4095..<4097, 123..<200_123, 299_000..<300_007, 77..<77, 0..<300_007]

    @Test("pread gives the mapping's bytes, for a file and for a copy in memory")
    func readMatchesMapping() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = Self.randomBytes()
        let url = directory.appendingPathComponent("bytes.bin")
        try Data(bytes).write(to: url)
        for file in [try MappedFile(path: url.path), MappedFile(copying: Data(bytes), path: "memory")] {
            for range in Self.ranges {
                var read = [UInt8](repeating: 0, count: range.count)
                read.withUnsafeMutableBytes { if let base = $0.baseAddress { file.read(range, into: base) } }
                #expect(read == Array(bytes[range]), "\(file.path) \(range)")
                #expect(read == Array(file.bytes[range]), "\(file.path) \(range)")
            }
            file.prefetch(0..<4096)  // a hint; must not disturb anything
        }
    }
}
