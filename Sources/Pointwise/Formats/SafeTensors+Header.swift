// MARK: - Header schema

extension SafeTensorsFile {
    /// One tensor as the header describes it, validated against the data buffer.
    struct Entry: Sendable {
        var name: String
        var elementType: ElementType
        var shape: [Int]
        /// The tensor's bytes, relative to the start of the data buffer.
        var range: Range<Int>
    }

    /// The most header bytes the reference implementation reads (its `MAX_HEADER_SIZE`).
    static let maxHeaderLength: UInt64 = 100_000_000

    /// Parses and validates a header: every entry's dtype, shape and offsets, then that the
    /// entries tile the `bufferSize`-byte data buffer exactly.
    ///
    /// - Returns: The entries in data-offset order, and the metadata.
    static func parseHeader(_ header: UnsafeRawBufferPointer, bufferSize: Int, path: String)
        throws(SafeTensorsError) -> (entries: [Entry], metadata: [String: String]) {
        guard header.first == UInt8(ascii: "{") else { throw .headerNotObject(path: path) }
        guard String(validating: header, as: UTF8.self) != nil else { throw .headerNotUTF8(path: path) }
        var parser = JSONParser(bytes: header)
        let document: JSONValue
        do {
            document = try parser.parseDocument()
        } catch {
            throw .malformedHeader(path: path, reason: error.reason)
        }
        guard case .object(let members) = document else { throw .headerNotObject(path: path) }

        var seen = Set<String>()
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for member in members {
            guard seen.insert(member.key).inserted else { throw .duplicateName(path: path, name: member.key) }
            if member.key == "__metadata__" {
                metadata = try parseMetadata(member.value, path: path)
            } else {
                entries.append(try parseEntry(member, bufferSize: bufferSize, path: path))
            }
        }
        // Zero-size tensors can tie on offsets; header order breaks ties, so writing the tensors
        // back in this order reproduces the header.
        let sorted = entries.enumerated().sorted {
            ($0.element.range.lowerBound, $0.element.range.upperBound, $0.offset)
                < ($1.element.range.lowerBound, $1.element.range.upperBound, $1.offset)
        }.map(\.element)
        try checkTiling(sorted, bufferSize: bufferSize, path: path)
        return (sorted, metadata)
    }

    private static func parseMetadata(_ value: JSONValue,
                                      path: String) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let members) = value else {
            throw .malformedHeader(path: path, reason: "'__metadata__' is not an object")
        }
        var metadata: [String: String] = [:]
        for member in members {
            guard case .string(let text) = member.value else {
                throw .malformedHeader(path: path, reason: "metadata '\(member.key)' is not a string")
            }
            guard metadata.updateValue(text, forKey: member.key) == nil else {
                throw .malformedHeader(path: path, reason: "metadata '\(member.key)' appears more than once")
            }
        }
        return metadata
    }

    private static func parseEntry(_ member: JSONMember, bufferSize: Int,
                                   path: String) throws(SafeTensorsError) -> Entry {
        let name = member.key
        /// A malformed-header error about this tensor.
        func malformed(_ problem: String) -> SafeTensorsError {
            .malformedHeader(path: path, reason: "tensor '\(name)' \(problem)")
        }
        guard case .object(let fields) = member.value else { throw malformed("is not an object") }
        var values: [String: JSONValue] = [:]
        for field in fields {
            // Unknown keys are ignored, as the reference implementation ignores them.
            guard values.updateValue(field.value, forKey: field.key) == nil else {
                throw malformed("has '\(field.key)' more than once")
            }
        }

        guard case .string(let dtype)? = values["dtype"] else { throw malformed("has no string 'dtype'") }
        guard let elementType = ElementType(rawValue: dtype) else {
            throw .unsupportedDtype(path: path, tensor: name, dtype: dtype)
        }
        guard case .array(let dimensions)? = values["shape"] else { throw malformed("has no array 'shape'") }
        let shape = try integers(dimensions, field: "shape", malformed: malformed)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .negativeDimension(path: path, tensor: name, shape: shape)
        }
        guard let byteCount = elementType.byteCount(shape: shape) else {
            throw .sizeOverflow(path: path, tensor: name, shape: shape)
        }

        guard case .array(let offsetValues)? = values["data_offsets"], offsetValues.count == 2 else {
            throw malformed("has no 'data_offsets' pair [begin, end]")
        }
        let offsets = try integers(offsetValues, field: "data_offsets", malformed: malformed)
        let (begin, end) = (offsets[0], offsets[1])
        guard 0 <= begin, begin <= end, end <= bufferSize else {
            throw .offsetsOutOfBounds(path: path, tensor: name, begin: begin, end: end,
                                      bufferSize: bufferSize)
        }
        guard end - begin == byteCount else {
            throw .sizeMismatch(path: path, tensor: name, elementType: elementType, shape: shape,
                                begin: begin, end: end)
        }
        return Entry(name: name, elementType: elementType, shape: shape, range: begin..<end)
    }

    /// The values of a JSON array of integers that fit in `Int`.
    private static func integers(_ values: [JSONValue], field: String,
                                 malformed: (String) -> SafeTensorsError) throws(SafeTensorsError) -> [Int] {
        var result: [Int] = []
        for value in values {
            guard case .number(let text, let integer) = value else {
                throw malformed("has a non-number in '\(field)'")
            }
            guard let integer else {
                throw malformed("has '\(field)' value \(text), not an integer that fits in 64 bits")
            }
            result.append(integer)
        }
        return result
    }

    /// Throws unless `entries` (sorted by offset) cover the data buffer with no overlaps and no
    /// holes, as the reference implementation requires.
    private static func checkTiling(_ entries: [Entry], bufferSize: Int,
                                    path: String) throws(SafeTensorsError) {
        var covered = 0
        var previous: String?
        for entry in entries {
            if entry.range.lowerBound < covered, let previous {
                throw .overlap(path: path, tensor: entry.name, other: previous)
            }
            if entry.range.lowerBound > covered {
                throw .hole(path: path, begin: covered, end: entry.range.lowerBound)
            }
            covered = entry.range.upperBound
            previous = entry.name
        }
        guard covered == bufferSize else { throw .hole(path: path, begin: covered, end: bufferSize) }
    }
}
