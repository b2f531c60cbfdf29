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

    @Test("a FIFO is written through once the output is complete, and stays a FIFO")
    func fifoDestination() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.fifo").path
        #expect(mkfifo(path, 0o644) == 0)
        // A reader already open lets the writer open the FIFO without waiting; the bytes fit its buffer.
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        defer { close(reader) }
        let data = Data((0..<1000).map { UInt8($0 & 0xFF) })
        try AtomicFile.write(data, to: path)
        var received = [UInt8](repeating: 0, count: 4096)
        let count = read(reader, &received, received.count)
        #expect(count == data.count && Data(received.prefix(max(count, 0))) == data)
        var status = stat()
        #expect(lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.fifo"])
    }

    @Test("a symbolic link is written through: its target is replaced beside itself, the link stays")
    func symbolicLinkDestination() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let targets = directory.appendingPathComponent("targets")
        try FileManager.default.createDirectory(at: targets, withIntermediateDirectories: false)
        let target = targets.appendingPathComponent("real.bin")
        try Data("old".utf8).write(to: target)
        let link = directory.appendingPathComponent("link.bin").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "targets/real.bin")
        try AtomicFile.write(Data("new".utf8), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "targets/real.bin")
        #expect(try Data(contentsOf: target) == Data("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: targets.path) == ["real.bin"])
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: directory.path)) == ["link.bin", "targets"])
    }

    @Test("a folder, or a file in a missing folder, as the destination is refused before anything is written")
    func unusableDestinations() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("folder").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        for path in [folder, directory.appendingPathComponent("missing/out.bin").path] {
            #expect(throws: FileAccessError.self) { try AtomicFile.Writer(path: path) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["folder"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test("the same file under other names: ./, .., a symbolic link; devices and FIFOs never are")
    func sameFile() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        try Data("a".utf8).write(to: URL(fileURLWithPath: path("a.bin")))
        try Data("b".utf8).write(to: URL(fileURLWithPath: path("b.bin")))
        try FileManager.default.createDirectory(atPath: path("sub"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: path("link.bin"), withDestinationPath: "a.bin")
        #expect(mkfifo(path("pipe"), 0o644) == 0)
        #expect(AtomicFile.isSameFile(path("a.bin"), directory.path + "/./sub/../a.bin"))
        #expect(AtomicFile.isSameFile(path("link.bin"), path("a.bin")))
        #expect(AtomicFile.isSameFile(path("new.bin"), path("sub") + "/../new.bin"))
        #expect(!AtomicFile.isSameFile(path("a.bin"), path("b.bin")))
        #expect(!AtomicFile.isSameFile(path("a.bin"), path("new.bin")))
        #expect(!AtomicFile.isSameFile(path("pipe"), path("pipe")))
    }
}
