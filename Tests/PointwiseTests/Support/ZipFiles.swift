import Foundation

/// A hand-assembled ZIP archive of stored members for the hostile-input tests, written from
/// PKWARE's APPNOTE independently of the reader, with the offset of every record so that a test
/// can make one field lie (`set(_:to:size:)`).
struct ZipFile {
    /// The archive.
    var bytes: [UInt8]
    /// Where each member's local header starts.
    var localHeaders: [Int] = []
    /// Where each member's central-directory entry starts.
    var directoryEntries: [Int] = []
    /// Where the end-of-central-directory record starts.
    var end = 0

    /// Stored members with UTF-8 names.
    init(_ members: [(name: String, data: [UInt8])]) {
        self.init(rawNames: members.map { (Array($0.name.utf8), $0.data) })
    }

    /// Stored members whose names are any bytes.
    init(rawNames members: [(name: [UInt8], data: [UInt8])]) {
        bytes = []
        var directory: [UInt8] = []
        for (name, data) in members {
            let crc = UInt64(PNGFiles.crc(data)), size = UInt64(data.count), nameLength = UInt64(name.count)
            localHeaders.append(bytes.count)
            // Signature, version needed, flags, method (stored), time and date.
            bytes += Self.le(0x0403_4B50, 4) + Self.le(20, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 4)
            bytes += Self.le(crc, 4) + Self.le(size, 4) + Self.le(size, 4)
            bytes += Self.le(nameLength, 2) + Self.le(0, 2) + name + data
            // Signature, versions made by and needed, flags, method, time and date.
            directory += Self.le(0x0201_4B50, 4) + Self.le(20, 2) + Self.le(20, 2) + Self.le(0, 2) + Self.le(0, 2)
            directory += Self.le(0, 4) + Self.le(crc, 4) + Self.le(size, 4) + Self.le(size, 4)
            // Name, extra and comment lengths, disk, attributes, local header offset, name.
            directory += Self.le(nameLength, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 2)
            directory += Self.le(0, 4) + Self.le(UInt64(localHeaders[localHeaders.count - 1]), 4) + name
        }
        let directoryStart = bytes.count
        var entry = directoryStart
        for (name, _) in members {
            directoryEntries.append(entry)
            entry += 46 + name.count
        }
        bytes += directory
        end = bytes.count
        // Signature, disks, entries on this disk and in all, directory size and offset, comment length.
        bytes += Self.le(0x0605_4B50, 4) + Self.le(0, 2) + Self.le(0, 2)
        bytes += Self.le(UInt64(members.count), 2) + Self.le(UInt64(members.count), 2)
        bytes += Self.le(UInt64(directory.count), 4) + Self.le(UInt64(directoryStart), 4) + Self.le(0, 2)
    }

    /// The archive as `Data`.
    var data: Data { Data(bytes) }

    /// Overwrites the little-endian field of `size` bytes at `offset` with `value`.
    mutating func set(_ offset: Int, to value: UInt64, size: Int) {
        bytes.replaceSubrange(offset..<(offset + size), with: Self.le(value, size))
    }

    /// This archive with the field of `size` bytes at `offset` set to `value`.
    func setting(_ offset: Int, to value: UInt64, size: Int) -> ZipFile {
        var copy = self
        copy.set(offset, to: value, size: size)
        return copy
    }

    /// `value` as `size` little-endian bytes.
    static func le(_ value: UInt64, _ size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
