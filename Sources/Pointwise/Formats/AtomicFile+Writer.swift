import CPointwiseSystem
import Foundation

extension AtomicFile {
    /// A file filled piece by piece, at any offsets, that appears at its destination only when
    /// `commit()` is called: until then the bytes live in a hidden temporary file beside the
    /// destination, removed by `abandon()`, by deinitialization without a commit, and by
    /// `InterruptCleanup` on SIGINT/SIGTERM.
    ///
    /// This is how outputs larger than memory are written: each tile goes straight to its place
    /// in the file and leaves memory.
    ///
    /// A destination that cannot be renamed onto (a device, FIFO or pipe: `/dev/null`,
    /// `/dev/stdout`) gets the bytes staged in an unlinked temporary file instead, copied to it
    /// front to back by `commit()`; a symbolic link is written through (`AtomicFile.Destination`).
    public final class Writer {
        /// The destination.
        public let path: String
        /// Where the bytes go: the file renamed onto (a link's target), or the device written to.
        private let destination: Destination
        /// The hidden temporary file beside a `.file` destination (unlinked at once for a `.stream`).
        private let temporary: String
        /// The open temporary file (for writers that stream through a `FileHandle`).
        private(set) var descriptor: Int32
        private var cleanupSlot: Int32
        private var finished = false
        /// Bytes written since writeback was last started.
        private var unsubmitted = 0

        /// Whether pages already written to the disk leave the page cache as the file fills
        /// (drop-behind, for files larger than memory); otherwise they stay cached.
        public var dropsWrittenPages = false

        /// Bytes written between starts of writeback: a large output then goes to the disk while
        /// the rest is computed, instead of all in `commit()`'s `fsync`, and dirty pages never
        /// pile up in memory.
        static let writebackBytes = 32 << 20

        /// Creates the temporary file for `path`.
        /// - Throws: `FileAccessError` naming `path` when it cannot be written (see
        ///   `AtomicFile.destination(for:)`).
        public init(path: String) throws(FileAccessError) {
            self.path = path
            destination = try AtomicFile.destination(for: path)
            switch destination {
            case .file(let file):
                temporary = AtomicFile.temporaryPath(for: file)
                cleanupSlot = InterruptCleanup.register(temporary)
            case .stream:
                temporary = AtomicFile.temporaryPath(for: NSTemporaryDirectory() + "/pointwise")
                cleanupSlot = -1
            }
            descriptor = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            let code = errno
            if case .stream = destination { unlink(temporary) }
            guard descriptor >= 0 else {
                InterruptCleanup.unregister(cleanupSlot)
                throw FileAccessError(path: path, reason: "cannot create a temporary file: " + String(cString: strerror(code)))
            }
        }

        /// Writes `bytes` at byte `offset` of the file (the file grows as needed).
        /// - Throws: `FileAccessError` naming the destination (a full disk, say).
        public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileAccessError) {
            precondition(!finished, "AtomicFile.Writer: write after commit or abandon")
            guard var source = bytes.baseAddress else { return }
            var remaining = bytes.count, position = off_t(offset)
            while remaining > 0 {
                let written = pwrite(descriptor, source, remaining, position)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FileAccessError(path: path, reason: "cannot write: " + String(cString: strerror(errno)))
                }
                guard written > 0 else { throw FileAccessError(path: path, reason: "cannot write: no progress") }
                remaining -= written
                source += written
                position += off_t(written)
            }
            unsubmitted += bytes.count
            if unsubmitted >= Self.writebackBytes {
                unsubmitted = 0
                startWriteback()
            }
        }

        /// Starts writing the dirty pages to the disk; with `dropsWrittenPages`, also drops the
        /// pages whose writing has finished (`POSIX_FADV_DONTNEED` does both). Only a hint:
        /// `commit()`'s `fsync` is what makes the file durable.
        private func startWriteback() {
            if dropsWrittenPages {
                posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
            } else {
                _ = pw_start_writeback(descriptor, 0, 0)
            }
        }

        /// Writes `bytes` at byte `offset`.
        public func write(_ bytes: [UInt8], at offset: Int) throws(FileAccessError) {
            try bytes.withUnsafeBytes { buffer in
                Result { () throws(FileAccessError) in try write(buffer, at: offset) }
            }.get()
        }

        /// Sets the file's size (to leave room for data written later, or to cut it).
        public func truncate(to size: Int) throws(FileAccessError) {
            guard ftruncate(descriptor, off_t(size)) == 0 else { throw FileAccessError(path: path, errno: errno) }
        }

        /// Flushes the file to disk and renames it onto the destination (or, for a device, FIFO
        /// or pipe, copies it there).
        /// - Throws: `FileAccessError` when flushing or renaming fails; the temporary file is
        ///   then removed and the destination untouched.
        public func commit() throws(FileAccessError) {
            precondition(!finished, "AtomicFile.Writer: commit after commit or abandon")
            finished = true
            guard case .file(let file) = destination else {
                defer { close(descriptor) }
                return try copyToStream()
            }
            defer { InterruptCleanup.unregister(cleanupSlot) }
            let flushed = fsync(descriptor) == 0 ? 0 : errno
            if dropsWrittenPages { startWriteback() }  // all clean now: drops the rest
            close(descriptor)
            guard flushed == 0, rename(temporary, file) == 0 else {
                let code = flushed != 0 ? flushed : errno
                unlink(temporary)
                throw FileAccessError(path: path, errno: code)
            }
        }

        /// Copies the staged bytes, front to back, to the device, FIFO or pipe at `path` (opening
        /// a FIFO waits for its reader, as a shell's `>` does).
        private func copyToStream() throws(FileAccessError) {
            let size = lseek(descriptor, 0, SEEK_END)
            guard size >= 0 else { throw FileAccessError(path: path, reason: "cannot read back the staged output") }
            let output = open(path, O_WRONLY | O_CLOEXEC)
            guard output >= 0 else { throw FileAccessError(path: path, errno: errno) }
            defer { close(output) }
            let chunk = 1 << 20
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
            defer { buffer.deallocate() }
            var offset = off_t(0)
            while offset < size {
                let count = pread(descriptor, buffer, min(chunk, Int(size - offset)), offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw FileAccessError(path: path, reason: "cannot read back the staged output") }
                var done = 0
                while done < count {
                    let written = Glibc.write(output, buffer + done, count - done)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else {
                        throw FileAccessError(path: path, reason: "cannot write: " + String(cString: strerror(errno)))
                    }
                    done += written
                }
                offset += off_t(count)
            }
        }

        /// Removes the temporary file; the destination stays as it was.
        public func abandon() {
            guard !finished else { return }
            finished = true
            close(descriptor)
            guard case .file = destination else { return }
            unlink(temporary)
            InterruptCleanup.unregister(cleanupSlot)
        }

        deinit { abandon() }
    }
}
