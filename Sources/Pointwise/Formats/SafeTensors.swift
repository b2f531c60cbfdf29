import Foundation

/// A safetensors file, memory-mapped and validated, whose tensors are views into the mapping.
///
/// Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
/// `N`, `N` bytes of JSON mapping each tensor name to `{"dtype", "shape", "data_offsets"}` (plus
/// an optional `"__metadata__"` object of strings), then the data buffer, which the tensors'
/// `[begin, end)` offsets must tile exactly. Everything is checked when the file is opened, so
/// reading a tensor afterwards cannot fail except for an unknown name, and costs no copy.
public final class SafeTensorsFile: Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The tensor names in the order of their bytes in the file.
    public let names: [String]
    /// The header's `__metadata__` (empty when absent).
    public let metadata: [String: String]

    /// The mapping the arrays borrow.
    let file: MappedFile
    /// Where the data buffer starts in the file.
    private let dataStart: Int
    private let entries: [String: Entry]

    /// Maps and validates the file at `path`.
    ///
    /// - Throws: `SafeTensorsError` naming the file and the problem: unreadable, truncated, a
    ///   header that is too large, not UTF-8 or not JSON, duplicate names, an unsupported dtype,
    ///   a negative or overflowing shape, offsets outside the buffer or of the wrong size, or
    ///   tensors that overlap or leave holes.
    public convenience init(path: String) throws(SafeTensorsError) {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw .fileAccess(error)
        }
        try self.init(file: file)
    }

    /// Validates a safetensors file held in memory; the tensors borrow a copy of it.
    ///
    /// - Parameters:
    ///   - data: The complete file.
    ///   - name: A file path or label: the instance's `path`, and the start of every error message.
    /// - Throws: `SafeTensorsError`, as for `init(path:)` (never `.fileAccess`).
    public convenience init(data: Data, name: String) throws(SafeTensorsError) {
        try self.init(file: MappedFile(copying: data, path: name))
    }

    /// Validates the bytes of `file`, labelled with its path.
    private init(file: MappedFile) throws(SafeTensorsError) {
        self.file = file
        let path = file.path
        self.path = path
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw .tooShort(path: path, size: bytes.count) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= Self.maxHeaderLength else {
            throw .headerTooLarge(path: path, length: headerLength)
        }
        // Below 100 MB the length fits in Int and `8 + length` cannot overflow.
        dataStart = 8 + Int(headerLength)
        guard dataStart <= bytes.count else {
            throw .headerBeyondFile(path: path, length: headerLength, fileSize: bytes.count)
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let bufferSize = bytes.count - dataStart
        let (entries, metadata) = try Self.parseHeader(header, bufferSize: bufferSize, path: path)
        self.names = entries.map(\.name)
        self.metadata = metadata
        self.entries = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
    }

    /// The tensor called `name`, borrowing the file's memory (no copy).
    ///
    /// - Throws: `SafeTensorsError.tensorNotFound` if the file has no such tensor.
    public func array(named name: String) throws(SafeTensorsError) -> RawArray {
        guard let array = self[name] else { throw .tensorNotFound(path: path, name: name) }
        return array
    }

    /// The tensor called `name`, borrowing the file's memory, or nil if there is none.
    public subscript(name: String) -> RawArray? {
        guard let entry = entries[name] else { return nil }
        let range = (dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)
        return RawArray(elementType: entry.elementType, shape: entry.shape,
                        bytes: UnsafeRawBufferPointer(rebasing: file.bytes[range]), owner: file)
    }

    /// Every tensor, in the order of `names`.
    public var arrays: [(name: String, array: RawArray)] {
        names.compactMap { name in self[name].map { (name, $0) } }
    }
}
