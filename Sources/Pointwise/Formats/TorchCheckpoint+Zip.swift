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
// offsets), so stored records are taken straight from the mapped file; a record someone
// recompressed with deflate is inflated. Both go through `ZipArchive`, the reader the .npz files
// use, which checks every offset, size and CRC-32 against the file.

extension TorchCheckpoint {
    /// Unpickles `<root>/data.pkl` of a zip checkpoint; storages resolve to `<root>/data/<key>`.
    static func readZip(_ file: MappedFile) throws(TorchCheckpointError) -> Unpickled {
        let path = file.path
        let archive = try CheckpointArchive(file: file)
        guard let first = archive.members.first, let slash = first.name.firstIndex(of: "/") else {
            throw .malformed(path: path,
                             reason: "the records are not inside one folder, as torch.save writes them")
        }
        let root = String(first.name[..<slash])
        if archive.byName["\(root)/constants.pkl"] != nil
            || archive.members.contains(where: { $0.name.hasPrefix("\(root)/code/") }) {
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
        guard let pickleMember = archive.byName[pickleName] else {
            throw .missingRecord(path: path, record: pickleName)
        }
        let pickle = try archive.contents(of: pickleName)
        let object: PickleDocument
        do {
            // Offsets in errors are file offsets when the pickle is stored in place.
            let baseOffset = pickleMember.isDeflated ? 0 : pickleMember.data.lowerBound
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

    /// A checkpoint's zip archive: its members by name, with each record's bytes taken once
    /// (storages shared by several tensors are not inflated twice) and ZIP errors as checkpoint errors.
    final class CheckpointArchive {
        private let archive: ZipArchive
        /// The members in central-directory order.
        var members: [ZipArchive.Member] { archive.members }
        /// The members by name (the first of any duplicates).
        let byName: [String: ZipArchive.Member]
        private var contents: [String: StorageBytes] = [:]

        init(file: MappedFile) throws(TorchCheckpointError) {
            do { archive = try ZipArchive(file: file) } catch { throw Self.checkpointError(error, path: file.path) }
            byName = Dictionary(archive.members.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }

        /// The uncompressed bytes of record `name`.
        func contents(of name: String) throws(TorchCheckpointError) -> StorageBytes {
            if let known = contents[name] { return known }
            guard let member = byName[name] else { throw .missingRecord(path: archive.file.path, record: name) }
            let result: (bytes: UnsafeRawBufferPointer, owner: AnyObject)
            do { result = try archive.contents(of: member) } catch { throw Self.checkpointError(error, path: archive.file.path) }
            let bytes = StorageBytes(bytes: result.bytes, owner: result.owner)
            contents[name] = bytes
            return bytes
        }

        /// The checkpoint error for a ZIP error about the file at `path`: the same facts, in the
        /// checkpoint's terms.
        static func checkpointError(_ error: ZipArchiveError, path: String) -> TorchCheckpointError {
            switch error {
            case .notAnArchive:
                return .malformed(path: path, reason: "no end of central directory record (the archive is "
                                  + "truncated or not a zip file)")
            case .unsupportedCompression(_, let member, let method):
                return .unsupportedCompression(path: path, record: member, method: method)
            case .sizeMismatch(_, let member, let declared):
                return .malformed(path: path, reason: "record \(member) does not inflate to its declared \(declared) bytes")
            default:
                // ZIP errors describe themselves as "PATH: problem"; the checkpoint error adds the path again.
                let description = error.description
                let reason = description.hasPrefix("\(path): ") ? String(description.dropFirst(path.count + 2)) : description
                return .malformed(path: path, reason: reason)
            }
        }
    }
}
