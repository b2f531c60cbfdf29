import Foundation

/// A file mapped read-only into memory: its bytes are paged in on first touch and shared with
/// the page cache, so opening a large weights file costs no copy.
///
/// Empty files are represented without a mapping (`mmap` refuses length 0). The readers that take
/// a mapped file also read bytes held in memory (`init(copying:path:)`), for the formats' public
/// `Data` entry points.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from (used in error messages).
    public let path: String
    /// The whole file.
    public let bytes: UnsafeRawBufferPointer
    /// The allocation behind `bytes` when they were copied from memory rather than mapped.
    private let copy: OwnedBytes?
    /// The open file, for `read(_:into:)` (−1 for a copy or an empty file).
    private let descriptor: Int32

    /// Maps the file at `path`.
    /// - Throws: `FileAccessError` when the file is missing, unreadable or not a regular file.
    public init(path: String) throws(FileAccessError) {
        self.path = path
        copy = nil
        // Non-blocking, so that a FIFO is refused below rather than waited on for a writer.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileAccessError(path: path, errno: errno) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw FileAccessError(path: path, errno: code)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw FileAccessError(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            close(descriptor)
            self.descriptor = -1
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            let code = errno
            close(descriptor)
            throw FileAccessError(path: path, errno: code)
        }
        self.descriptor = descriptor
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// A copy of `data` standing in for a file, so that bytes that never touched the disk (a
    /// download, a fuzzer's input) go through the same reader; `path` labels the errors.
    init(copying data: Data, path: String) {
        self.path = path
        let copy = OwnedBytes(copying: data)
        self.copy = copy
        descriptor = -1
        bytes = copy.bytes
    }

    /// Copies the bytes `range` of the file to `destination` with `pread`, without touching the
    /// mapping: the data comes from the page cache (or the disk) and no page of this process is
    /// mapped for it, so a reader streaming through a file larger than memory keeps its resident
    /// memory flat with no `release(_:)`, and pays no page faults. Where `pread` fails (an I/O
    /// error, say), the bytes are copied through the mapping instead, as `bytes` would read them.
    /// - Precondition: `range` lies inside the file.
    public func read(_ range: Range<Int>, into destination: UnsafeMutableRawPointer) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "MappedFile.read: out of range")
        var done = 0
        while descriptor >= 0 && done < range.count {
            let got = pread(descriptor, destination + done, range.count - done, off_t(range.lowerBound + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            done += got
        }
        guard done < range.count else { return }
        (destination + done).copyMemory(from: bytes.baseAddress! + range.lowerBound + done, byteCount: range.count - done)
    }

    /// Asks the system to start reading the bytes `range` (byte offsets) from the disk now, in the
    /// background, so that a later `read(_:into:)` finds them in the page cache.
    public func prefetch(_ range: Range<Int>) {
        guard descriptor >= 0, !range.isEmpty else { return }
        posix_fadvise(descriptor, off_t(range.lowerBound), off_t(range.count), POSIX_FADV_WILLNEED)
    }

    /// Tells the system the file will be read front to back (more read-ahead, earlier reclaim).
    public func adviseSequential() {
        guard copy == nil, let base = bytes.baseAddress else { return }
        madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_SEQUENTIAL)
        posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
    }

    /// Drops the pages holding `range` (byte offsets, widened to whole pages) from this process's
    /// memory. The bytes stay readable: touching them again pages them back in from the file (or
    /// the page cache), so this bounds resident memory while streaming through a large file.
    public func release(_ range: Range<Int>) {
        // A copy in memory is not backed by a file: dropping its pages would zero them.
        guard copy == nil, let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Self.pageSize
        let start = (Int(bitPattern: base) + range.lowerBound) / page * page
        let end = min(Int(bitPattern: base) + range.upperBound, Int(bitPattern: base) + bytes.count)
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(address, end - start, MADV_DONTNEED)
    }

    /// Tells the system that the bytes `range` will not be read again: their pages leave the page
    /// cache (clean whole pages; the page cut by the range's start is included,
    /// down to `floor`, so a reader moving forward leaves nothing behind). For streams larger
    /// than memory.
    public func dropFromCache(_ range: Range<Int>, backTo floor: Int) {
        guard descriptor >= 0, !range.isEmpty else { return }
        let start = max(floor, range.lowerBound - Self.pageSize)
        posix_fadvise(descriptor, off_t(start), off_t(range.upperBound - start), POSIX_FADV_DONTNEED)
    }

    /// The system's memory page size in bytes.
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// How far before a released range `release(_:backTo:)` reaches.
    static let faultAroundMargin = 1 << 20

    /// Releases `range` and up to 1 MiB before it (not below `floor`), for a reader that moves
    /// forward through the file. Touching a page of a mapping also maps its neighbours (the
    /// kernel's fault-around, 64 KB by default), pages released a moment ago included; without
    /// the margin those would stay resident, and resident memory would grow with the file.
    func release(_ range: Range<Int>, backTo floor: Int) {
        release(max(floor, range.lowerBound - Self.faultAroundMargin)..<range.upperBound)
    }

    deinit {
        if copy == nil, let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
        if descriptor >= 0 { close(descriptor) }
    }
}

/// A file that could not be opened, read or written; `description` names the file.
public struct FileAccessError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public let path: String
    /// Why (the system's message, or a short phrase).
    public let reason: String
    /// Whether the file does not exist.
    public let isMissing: Bool

    /// An error with a reason phrase.
    public init(path: String, reason: String, isMissing: Bool = false) {
        self.path = path
        self.reason = reason
        self.isMissing = isMissing
    }

    /// An error from a failed system call's `errno`.
    public init(path: String, errno code: Int32) {
        self.init(path: path, reason: code == ENOENT ? "no such file" : String(cString: strerror(code)),
                  isMissing: code == ENOENT)
    }

    /// "PATH: reason".
    public var description: String { "\(path): \(reason)" }
}
