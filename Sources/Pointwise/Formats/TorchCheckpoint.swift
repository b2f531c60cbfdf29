import Foundation

/// Reads the tensors of PyTorch checkpoints (`torch.save` files, `.pth`/`.pt`) without Python and
/// without running anything from the file.
///
/// Both container formats are read:
/// - **zip** (torch ≥ 1.6): `<root>/data.pkl` plus one record `<root>/data/<key>` per storage;
///   the records are stored uncompressed, so tensors are borrowed from the memory-mapped file.
/// - **legacy** (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles back to back
///   (magic number, protocol version, system info, the object, the storage keys), then each
///   storage's element count and bytes.
///
/// The object pickle is run by a restricted unpickler that knows only what a state_dict needs
/// (`OrderedDict`, the tensor and parameter rebuild functions, the storage classes); any other global
/// (`os.system`, `builtins.eval`, …) is refused by name.
///
/// Tensors come out as `RawArray`s in the file's element type and in C order: a view of the mapped
/// file when the tensor is contiguous, else a gathered copy (transposed tensors, tensors that start
/// inside a shared storage with other strides).
public enum TorchCheckpoint {
    /// Which container a checkpoint uses.
    public enum Format: String, Sendable {
        /// The zip archive `torch.save` writes since torch 1.6.
        case zip
        /// The concatenated pickles of torch < 1.6 (and `_use_new_zipfile_serialization=False`).
        case legacy
    }

    /// Everything `load(path:)` found in a checkpoint.
    public struct Contents: Sendable {
        /// The container format.
        public var format: Format
        /// The tensors in the order the checkpoint's dict holds them, named by their state_dict keys
        /// (nested dicts and lists joined with dots: `state_dict.conv.weight`, `layers.0.bias`).
        public var tensors: [(name: String, array: RawArray)]
        /// The dotted names of values that are not tensors and were left out (`epoch`,
        /// `optimizer.param_groups`, …).
        public var skipped: [String]
    }

    /// The well-known keys under which training scripts nest a model's state_dict; such a wrapper
    /// is removed when it holds every tensor of the checkpoint.
    public static let wrapperKeys: Set<String> = ["state_dict", "model", "model_state_dict", "net"]

    /// Reads the named tensors of the checkpoint at `path`.
    ///
    /// A state_dict gives its own keys (`conv.weight`, `bn.num_batches_tracked`). A training
    /// checkpoint such as `{"state_dict": {…}, "epoch": 3}` is unwrapped when one entry under a key in
    /// `wrapperKeys` holds all its tensors; otherwise nested names are joined with dots. Values that
    /// are not tensors are skipped (`load(path:)` lists them).
    ///
    /// - Parameter path: A `torch.save` file in either container format.
    /// - Returns: `(name, array)` pairs in the checkpoint's order; each array has the tensor's shape
    ///   (`[]` for a 0-d tensor), element type and C-order bytes.
    /// - Throws: `TorchCheckpointError` naming the file: unreadable, truncated, not a checkpoint,
    ///   forbidden globals, inconsistent storages, tensors outside their storage.
    public static func read(path: String) throws(TorchCheckpointError) -> [(name: String, array: RawArray)] {
        try load(path: path).tensors
    }

    /// Reads the checkpoint at `path`: its format, its named tensors and the names of the values
    /// that were skipped.
    ///
    /// - Parameter path: A `torch.save` file in either container format.
    /// - Returns: The contents; `tensors` is what `read(path:)` returns.
    /// - Throws: `TorchCheckpointError`, as for `read(path:)`.
    public static func load(path: String) throws(TorchCheckpointError) -> Contents {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .file(error) }
        return try load(file)
    }

    /// Reads a checkpoint held in memory (a copy is kept for the tensors to borrow).
    ///
    /// - Parameters:
    ///   - data: The complete `torch.save` file, in either container format.
    ///   - name: A file path or label that starts every error message.
    /// - Returns: The contents, as `load(path:)` returns them.
    /// - Throws: `TorchCheckpointError`, as for `read(path:)` (never `.file`).
    public static func decode(_ data: Data, name: String) throws(TorchCheckpointError) -> Contents {
        try load(MappedFile(copying: data, path: name))
    }

    /// The contents of the checkpoint in `file`, labelled with its path.
    private static func load(_ file: MappedFile) throws(TorchCheckpointError) -> Contents {
        let path = file.path, bytes = file.bytes

        let format: Format
        let unpickled: Unpickled
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            format = .zip
            unpickled = try readZip(file)
        } else if bytes.first == 0x80 || bytes.first == UInt8(ascii: "L") {
            // PROTO 2 and up; protocol 0 and 1 pickles start the magic number with a text LONG.
            format = .legacy
            unpickled = try readLegacy(file)
        } else if bytes.count >= 262, bytes[257..<262].elementsEqual("ustar".utf8) {
            throw .unsupportedFormat(path: path, reason: "a tar checkpoint of torch ≤ 0.3; load it with "
                + "an old torch and save it again with a current one")
        } else {
            throw .notACheckpoint(path: path)
        }

        var builder = StateDictBuilder(path: path, document: unpickled.document, fileLength: bytes.count)
        let (tensors, skipped) = try builder.flatten()
        var arrays: [(name: String, array: RawArray)] = []
        arrays.reserveCapacity(tensors.count)
        for (name, tensor) in tensors {
            arrays.append((name, try builder.array(of: tensor, named: name, resolve: unpickled.resolve)))
        }
        return Contents(format: format, tensors: arrays, skipped: skipped)
    }

    // MARK: - Shared by both formats

    /// The bytes of one storage as a tensor's persistent id sees it, and what keeps them alive.
    struct StorageBytes {
        var bytes: UnsafeRawBufferPointer
        var owner: AnyObject
    }

    /// A container reader's result: the object pickle, and how to find a storage's bytes.
    struct Unpickled {
        var document: PickleDocument
        var resolve: (TorchStorageReference) throws(TorchCheckpointError) -> StorageBytes
    }

    /// `count` elements of `type` in bytes, or the error for a storage too large to address.
    static func byteCount(_ count: Int, of type: ElementType, path: String) throws(TorchCheckpointError) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: type.byteCount)
        guard !overflow else {
            throw .limitExceeded(path: path, what: "addressable bytes in one storage", limit: Int.max)
        }
        return bytes
    }
}
