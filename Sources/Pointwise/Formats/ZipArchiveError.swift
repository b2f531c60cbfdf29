/// Why a ZIP archive (an .npz file) could not be read.
///
/// Every case carries the archive's path and, where one is to blame, the member's name; the
/// `description` starts with the path.
public enum ZipArchiveError: Error, CustomStringConvertible, Equatable {
    /// No end-of-central-directory record: not a ZIP archive, or a truncated one.
    case notAnArchive(path: String)
    /// The archive's structure is damaged; `member` is nil when the central directory itself is.
    case corrupt(path: String, member: String?, reason: String)
    /// A member is compressed with a method other than stored (0) or deflate (8).
    case unsupportedCompression(path: String, member: String, method: Int)
    /// A member is encrypted.
    case encrypted(path: String, member: String)
    /// A member claims a size its compressed bytes cannot produce (deflate expands at most
    /// 1032-fold; stored members keep their size): a zip bomb, or a lying header.
    case implausibleSize(path: String, member: String, declared: UInt64, compressed: UInt64)
    /// A member inflates to a different number of bytes than its header declares.
    case sizeMismatch(path: String, member: String, declared: Int)
    /// A member's CRC-32 differs from the one its header records.
    case checksumMismatch(path: String, member: String, recorded: UInt32, computed: UInt32)
    /// Two members share bytes (the overlapping-file zip bomb).
    case overlap(path: String, member: String, other: String)

    /// A sentence starting with the archive's path that says what is wrong.
    public var description: String {
        switch self {
        case .notAnArchive(let path):
            return "\(path): not a ZIP archive (no end-of-central-directory record; "
                + "the file may be truncated)"
        case .corrupt(let path, let member?, let reason):
            return "\(path): member '\(member)' is corrupt: \(reason)"
        case .corrupt(let path, nil, let reason):
            return "\(path): the ZIP central directory is corrupt: \(reason)"
        case .unsupportedCompression(let path, let member, let method):
            return "\(path): member '\(member)' uses compression method \(method); "
                + "only stored (0) and deflate (8) are supported"
        case .encrypted(let path, let member):
            return "\(path): member '\(member)' is encrypted"
        case .implausibleSize(let path, let member, let declared, let compressed):
            return "\(path): member '\(member)' claims \(declared) bytes from \(compressed) compressed "
                + "bytes, which its compression method cannot produce (a zip bomb, or a corrupt header)"
        case .sizeMismatch(let path, let member, let declared):
            return "\(path): member '\(member)' does not inflate to the \(declared) bytes its header declares"
        case .checksumMismatch(let path, let member, let recorded, let computed):
            return "\(path): member '\(member)' has CRC-32 \(hex(computed)) but its header records "
                + hex(recorded)
        case .overlap(let path, let member, let other):
            return "\(path): members '\(other)' and '\(member)' share bytes (an overlapping-file zip bomb)"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
