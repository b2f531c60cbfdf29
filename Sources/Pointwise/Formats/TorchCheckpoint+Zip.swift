import Foundation
import ZIPFoundation

// The zip container (torch ≥ 1.6). Every record sits under one root folder whose name varies
// (`archive/`, the file's stem, …):
//
//   <root>/data.pkl          the object; storages appear as persistent ids
//                            ('storage', storage_type, key, location, numel)
//   <root>/data/<key>        the bytes of storage <key>
//   <root>/byteorder         "little" or "big" (absent in files from torch < 1.10: little)
//   <root>/version, .format_version, .storage_alignment, .data/serialization_id
//
// torch stores every record uncompressed (and pads the local headers so storages start at 64-byte
// offsets), so the central directory is read here and the bytes are taken straight from the mapped
// file. A record someone recompressed with deflate is inflated through ZIPFoundation.

extension TorchCheckpoint {
    /// One record of the archive, located through its central directory entry and local header.
    struct ZipRecord {
        var name: String
        /// 0 stored, 8 deflate (anything else is refused when the record is read).
        var method: Int
        var encrypted: Bool
        /// File offset of the record's (possibly compressed) bytes.
        var dataOffset: Int
        var compressedSize: Int
        var uncompressedSize: Int
    }

    /// Unpickles `<root>/data.pkl` of a zip checkpoint; storages resolve to `<root>/data/<key>`.
    static func readZip(_ file: MappedFile) throws(TorchCheckpointError) -> Unpickled {
        let path = file.path
        let archive = ZipArchive(file: file, records: try zipRecords(file.bytes, path: path))
        guard let first = archive.records.first, let slash = first.name.firstIndex(of: "/") else {
            throw .malformed(path: path,
                             reason: "the records are not inside one folder, as torch.save writes them")
        }
        let root = String(first.name[..<slash])
        if archive.byName["\(root)/constants.pkl"] != nil
            || archive.records.contains(where: { $0.name.hasPrefix("\(root)/code/") }) {
            throw .unsupportedFormat(path: path, reason: "a TorchScript archive (torch.jit.save), not a "
                + "torch.save checkpoint; save the model's state_dict with torch.save instead")
        }
        if archive.byName["\(root)/byteorder"] != nil {
            let order = try archive.contents(of: "\(root)/byteorder").bytes
            if order.elementsEqual("big".utf8) { throw .bigEndian(path: path) }
            guard order.elementsEqual("little".utf8) else {
                throw .malformed(path: path, reason: "the byteorder record is neither 'little' nor 'big'")
            }
        }

        let pickleName = "\(root)/data.pkl"
        guard let pickleRecord = archive.byName[pickleName] else {
            throw .missingRecord(path: path, record: pickleName)
        }
        let pickle = try archive.contents(of: pickleName)
        let object: PickleDocument
        do {
            // Offsets in errors are file offsets when the pickle is stored in place.
            let baseOffset = pickleRecord.method == 0 ? pickleRecord.dataOffset : 0
            object = try Pickle.load(pickle.bytes, name: path, baseOffset: baseOffset)
        } catch {
            throw .pickle(error)
        }

        return Unpickled(document: object) { (storage) throws(TorchCheckpointError) in
            let recordName = "\(root)/data/\(storage.key)"
            guard archive.byName[recordName] != nil else {
                throw .storageKeyMissing(path: path, key: storage.key)
            }
            let record = try archive.contents(of: recordName)
            let expected = try byteCount(storage.elementCount, of: storage.elementType, path: path)
            guard expected <= record.bytes.count else {
                throw .sizeMismatch(path: path, storage: recordName, expectedBytes: expected,
                                    foundBytes: record.bytes.count)
            }
            return StorageBytes(bytes: UnsafeRawBufferPointer(rebasing: record.bytes[..<expected]),
                                owner: record.owner)
        }
    }

    // MARK: - Archive

