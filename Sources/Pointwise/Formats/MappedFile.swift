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

    /// Maps the file at `path`.
    /// - Throws: `FileAccessError` when the file is missing, unreadable or not a regular file.
    public init(path: String) throws(FileAccessError) {
        self.path = path
        copy = nil
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileAccessError(path: path, errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileAccessError(path: path, errno: errno) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw FileAccessError(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw FileAccessError(path: path, errno: errno)
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// A copy of `data` standing in for a file, so that bytes that never touched the disk (a
    /// download, a fuzzer's input) go through the same reader; `path` labels the errors.
    init(copying data: Data, path: String) {
        self.path = path
        let copy = OwnedBytes(copying: data)
        self.copy = copy
        bytes = copy.bytes
    }

    /// Tells the system the file will be read front to back (more read-ahead, earlier reclaim).
    public func adviseSequential() {
        guard copy == nil, let base = bytes.baseAddress else { return }
        madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_SEQUENTIAL)
    }

    /// Drops the pages holding `range` (byte offsets, widened to whole pages) from this process's
    /// memory. The bytes stay readable: touching them again pages them back in from the file (or
    /// the page cache), so this bounds resident memory while streaming through a large file.
    public func release(_ range: Range<Int>) {
        // A copy in memory is not backed by a file: dropping its pages would zero them.
        guard copy == nil, let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + range.lowerBound) / page * page
        let end = min(Int(bitPattern: base) + range.upperBound, Int(bitPattern: base) + bytes.count)
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(address, end - start, MADV_DONTNEED)
    }

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
