/// Why a PyTorch checkpoint could not be read.
///
/// Every case carries the checkpoint's `path`, and `description` is a sentence starting with it that
/// says what is wrong and, where possible, what to do.
public enum TorchCheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped (missing, a directory, no permission).
    case file(FileAccessError)
    /// The file is neither a zip archive nor a pickle: not something `torch.save` wrote.
    case notACheckpoint(path: String)
    /// A format Pointwise does not read: the tar files of torch ≤ 0.3, TorchScript archives, …;
    /// `reason` names it and says what to do instead.
    case unsupportedFormat(path: String, reason: String)
    /// A legacy checkpoint whose first pickle is not torch's magic number 0x1950a86a20f9469cfc6c.
    case badMagicNumber(path: String)
    /// A legacy checkpoint whose serialization protocol is not 1001.
    case unsupportedLegacyVersion(path: String, version: String)
    /// The tensors were saved on a big-endian machine (Pointwise reads little-endian data only).
    case bigEndian(path: String)
    /// The file ends inside `part`, which needs `expected` bytes where only `found` remain.
    case truncated(path: String, part: String, expected: Int, found: Int)
    /// The container is inconsistent: the zip structure (end record, central directory, local
    /// headers), or the layout of a legacy file's pickles and storages.
    case malformed(path: String, reason: String)
    /// The archive lacks a record the checkpoint needs (`data.pkl`).
    case missingRecord(path: String, record: String)
    /// A zip record is compressed with a method other than stored or deflate, or encrypted.
    case unsupportedCompression(path: String, record: String, method: Int)
    /// A tensor refers to a storage whose bytes the file does not contain (no `data/<key>` record,
    /// or a legacy storage missing from the list of storage keys), or the list names an unknown key.
    case storageKeyMissing(path: String, key: String)
    /// A storage's bytes and the size its persistent id (or legacy element count) claims differ.
    case sizeMismatch(path: String, storage: String, expectedBytes: Int, foundBytes: Int)
    /// A tensor's offset, sizes and strides reach outside its storage, or overflow.
    case tensorOutOfBounds(path: String, tensor: String, reason: String)
    /// The pickled object holds no named tensors in a form Pointwise understands; `found` says what
    /// it holds.
    case notAStateDict(path: String, found: String)
    /// Two tensors flatten to the same dotted name.
    case duplicateName(path: String, name: String)
    /// The checkpoint would exceed a safety bound (nesting, shared references, copies).
    case limitExceeded(path: String, what: String, limit: Int)
    /// The restricted unpickler refused a pickle (a forbidden global, a malformed or truncated
    /// pickle); its description names the file.
    case pickle(PickleError)

    /// A sentence starting with the file name that says what is wrong.
    public var description: String {
        switch self {
        case .file(let error):
            return error.description
        case .notACheckpoint(let path):
            return "\(path): not a PyTorch checkpoint (neither a zip archive nor a pickle)"
        case .unsupportedFormat(let path, let reason):
            return "\(path): \(reason)"
        case .badMagicNumber(let path):
            return "\(path): not a PyTorch checkpoint: the first pickle is not torch's magic number"
        case .unsupportedLegacyVersion(let path, let version):
            return "\(path): legacy checkpoint protocol \(version) is not 1001, the only one torch writes"
        case .bigEndian(let path):
            return "\(path): the tensors were saved on a big-endian machine; load and re-save the "
                + "checkpoint with torch on a little-endian one"
        case .truncated(let path, let part, let expected, let found):
            return "\(path): the file is truncated: \(part) needs \(expected) bytes but only \(found) "
                + "are present"
        case .malformed(let path, let reason):
            return "\(path): malformed checkpoint: \(reason)"
        case .missingRecord(let path, let record):
            return "\(path): the archive has no \(record) record; it was not written by torch.save"
        case .unsupportedCompression(let path, let record, let method):
            return "\(path): the record \(record) uses zip method \(method); only stored (0) and "
                + "deflate (8) records without encryption can be read"
        case .storageKeyMissing(let path, let key):
            return "\(path): the file has no data for storage '\(key)'"
        case .sizeMismatch(let path, let storage, let expectedBytes, let foundBytes):
            return "\(path): storage \(storage) should hold \(expectedBytes) bytes but holds \(foundBytes)"
        case .tensorOutOfBounds(let path, let tensor, let reason):
            return "\(path): tensor '\(tensor)' \(reason)"
        case .notAStateDict(let path, let found):
            return "\(path): the checkpoint holds \(found), not a dict of named tensors; save a "
                + "state_dict, e.g. torch.save(model.state_dict(), path)"
        case .duplicateName(let path, let name):
            return "\(path): two tensors are both named '\(name)' once nested names are joined with dots"
        case .limitExceeded(let path, let what, let limit):
            return "\(path): the checkpoint exceeds the limit of \(limit) \(what); a state_dict never "
                + "comes close, so the file is corrupt or hostile"
        case .pickle(let error):
            return error.description
        }
    }
}