    /// The records of a mapped zip file, with inflated copies of compressed ones made on demand.
    final class ZipArchive {
        let file: MappedFile
        let records: [ZipRecord]
        let byName: [String: ZipRecord]
        /// Opened only if a record is compressed.
        private var inflater: Archive?
        private var inflated: [String: OwnedBytes] = [:]

        init(file: MappedFile, records: [ZipRecord]) {
            self.file = file
            self.records = records
            byName = Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }

        /// The uncompressed bytes of record `name` (which must exist).
        func contents(of name: String) throws(TorchCheckpointError) -> StorageBytes {
            let path = file.path
            guard let record = byName[name] else { throw .missingRecord(path: path, record: name) }
            guard !record.encrypted, record.method == 0 || record.method == 8 else {
                throw .unsupportedCompression(path: path, record: name, method: record.method)
            }
            if record.method == 0 {
                guard record.compressedSize == record.uncompressedSize else {
                    throw .malformed(path: path, reason: "the stored record \(name) has two different sizes")
                }
                let range = record.dataOffset..<record.dataOffset + record.compressedSize
                return StorageBytes(bytes: UnsafeRawBufferPointer(rebasing: file.bytes[range]), owner: file)
            }
            if let buffer = inflated[name] { return StorageBytes(bytes: buffer.bytes, owner: buffer) }
            let buffer = try inflate(record)
            inflated[name] = buffer
            return StorageBytes(bytes: buffer.bytes, owner: buffer)
        }

