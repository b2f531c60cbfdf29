import Foundation

/// Any file of named tensors, read by its contents rather than its name: safetensors, `.npz`,
/// and PyTorch checkpoints in the zip (torch ≥ 1.6) and legacy pickle formats.
public enum TensorArchive {
    /// The container formats `read(path:)` recognises.
    public enum Format: String, Sendable {
        /// Hugging Face safetensors.
        case safetensors
        /// NumPy's zip of `.npy` files.
        case npz
        /// A PyTorch checkpoint (either format).
        case torch
    }

    /// The format of the file at `path`, from its first bytes: `PK` opens a zip (npz when the
    /// name ends in `.npz`, else a zip-format checkpoint), `\x80` a pickle (legacy checkpoint),
    /// and a little-endian length followed by `{` a safetensors header.
    /// - Throws: `FileAccessError` when the file cannot be read or is none of these.
    public static func format(of path: String) throws(FileAccessError) -> Format {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            throw FileAccessError(path: path, reason: exists ? (isFolder.boolValue ? "is a folder" : "cannot be read")
                                  : "no such file", isMissing: !exists)
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 9)) ?? Data())
        if head.starts(with: [0x50, 0x4B]) { return path.lowercased().hasSuffix(".npz") ? .npz : .torch }
        if head.first == 0x80 { return .torch }
        if head.count == 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        throw FileAccessError(path: path, reason: "not a safetensors, .npz or PyTorch checkpoint file "
                              + "(unrecognised first bytes)")
    }

    /// Every tensor in the file at `path`, in file order (safetensors tensors are memory-mapped).
    /// - Throws: `FileAccessError`, `SafeTensorsError`, `NPZError` or `TorchCheckpointError`,
    ///   each naming the file and the problem.
    public static func read(path: String) throws -> [(name: String, array: RawArray)] {
        switch try format(of: path) {
        case .safetensors: return try SafeTensorsFile(path: path).arrays
        case .npz: return try NPZ.read(path: path)
        case .torch: return try TorchCheckpoint.read(path: path)
        }
    }

    /// The tensors of the file at `path` by name (the first of any duplicate names).
    /// - Throws: as `read(path:)`.
    public static func dictionary(path: String) throws -> [String: RawArray] {
        Dictionary(try read(path: path).map { ($0.name, $0.array) }) { first, _ in first }
    }
}
