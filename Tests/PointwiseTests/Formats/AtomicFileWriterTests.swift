import Foundation
import Testing
@testable import Pointwise

/// `AtomicFile.Writer`: pieces at any offsets, the destination replaced only on commit.
@Suite struct AtomicFileWriterTests {
    @Test("pieces written out of order land at their offsets; the old file stays until commit")
    func commit() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.bin").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let writer = try AtomicFile.Writer(path: path)
        try writer.truncate(to: 8)
        try writer.write([5, 6, 7, 8], at: 4)
        try writer.write([1, 2, 3, 4], at: 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 2)
        try writer.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bin"])
    }

    @Test("abandoning, or dropping without a commit, removes the temporary file and keeps the old one")
    func abandon() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.bin").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let writer = try AtomicFile.Writer(path: path)
        try writer.write([1, 2, 3], at: 0)
        writer.abandon()
        do {
            let dropped = try AtomicFile.Writer(path: path)
            try dropped.write([9], at: 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bin"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("old".utf8))
        #expect(throws: FileAccessError.self) { try AtomicFile.Writer(path: directory.appendingPathComponent("no/such/dir").path) }
    }

    @Test("a file larger than the writeback step comes out whole, with and without drop-behind",
          arguments: [false, true])
    func writebackAndDropBehind(dropping: Bool) throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.bin").path
        let writer = try AtomicFile.Writer(path: path)
        writer.dropsWrittenPages = dropping
        // 2.5 writeback steps of 1 MiB pieces, each filled with its index, written back to front.
        let piece = 1 << 20, pieces = 5 * AtomicFile.Writer.writebackBytes / (2 * piece)
        for index in (0..<pieces).reversed() {
            try writer.write([UInt8](repeating: UInt8(index & 0xFF), count: piece), at: index * piece)
        }
        try writer.commit()
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(written.count == pieces * piece)
        #expect((0..<pieces).allSatisfy { index in
            written[index * piece] == UInt8(index & 0xFF) && written[(index + 1) * piece - 1] == UInt8(index & 0xFF)
        })
    }
}