        /// Inflates a deflate record through ZIPFoundation, refusing sizes deflate cannot reach.
        private func inflate(_ record: ZipRecord) throws(TorchCheckpointError) -> OwnedBytes {
            let path = file.path
            // Deflate expands at most 1032:1, so a larger claim is a lie (or a zip bomb).
            guard record.uncompressedSize <= record.compressedSize * 1032 + 1024 else {
                throw .malformed(path: path, reason: "record \(record.name) claims \(record.uncompressedSize) "
                    + "bytes from \(record.compressedSize) compressed ones, more than deflate can produce")
            }
            let expected = record.uncompressedSize
            // Grown as data arrives, so a lying size costs no more memory than the real data.
            var data = Data()
            do {
                let archive = try inflater ?? Archive(url: URL(fileURLWithPath: path), accessMode: .read)
                inflater = archive
                guard let entry = archive[record.name] else {
                    throw TorchCheckpointError.missingRecord(path: path, record: record.name)
                }
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    guard chunk.count <= expected - data.count else {
                        throw TorchCheckpointError.sizeMismatch(path: path, storage: record.name,
                                                                expectedBytes: expected,
                                                                foundBytes: data.count + chunk.count)
                    }
                    data.append(chunk)
                }
            } catch let error as TorchCheckpointError {
                throw error
            } catch {
                throw .malformed(path: path, reason: "cannot inflate record \(record.name): \(error)")
            }
            guard data.count == expected else {
                throw .sizeMismatch(path: path, storage: record.name, expectedBytes: expected,
                                    foundBytes: data.count)
            }
            let buffer = OwnedBytes(copying: data)
            return buffer
        }
    }

    // MARK: - Central directory

    /// The records of the zip archive in `bytes`, in central directory order, each checked to lie
    /// inside the file.
    static func zipRecords(_ bytes: UnsafeRawBufferPointer,
                           path: String) throws(TorchCheckpointError) -> [ZipRecord] {
        func malformed(_ reason: String) -> TorchCheckpointError { .malformed(path: path, reason: reason) }
        /// A little-endian field of `size` bytes at `offset`.
        func field(_ offset: Int, _ size: Int) throws(TorchCheckpointError) -> Int {
            guard offset >= 0, offset <= bytes.count - size else {
                throw malformed("a zip structure at byte \(offset) runs past the end of the file")
            }
            let value = (0..<size).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[offset + $1]) }
            guard let int = Int(exactly: value) else {
                throw malformed("a zip field at byte \(offset) is too large")
            }
            return int
        }

        // The end of central directory record: the last signature within its 64 KiB comment reach.
        guard bytes.count >= 22 else {
            throw .truncated(path: path, part: "the zip end record", expected: 22, found: bytes.count)
        }
        var end = bytes.count - 22
        let lowest = max(0, end - 0xFFFF)
        let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        while end >= lowest, !bytes[end..<end + 4].elementsEqual(signature) { end -= 1 }
        guard end >= lowest else {
            throw malformed("no end of central directory record (the archive is truncated or not a zip file)")
        }
        var count = try field(end + 10, 2)
        var directorySize = try field(end + 12, 4)
        var directoryOffset = try field(end + 16, 4)
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            guard end >= 20, try field(end - 20, 4) == 0x0706_4B50 else {
                throw malformed("the zip64 locator is missing")
            }
            let record = try field(end - 20 + 8, 8)
            guard try field(record, 4) == 0x0606_4B50 else {
                throw malformed("the zip64 end record is missing")
            }
            count = try field(record + 32, 8)
            directorySize = try field(record + 40, 8)
            directoryOffset = try field(record + 48, 8)
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw malformed("the central directory lies outside the file")
        }
        guard count <= directorySize / 46 else {
            throw malformed("the central directory claims \(count) records but has room for \(directorySize / 46)")
        }

        var records: [ZipRecord] = []
        records.reserveCapacity(count)
        var cursor = directoryOffset
        for index in 0..<count {
            guard try field(cursor, 4) == 0x0201_4B50 else {
                throw malformed("central directory entry \(index) is damaged")
            }
            let flags = try field(cursor + 8, 2)
            let method = try field(cursor + 10, 2)
            var compressedSize = try field(cursor + 20, 4)
            var uncompressedSize = try field(cursor + 24, 4)
            let nameLength = try field(cursor + 28, 2)
            let extraLength = try field(cursor + 30, 2)
            let commentLength = try field(cursor + 32, 2)
            var localOffset = try field(cursor + 42, 4)
            let nameStart = cursor + 46
            guard nameStart + nameLength + extraLength + commentLength <= bytes.count else {
                throw malformed("central directory entry \(index) runs past the end of the file")
            }
            guard let name = String(validating: bytes[nameStart..<nameStart + nameLength], as: UTF8.self) else {
                throw malformed("the name of record \(index) is not UTF-8")
            }

            // Zip64 extended information: the 8-byte values of the fields saturated above, in order.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try field(extra, 2), size = try field(extra + 2, 2)
                guard extra + 4 + size <= extraEnd else {
                    throw malformed("record \(name) has a damaged extra field")
                }
                if id == 0x0001 {
                    var next = extra + 4
                    func wide() throws(TorchCheckpointError) -> Int {
                        guard next + 8 <= extra + 4 + size else {
                            throw malformed("record \(name) has a short zip64 field")
                        }
                        defer { next += 8 }
                        return try field(next, 8)
                    }
                    if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = try wide() }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = try wide() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try wide() }
                }
                extra += 4 + size
            }
            cursor = extraEnd + commentLength

            guard try field(localOffset, 4) == 0x0403_4B50 else {
                throw malformed("the local header of \(name) is damaged")
            }
            let dataOffset = localOffset + 30 + (try field(localOffset + 26, 2)) + (try field(localOffset + 28, 2))
            guard dataOffset <= bytes.count, compressedSize <= bytes.count - dataOffset else {
                throw .truncated(path: path, part: "record \(name)", expected: compressedSize,
                                 found: max(0, bytes.count - dataOffset))
            }
            records.append(ZipRecord(name: name, method: method, encrypted: flags & 1 != 0, dataOffset: dataOffset,
                                     compressedSize: compressedSize, uncompressedSize: uncompressedSize))
        }
        return records
    }
}
