import Foundation

extension AtomicFile {
    /// Where the bytes written for a path really go.
    ///
    /// - A path that does not exist yet, or names a regular file, is a `.file`: the output is
    ///   written beside it and renamed onto it. A symbolic link is followed: the file renamed
    ///   onto is the link's target, and the link stays in place.
    /// - A character or block device, a FIFO or a pipe (`/dev/null`, `/dev/stdout`) is a
    ///   `.stream`: it cannot be renamed onto, so the output is staged in an unlinked temporary
    ///   file and copied to it, front to back, once complete.
    public enum Destination: Equatable, Sendable {
        /// A regular file (or one to create) at this path, symbolic links resolved.
        case file(String)
        /// A device, FIFO or pipe, opened through this path for writing.
        case stream(String)
    }

    /// How many symbolic links `destination(for:)` follows before giving up (Linux's `MAXSYMLINKS`).
    static let symbolicLinkLimit = 40

    /// Where output written to `path` goes; also the check, before any work, that it can go there.
    /// - Throws: `FileAccessError` naming `path` when it is a folder or a socket, a device or FIFO
    ///   it may not write, when its folder is missing, not a folder or not writable, or when its
    ///   symbolic links do not end.
    public static func destination(for path: String) throws(FileAccessError) -> Destination {
        var status = stat()
        if stat(path, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFREG:
                let file = try regularFile(path)
                try checkFolder(of: file, for: path)
                return .file(file)
            case S_IFDIR: throw FileAccessError(path: path, reason: "is a folder; give a file name")
            case S_IFSOCK: throw FileAccessError(path: path, reason: "is a socket; give a file, a FIFO or a device")
            default:
                guard access(path, W_OK) == 0 else { throw FileAccessError(path: path, errno: errno) }
                return .stream(path)
            }
        }
        guard errno == ENOENT else { throw FileAccessError(path: path, errno: errno) }
        // Missing, or a link to nothing yet: the file is created where the links end.
        var current = path
        for _ in 0...symbolicLinkLimit {
            guard lstat(current, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK else {
                try checkFolder(of: current, for: path)
                return .file(current)
            }
            current = try linkTarget(of: current, for: path)
        }
        throw FileAccessError(path: path, reason: "too many levels of symbolic links")
    }

    /// Whether `a` and `b` name the same regular file, or the same file still to be created:
    /// the same device and inode when both exist, otherwise the same resolved path (symbolic
    /// links and `..` followed). Devices, FIFOs and pipes are never the same (writing one twice,
    /// or discarding two outputs into `/dev/null`, is what was asked for).
    public static func isSameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        let firstExists = stat(a, &first) == 0, secondExists = stat(b, &second) == 0
        if firstExists || secondExists {
            return firstExists && secondExists && (first.st_mode & S_IFMT) == S_IFREG
                && first.st_dev == second.st_dev && first.st_ino == second.st_ino
        }
        guard case .file(let resolvedA)? = try? destination(for: a),
              case .file(let resolvedB)? = try? destination(for: b) else { return false }
        return canonicalPath(resolvedA) == canonicalPath(resolvedB)
    }

    // MARK: - Resolving

    /// The existing regular file at `path`: `path` itself, or the file its symbolic links end at.
    private static func regularFile(_ path: String) throws(FileAccessError) -> String {
        var status = stat()
        guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK else { return path }
        guard let resolved = realpath(path, nil) else { throw FileAccessError(path: path, errno: errno) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The path a symbolic link points to, relative to the link's folder when not absolute.
    private static func linkTarget(of link: String, for path: String) throws(FileAccessError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(link, &buffer, buffer.count - 1)
        guard count >= 0 else { throw FileAccessError(path: path, errno: errno) }
        let target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let folder = (link as NSString).deletingLastPathComponent
        return target.hasPrefix("/") || folder.isEmpty ? target : (folder as NSString).appendingPathComponent(target)
    }

    /// Checks that the folder `file` goes into exists, is a folder and can be written in.
    static func checkFolder(of file: String, for path: String) throws(FileAccessError) {
        let folder = folder(of: file)
        var status = stat()
        guard stat(folder, &status) == 0 else {
            throw FileAccessError(path: path, reason: "its folder \(folder) does not exist", isMissing: true)
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw FileAccessError(path: path, reason: "\(folder) is not a folder")
        }
        guard access(folder, W_OK) == 0 else {
            throw FileAccessError(path: path, reason: "cannot write in the folder \(folder)")
        }
    }

    /// The folder holding `path` (`.` for a bare name).
    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// `path` with its folder's symbolic links and `..` resolved (the folder must exist).
    private static func canonicalPath(_ path: String) -> String {
        guard let folder = realpath(folder(of: path), nil) else { return path }
        defer { free(folder) }
        return String(cString: folder) + "/" + (path as NSString).lastPathComponent
    }
}
