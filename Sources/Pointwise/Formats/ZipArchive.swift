/// The members of a ZIP archive in a memory-mapped file: stored members are views of the
/// mapping, deflated ones are inflated on request.
///
/// Hand-written for hostile input rather than read through ZIPFoundation, whose 0.9.20 reader
/// traps on a ZIP64 size near `UInt64.max` and loops forever on a stored size or a deflate
/// stream that runs past the end of the file. Here every offset and size is checked against the
/// file before use, members may not share bytes, and a member's declared size must be one its
/// compressed bytes can produce, so a lying header cannot make the reader allocate or loop
/// without bound. Spec: PKWARE APPNOTE.TXT, sections 4.3 and 4.5.3 (ZIP64).
struct ZipArchive {
    /// One file in the archive, as the central directory describes it.
    struct Member {
        /// The path inside the archive.
        var name: String
        /// Whether the data is deflated (method 8) rather than stored (method 0).
        var isDeflated: Bool
        var uncompressedSize: Int
        var crc32: UInt32
        /// The member's local header, name, extra field and data, within the file.
        var extent: Range<Int>
        /// The member's compressed bytes within the file.
        var data: Range<Int>
    }

    /// The mapped archive, which stored members borrow.
    let file: MappedFile
    /// The members in central-directory order.
    let members: [Member]

    /// Reads the central directory of `file` and checks every member's local header.
    ///
    /// - Throws: `ZipArchiveError` naming the file (and member) for anything malformed,
    ///   encrypted, compressed with a method other than stored or deflate, or implausibly sized.
    init(file: MappedFile) throws(ZipArchiveError) {
        self.file = file
        let reader = Reader(bytes: file.bytes, path: file.path)
        let directory = try reader.centralDirectory()
        var members: [Member] = []
        var cursor = directory.range.lowerBound
        for _ in 0..<directory.count {
            let (member, next) = try reader.member(at: cursor, directory: directory.range)
            members.append(member)
            cursor = next
        }
        // Members that share bytes would let a small file inflate many times over.
        let sorted = members.sorted { $0.extent.lowerBound < $1.extent.lowerBound }
        for (previous, member) in zip(sorted, sorted.dropFirst())
        where member.extent.lowerBound < previous.extent.upperBound {
            throw .overlap(path: file.path, member: member.name, other: previous.name)
        }
        self.members = members
    }

    /// The uncompressed bytes of `member`, checked against its CRC-32, and what keeps them alive:
    /// the bytes are valid only while `owner` is (a `RawArray` holds it).
    ///
    /// - Throws: `ZipArchiveError` if the data does not inflate to the declared size or its
    ///   checksum differs.
    func contents(of member: Member)
        throws(ZipArchiveError) -> (bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        let stored = UnsafeRawBufferPointer(rebasing: file.bytes[member.data])
        let result: (bytes: UnsafeRawBufferPointer, owner: AnyObject)
        if member.isDeflated {
            let output = try Self.inflate(stored, into: member.uncompressedSize, member: member.name,
                                          path: file.path)
            result = (UnsafeRawBufferPointer(rebasing: output.bytes[0..<member.uncompressedSize]), output)
        } else {
            result = (stored, file)
        }
        let checksum = Self.crc32(result.bytes)
        guard checksum == member.crc32 else {
            throw .checksumMismatch(path: file.path, member: member.name, recorded: member.crc32,
                                    computed: checksum)
        }
        return result
    }
}

// MARK: - Records

extension ZipArchive {
    /// Where the central directory lies and how many entries it claims.
    struct Directory {
        var range: Range<Int>
        var count: Int
    }

    /// Reads little-endian records at checked offsets.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let path: String

        static let endOfDirectorySignature: UInt32 = 0x0605_4B50
        static let zip64LocatorSignature: UInt32 = 0x0706_4B50
        static let zip64EndOfDirectorySignature: UInt32 = 0x0606_4B50
        static let directoryEntrySignature: UInt32 = 0x0201_4B50
        static let localHeaderSignature: UInt32 = 0x0403_4B50

