import Foundation

/// Writes files so that the destination is either untouched or complete, never half-written:
/// the bytes go to a hidden temporary file in the same folder, are flushed, and the temporary
/// file is renamed over the destination (POSIX `rename` is atomic within a file system). A
/// symbolic link is written through, and a device or FIFO written to directly once the bytes are
/// complete (`Destination`).
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
        let writer = try Writer(path: path)
        let handle = FileHandle(fileDescriptor: writer.descriptor, closeOnDealloc: false)
        do throws(FileAccessError) {
            try body(handle)
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// A hidden, unique name beside `path`, so the final rename stays within one file system.
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
    }
}
