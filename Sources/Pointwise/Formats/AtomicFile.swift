import Foundation

/// Writes files so that the destination is either untouched or complete, never half-written:
/// the bytes go to a hidden temporary file in the same folder, are flushed, and the temporary
/// file is renamed over the destination (POSIX `rename` is atomic within a file system).
public enum AtomicFile {
    /// Writes `data` to `path` atomically.
    /// - Throws: `FileAccessError` naming `path` if the folder is missing or not writable.
    public static func write(_ data: Data, to path: String) throws(FileAccessError) {
        try write(to: path) { (handle: FileHandle) throws(FileAccessError) in
            do { try handle.write(contentsOf: data) } catch {
                throw FileAccessError(path: path, reason: "cannot write: \(error.localizedDescription)")
            }
        }
    }

    /// Streams a file to `path` atomically: `body` writes through the handle (in as many pieces
    /// as it likes); if it throws, the temporary file is removed and the destination untouched.
    public static func write(to path: String,
                             _ body: (FileHandle) throws(FileAccessError) -> Void) throws(FileAccessError) {
        let temporary = temporaryPath(for: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileAccessError(path: path, errno: errno) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do throws(FileAccessError) {
            try body(handle)
            guard fsync(descriptor) == 0 else { throw FileAccessError(path: path, errno: errno) }
            try? handle.close()
            guard rename(temporary, path) == 0 else { throw FileAccessError(path: path, errno: errno) }
        } catch {
            try? handle.close()
            unlink(temporary)
            throw error
        }
    }

    /// A hidden, unique name beside `path`, so the final rename stays within one file system.
    private static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
    }
}
