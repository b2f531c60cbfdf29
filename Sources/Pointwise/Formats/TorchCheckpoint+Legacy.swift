// The legacy container (torch < 1.6, and `torch.save(..., _use_new_zipfile_serialization=False)`):
//
//   pickle: magic number 0x1950a86a20f9469cfc6c
//   pickle: protocol version 1001
//   pickle: sys_info {'protocol_version', 'little_endian', 'type_sizes': {'short', 'int', 'long'}}
//   pickle: the object; storages appear as persistent ids
//           ('storage', storage_type, root_key, location, numel, view_metadata)
//   pickle: the list of root keys, in the order their data follows
//   for each key: numel as 8-byte little-endian, then numel × element size bytes
//
// The element size comes from the storage class (LongStorage: 8 bytes), never from sys_info:
// torch writes `type_sizes` with struct's standard sizes (long is always 4, also on Linux) and its
// `_legacy_load` never reads them, so files saved on Windows are laid out the same way.

extension TorchCheckpoint {
    /// The magic number, as the minimal little-endian two's-complement bytes `LONG1` stores.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Unpickles a legacy checkpoint and locates its storages' bytes in the mapping.
    static func readLegacy(_ file: MappedFile) throws(TorchCheckpointError) -> Unpickled {
        let path = file.path, bytes = file.bytes
        var cursor = 0
        func nextPickle() throws(TorchCheckpointError) -> PickleDocument {
            do {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[cursor...])
                let document = try Pickle.load(rest, name: path, baseOffset: cursor)
                cursor += document.length
                return document
            } catch {
                throw .pickle(error)
            }
        }

        guard try nextPickle().root.isInteger(littleEndian: legacyMagic) else {
            throw .badMagicNumber(path: path)
        }
        let version = try nextPickle().root
        guard version.int == 1001 else {
            let shown = version.int.map(String.init) ?? version.typeDescription
            throw .unsupportedLegacyVersion(path: path, version: shown)
        }
        let sysInfo = try nextPickle()
        if case .bool(false)? = sysInfo.heap.dict(sysInfo.root)?["little_endian"] {
            throw .bigEndian(path: path)
        }
        let object = try nextPickle()
        let keyList = try nextPickle()
        guard case .list = keyList.root, let keys = keyList.heap.items(keyList.root) else {
            throw .malformed(path: path, reason: "the pickle after the object is not the list of storage keys")
        }

        // Each root storage's element type and count come from its first persistent id, as in torch.
        var roots: [String: TorchStorageReference] = [:]
        for reference in object.storages where roots[reference.key] == nil {
            roots[reference.key] = reference
        }
        var located: [String: UnsafeRawBufferPointer] = [:]
        for item in keys {
            guard let key = item.text else {
                throw .malformed(path: path,
                                 reason: "the storage key list holds \(item.typeDescription), not a str")
            }
            guard let storage = roots[key] else {
                throw .malformed(path: path, reason: "the storage key list names '\(key)', which no tensor uses")
            }
            guard located[key] == nil else {
                throw .malformed(path: path, reason: "the storage key list names '\(key)' twice")
            }
            let expected = try byteCount(storage.elementCount, of: storage.elementType, path: path)
            guard bytes.count - cursor >= 8 else {
                throw .truncated(path: path, part: "the element count of storage '\(key)'", expected: 8,
                                 found: bytes.count - cursor)
            }
            let count = bytes.loadUnaligned(fromByteOffset: cursor, as: UInt64.self).littleEndian
            cursor += 8
            guard count == UInt64(storage.elementCount) else {
                let found = Int(clamping: count).multipliedReportingOverflow(by: storage.elementType.byteCount)
                throw .sizeMismatch(path: path, storage: "'\(key)'", expectedBytes: expected,
                                    foundBytes: found.overflow ? Int.max : found.partialValue)
            }
            guard expected <= bytes.count - cursor else {
                throw .truncated(path: path, part: "storage '\(key)'", expected: expected,
                                 found: bytes.count - cursor)
            }
            located[key] = UnsafeRawBufferPointer(rebasing: bytes[cursor..<cursor + expected])
            cursor += expected
        }

        let storageBytes = located
        return Unpickled(document: object) { (storage) throws(TorchCheckpointError) in
            guard let rootBytes = storageBytes[storage.key] else {
                throw .storageKeyMissing(path: path, key: storage.key)
            }
            guard let view = storage.view else { return StorageBytes(bytes: rootBytes, owner: file) }
            // A view is `view.elementCount` elements of the root storage from `view.offset`.
            let start = try byteCount(view.offset, of: storage.elementType, path: path)
            let length = try byteCount(view.elementCount, of: storage.elementType, path: path)
            guard start <= rootBytes.count, length <= rootBytes.count - start else {
                throw .sizeMismatch(path: path, storage: "'\(storage.key)' (viewed as '\(view.key)')",
                                    expectedBytes: start > Int.max - length ? Int.max : start + length,
                                    foundBytes: rootBytes.count)
            }
            let slice = UnsafeRawBufferPointer(rebasing: rootBytes[start..<start + length])
            return StorageBytes(bytes: slice, owner: file)
        }
    }
}