        /// The `count` bytes at `offset`, or nil unless all of them lie inside `limit`.
        func slice(_ offset: Int, _ count: Int,
                   within limit: Range<Int>? = nil) -> UnsafeRawBufferPointer? {
            let limit = limit ?? 0..<bytes.count
            guard offset >= limit.lowerBound, count >= 0, offset <= limit.upperBound,
                  count <= limit.upperBound - offset else { return nil }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }

        func corrupt(_ reason: String, member: String? = nil) -> ZipArchiveError {
            .corrupt(path: path, member: member, reason: reason)
        }

        /// Finds the end-of-central-directory record (and its ZIP64 form, if any).
        func centralDirectory() throws(ZipArchiveError) -> Directory {
            // The record is 22 bytes plus a comment of at most 65535; search backwards from the end.
            guard bytes.count >= 22 else { throw .notAnArchive(path: path) }
            var found: Int?
            for start in stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 0xFFFF), by: -1)
            where bytes.u32(start) == Self.endOfDirectorySignature
                && Int(bytes.u16(start + 20)) <= bytes.count - 22 - start {
                found = start
                break
            }
            guard let end = found else { throw .notAnArchive(path: path) }
            var disks = (UInt32(bytes.u16(end + 4)), UInt32(bytes.u16(end + 6)))
            var entries = (UInt64(bytes.u16(end + 8)), UInt64(bytes.u16(end + 10)))
            var size = UInt64(bytes.u32(end + 12))
            var offset = UInt64(bytes.u32(end + 16))
            var directoryEnd = end

            if end >= 20, bytes.u32(end - 20) == Self.zip64LocatorSignature {
                guard let recordOffset = Int(exactly: bytes.u64(end - 12)),
                      let record = slice(recordOffset, 56, within: 0..<(end - 20)),
                      record.u32(0) == Self.zip64EndOfDirectorySignature else {
                    throw corrupt("the ZIP64 end-of-central-directory locator points at no ZIP64 record")
                }
                disks = (record.u32(16), record.u32(20))
                entries = (record.u64(24), record.u64(32))
                size = record.u64(40)
                offset = record.u64(48)
                directoryEnd = recordOffset
            }
            guard disks == (0, 0), entries.0 == entries.1 else {
                throw corrupt("spanned (multi-disk) archives are not supported")
            }
            guard let start = Int(exactly: offset), let length = Int(exactly: size),
                  slice(start, length, within: 0..<directoryEnd) != nil else {
                throw corrupt("the central directory (\(size) bytes at offset \(offset)) lies outside "
                              + "the file")
            }
            // Each entry takes at least 46 bytes, which bounds the loop by the file's size.
            guard entries.1 <= UInt64(length / 46) else {
                throw corrupt("\(entries.1) entries cannot fit in a \(length)-byte central directory")
            }
            return Directory(range: start..<(start + length), count: Int(entries.1))
        }

        /// The member whose central-directory entry starts at `offset`, and where the next begins.
        func member(at offset: Int, directory: Range<Int>) throws(ZipArchiveError) -> (Member, next: Int) {
            guard let entry = slice(offset, 46, within: directory),
                  entry.u32(0) == Self.directoryEntrySignature else {
                throw corrupt("no central directory entry at offset \(offset)")
            }
            let nameLength = Int(entry.u16(28))
            let extraLength = Int(entry.u16(30))
            let commentLength = Int(entry.u16(32))
            let end = offset + 46 + nameLength + extraLength + commentLength
            guard let nameBytes = slice(offset + 46, nameLength, within: directory),
                  let extra = slice(offset + 46 + nameLength, extraLength, within: directory),
                  end <= directory.upperBound else {
                throw corrupt("the central directory entry at offset \(offset) overruns the directory")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                let lossy = String(decoding: nameBytes, as: UTF8.self)
                throw corrupt("its name is not valid UTF-8", member: lossy)
            }

            let flags = entry.u16(8), method = Int(entry.u16(10))
            guard flags & 0x41 == 0 else { throw .encrypted(path: path, member: name) }
            guard method == 0 || method == 8 else {
                throw .unsupportedCompression(path: path, member: name, method: method)
            }
            var sizes = (uncompressed: UInt64(entry.u32(24)), compressed: UInt64(entry.u32(20)))
            var localOffset = UInt64(entry.u32(42))
            try readZIP64Extra(extra, sizes: &sizes, localOffset: &localOffset, member: name)

            // Stored data does not change size; deflate expands at most 1032-fold. With the compressed
            // size checked against the file below, this bounds what inflating may allocate.
            let plausible = method == 0 ? sizes.uncompressed == sizes.compressed
                                        : sizes.uncompressed / 1032 <= sizes.compressed
            guard plausible, let uncompressedSize = Int(exactly: sizes.uncompressed),
                  uncompressedSize < .max else {
                throw .implausibleSize(path: path, member: name, declared: sizes.uncompressed,
                                       compressed: sizes.compressed)
            }
            let (extent, data) = try locate(name: name, nameBytes: nameBytes, localOffset: localOffset,
                                            compressedSize: sizes.compressed, before: directory.lowerBound)
            let member = Member(name: name, isDeflated: method == 8, uncompressedSize: uncompressedSize,
                                crc32: entry.u32(16), extent: extent, data: data)
            return (member, end)
        }

        /// Replaces the sizes and offset that are saturated at 0xFFFFFFFF with their ZIP64 values.
        private func readZIP64Extra(_ extra: UnsafeRawBufferPointer,
                                    sizes: inout (uncompressed: UInt64, compressed: UInt64),
                                    localOffset: inout UInt64, member: String) throws(ZipArchiveError) {
            var position = 0
            while position + 4 <= extra.count {
                let (id, length) = (extra.u16(position), Int(extra.u16(position + 2)))
                guard length <= extra.count - position - 4 else {
                    throw corrupt("its extra field overruns", member: member)
                }
                defer { position += 4 + length }
                guard id == 0x0001 else { continue }
                // The block lists, in this order, only the fields whose 32-bit value is saturated.
                var field = position + 4
                func next(_ value: inout UInt64) throws(ZipArchiveError) {
                    guard value == 0xFFFF_FFFF else { return }
                    guard field + 8 <= position + 4 + length else {
                        throw corrupt("its ZIP64 extra field is short", member: member)
                    }
                    value = extra.u64(field)
                    field += 8
                }
                try next(&sizes.uncompressed)
                try next(&sizes.compressed)
                try next(&localOffset)
            }
        }

        /// Checks the local header at `localOffset` and returns the member's extent and data range.
        private func locate(name: String, nameBytes: UnsafeRawBufferPointer, localOffset: UInt64,
                            compressedSize: UInt64, before directoryStart: Int)
            throws(ZipArchiveError) -> (extent: Range<Int>, data: Range<Int>) {
            let region = 0..<directoryStart
            guard let start = Int(exactly: localOffset), let header = slice(start, 30, within: region),
                  header.u32(0) == Self.localHeaderSignature else {
                throw corrupt("no local header at offset \(localOffset)", member: name)
            }
            let (nameLength, extraLength) = (Int(header.u16(26)), Int(header.u16(28)))
            guard let localName = slice(start + 30, nameLength, within: region),
                  localName.elementsEqual(nameBytes) else {
                throw corrupt("its local header names a different file", member: name)
            }
            let dataStart = start + 30 + nameLength + extraLength
            guard let size = Int(exactly: compressedSize),
                  slice(dataStart, size, within: region) != nil else {
                throw corrupt("its \(compressedSize) compressed bytes run past the central directory",
                              member: name)
            }
            return (start..<(dataStart + size), dataStart..<(dataStart + size))
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Little-endian fields; callers check the offsets first.
    fileprivate func u16(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    fileprivate func u32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    fileprivate func u64(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
