import Foundation

// MARK: - Public types

/// A decoded .npy array: its shape and its elements as Float32, in C (row-major) order.
///
/// `values.count` should equal the product of `shape` (1 for the scalar shape `[]`). The initializer
/// does not check this; `NPY.write(_:to:)` does, and `NPY.encode(_:)` requires it.
public struct NPYArray: Sendable, Equatable {
    /// The dimensions, outermost first: `[]` for a scalar, `[5]` for a vector, `[2, 3]` for 2 rows of 3.
    public var shape: [Int]
    /// The elements in C (row-major) order; `values.count` is the product of `shape`.
    public var values: [Float]

    /// Creates an array from a shape and its row-major elements, without validating them.
    ///
    /// - Parameters:
    ///   - shape: The dimensions, outermost first (`[]` for a scalar).
    ///   - values: The elements in C (row-major) order; there should be `shape.reduce(1, *)` of them.
    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// Reads and writes NumPy `.npy` files holding float16, float32 or float64 arrays.
///
/// Decoding accepts format versions 1.0, 2.0 and 3.0, either byte order, and converts every element to
/// Float32 (float64 rounds to nearest). Encoding always produces little-endian float32 exactly as
/// `np.save` does. `decodeArray(_:name:)` and `encode(_:)` for `RawArray` (NPY+RawArray.swift) keep
/// each file's own element type instead.
/// Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
public enum NPY {
    /// Decodes the bytes of a `.npy` file.
    ///
    /// The result has the file's shape (e.g. `[2, 3]`) and `shape.reduce(1, *)` values in C order.
    /// Bytes after the array data are ignored, as NumPy does.
    ///
    /// - Parameters:
    ///   - data: The complete file contents.
    ///   - name: A file path or label that prefixes every error message.
    /// - Throws: `NPYError` if the bytes are not a well-formed .npy file, the dtype is not
    ///   float16/32/64, the array is in Fortran order, or the data is truncated.
    public static func decode(_ data: Data, name: String) throws(NPYError) -> NPYArray {
        // `withUnsafeBytes` is rethrows (untyped), so carry the typed error out in a Result.
        try data.withUnsafeBytes { bytes in
            Result { () throws(NPYError) in try decode(bytes: bytes, name: name) }
        }.get()
    }

    /// Reads and decodes the `.npy` file at `url`.
    ///
    /// The result has the file's shape and `shape.reduce(1, *)` values in C order.
    ///
    /// - Parameters:
    ///   - url: A file URL; its path prefixes every error message.
    /// - Throws: `NPYError.fileNotFound` or `.unreadable` if the file cannot be read, otherwise
    ///   whatever `decode(_:name:)` throws.
    public static func read(contentsOf url: URL) throws(NPYError) -> NPYArray {
        try decode(readData(contentsOf: url), name: url.path)
    }

    /// The bytes of the file at `url`, or the error that says why it cannot be read.
    static func readData(contentsOf url: URL) throws(NPYError) -> Data {
        do {
            let file = try MappedFile(path: url.path)
            return withExtendedLifetime(file) { Data(file.bytes) }
        } catch {
            throw error.isMissing ? .fileNotFound(path: url.path) : .unreadable(path: url.path, reason: error.reason)
        }
    }

    /// Encodes an array as a version 1.0 `.npy` file of little-endian float32, byte-identical to
    /// `np.save` (version 2.0 only if the header would not fit in 65535 bytes).
    ///
    /// - Parameters:
    ///   - array: The array; `array.values.count` must equal the product of `array.shape`, every
    ///     dimension non-negative (a programmer error otherwise; `write(_:to:)` checks instead).
    /// - Returns: The complete file contents, with the data starting at a multiple of 64 bytes.
    public static func encode(_ array: NPYArray) -> Data {
        precondition(elementCount(of: array.shape) == array.values.count,
                     "NPY.encode: shape \(pythonTuple(array.shape)) does not match "
                     + "\(array.values.count) values")
        let header = makeHeader(shape: array.shape)
        var data = Data(count: header.count + array.values.count * 4)
        data.withUnsafeMutableBytes { out in
            out.copyBytes(from: header)
            array.values.withUnsafeBufferPointer { values in
                let body = UnsafeMutableRawBufferPointer(rebasing: out[header.count...])
                storeFloat32LittleEndian(values, into: body)
            }
        }
        return data
    }

    /// Writes an array to `url` as a little-endian float32 `.npy` file, atomically.
    ///
    /// The data goes to a temporary file in the same directory, is flushed to disk, then renamed onto
    /// `url`, so readers never see a half-written file; the temporary file is removed on failure.
    ///
    /// - Parameters:
    ///   - array: The array to write; its shape must be non-negative and match `values.count`.
    ///   - url: The destination file URL; an existing file is replaced.
    /// - Throws: `NPYError.negativeDimension`, `.sizeOverflow` or `.shapeMismatch` for an
    ///   inconsistent array, `.unwritable` if the file cannot be written.
    public static func write(_ array: NPYArray, to url: URL) throws(NPYError) {
        let path = url.path
        try validate(shape: array.shape, valueCount: array.values.count, name: path)
        do {
            try AtomicFile.write(encode(array), to: path)
        } catch {
            throw .unwritable(path: path, reason: error.reason)
        }
    }
}

/// Why a `.npy` file could not be read, decoded or written.
///
/// Every case carries the file path or label (`name`/`path`) plus the specifics, and `description` is a
/// full sentence starting with that name.
public enum NPYError: Error, CustomStringConvertible, Equatable {
    /// The section of a file that ended too early.
    public enum Part: String, Sendable {
        /// The 6-byte magic string `\x93NUMPY`.
        case magic = "magic string"
        /// The 2-byte format version.
        case version = "format version"
        /// The 2-byte (version 1.0) or 4-byte (2.0, 3.0) header length.
        case headerLength = "header length"
        /// The header dict.
        case header = "header"
        /// The array elements.
        case data = "array data"
    }

    /// No file exists at `path`.
    case fileNotFound(path: String)
    /// The file at `path` exists but could not be read (a directory, no permission, …).
    case unreadable(path: String, reason: String)
    /// The file at `path` could not be written.
    case unwritable(path: String, reason: String)
    /// The file ends inside `part`, which needs `expected` bytes but only `found` remain.
    case truncated(name: String, part: Part, expected: Int, found: Int)
    /// The file does not start with the `.npy` magic string.
    case badMagic(name: String)
    /// The format version is not 1.0, 2.0 or 3.0.
    case unsupportedVersion(name: String, major: Int, minor: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(name: String)
    /// The header is not a Python dict literal of the expected form; `reason` says where it fails.
    case malformedHeader(name: String, reason: String)
    /// The header dict lacks `key` (`descr`, `fortran_order` or `shape`).
    case missingKey(name: String, key: String)
    /// The dtype `descr` is not float16, float32 or float64 with a valid byte order.
    case unsupportedDtype(name: String, descr: String)
    /// The dtype `descr` has no `ElementType` (`decodeArray`): not float16/32/64, int8/16/32/64,
    /// uint8 or bool.
    case unsupportedElementType(name: String, descr: String)
    /// An integer array (labels) was expected, but the dtype `descr` is not `i1`–`i8` or `u1`–`u8`.
    case integerDtypeExpected(name: String, descr: String)
    /// The array is stored in Fortran (column-major) order.
    case fortranOrder(name: String)
    /// A dimension of `shape` is negative.
    case negativeDimension(name: String, shape: [Int])
    /// The element or byte count of `shape` does not fit in `Int`.
    case sizeOverflow(name: String, shape: [Int])
    /// `shape` implies a different number of elements than the `count` values supplied.
    case shapeMismatch(name: String, shape: [Int], count: Int)
    /// An integer element (at flat `index`, written in decimal as `value`) does not fit in `Int`.
    case integerOutOfRange(name: String, index: Int, value: String)

    /// A sentence starting with the file name that says what is wrong and, where possible, what to do.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .unreadable(let path, let reason):
            return "\(path): cannot read the file (\(reason))"
        case .unwritable(let path, let reason):
            return "\(path): cannot write the file (\(reason))"
        case .truncated(let name, let part, let expected, let found):
            return "\(name): the file is truncated: the \(part.rawValue) needs \(expected) bytes "
                + "but only \(found) are present"
        case .badMagic(let name):
            return "\(name): not a .npy file (it does not start with the magic string \\x93NUMPY)"
        case .unsupportedVersion(let name, let major, let minor):
            return "\(name): unsupported .npy format version \(major).\(minor) "
                + "(only 1.0, 2.0 and 3.0 are supported)"
        case .headerNotUTF8(let name):
            return "\(name): the .npy header is not valid UTF-8 text"
        case .malformedHeader(let name, let reason):
            return "\(name): malformed .npy header: \(reason)"
        case .missingKey(let name, let key):
            return "\(name): the .npy header has no '\(key)' entry"
        case .unsupportedDtype(let name, let descr):
            return "\(name): unsupported dtype '\(descr)' (only float16, float32 and float64 are supported)"
        case .unsupportedElementType(let name, let descr):
            return "\(name): unsupported dtype '\(descr)' (supported: float16, float32, float64, int8, "
                + "int16, int32, int64, uint8 and bool)"
        case .integerDtypeExpected(let name, let descr):
            return "\(name): dtype '\(descr)' is not an integer type; labels must be integers "
                + "(int8/16/32/64 or uint8/16/32/64), e.g. np.save(path, labels.astype(np.int64))"
        case .fortranOrder(let name):
            return "\(name): the array is stored in Fortran (column-major) order; the array must be "
                + "C-contiguous, so save it with np.save(path, np.ascontiguousarray(a))"
        case .negativeDimension(let name, let shape):
            return "\(name): invalid shape \(NPY.pythonTuple(shape)): dimensions must not be negative"
        case .sizeOverflow(let name, let shape):
            return "\(name): shape \(NPY.pythonTuple(shape)) has too many elements to address"
        case .shapeMismatch(let name, let shape, let count):
            let expected = NPY.elementCount(of: shape).map(String.init) ?? "?"
            return "\(name): shape \(NPY.pythonTuple(shape)) needs \(expected) values but has \(count)"
        case .integerOutOfRange(let name, let index, let value):
            return "\(name): element \(index) is \(value), out of range: integers (labels) must be at most \(Int.max)"
        }
    }
}

// MARK: - Decoding

/// An element type of a .npy file: what a dtype code decodes to, and its size in bytes.
protocol NPYElementKind {
    /// Bytes per element.
    var size: Int { get }
}

// Implementation details live inside `NPY` (not at file scope) so their short names cannot collide
// with declarations elsewhere in the module.
extension NPY {
    /// The float element types this codec reads as Float32.
    enum ElementKind: NPYElementKind {
        case float16, float32, float64

        var size: Int {
            switch self {
            case .float16: 2
            case .float32: 4
            case .float64: 8
            }
        }
    }

    /// The bytes every .npy file starts with, `\x93NUMPY`.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Constant-folded by the compiler; decides whether file bytes can be copied without swapping.
    static var hostIsLittleEndian: Bool { 1.littleEndian == 1 }

    private static func decode(bytes: UnsafeRawBufferPointer, name: String) throws(NPYError) -> NPYArray {
        let (header, data) = try split(bytes, name: name, kinds: floatKinds)
        let count = data.count / header.kind.size
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            convert(data, kind: header.kind, bigEndian: header.bigEndian, into: buffer)
            initialized = count
        }
        return NPYArray(shape: header.shape, values: values)
    }

    /// The dtype codes (after the byte-order mark) of the float kinds.
    static let floatKinds: [String: ElementKind] = ["f2": .float16, "f4": .float32, "f8": .float64]

    /// The validated header of a file and the bytes of its array, for a dtype found in `kinds`.
    static func split<Kind: NPYElementKind>(
        _ bytes: UnsafeRawBufferPointer, name: String, kinds: [String: Kind]
    ) throws(NPYError) -> (header: Header<Kind>, data: UnsafeRawBufferPointer) {
        var cursor = 0
        /// Consumes `count` bytes belonging to `part`, or throws if fewer remain.
        func take(_ count: Int, _ part: NPYError.Part) throws(NPYError) -> UnsafeRawBufferPointer {
            let available = bytes.count - cursor
            guard count <= available else {
                throw .truncated(name: name, part: part, expected: count, found: available)
            }
            defer { cursor += count }
            return UnsafeRawBufferPointer(rebasing: bytes[cursor..<cursor + count])
        }

        // A short file that is a prefix of the magic string is truncated; anything else is not .npy.
        let available = min(bytes.count, magic.count)
        guard bytes.prefix(available).elementsEqual(magic.prefix(available)) else {
            throw .badMagic(name: name)
        }
        _ = try take(magic.count, .magic)

        let version = try take(2, .version)
        let lengthSize: Int
        switch (version[0], version[1]) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw .unsupportedVersion(name: name, major: Int(version[0]), minor: Int(version[1]))
        }
        let headerLength = try take(lengthSize, .headerLength).reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = try parseHeader(Array(try take(headerLength, .header)), name: name, kinds: kinds)

        guard let count = elementCount(of: header.shape),
              case (let byteCount, false) = count.multipliedReportingOverflow(by: header.kind.size) else {
            throw .sizeOverflow(name: name, shape: header.shape)
        }
        return (header, try take(byteCount, .data))
    }

    /// Converts `destination.count` elements stored in `source` to Float32.
    static func convert(_ source: UnsafeRawBufferPointer, kind: ElementKind, bigEndian: Bool,
                                into destination: UnsafeMutableBufferPointer<Float>) {
        switch kind {
        case .float32 where bigEndian != hostIsLittleEndian:
            // Same layout as Float in memory: one bulk copy, no per-element work.
            UnsafeMutableRawBufferPointer(destination).copyMemory(from: source)
        case .float32:
            convertElements(source, bigEndian: bigEndian, into: destination) {
                Float(bitPattern: $0 as UInt32)
            }
        case .float64:
            convertElements(source, bigEndian: bigEndian, into: destination) {
                Float(Double(bitPattern: $0 as UInt64))
            }
        case .float16:
            convertElements(source, bigEndian: bigEndian, into: destination) { Float(float16Bits: $0) }
        }
    }

    /// Loads each element's bits in the file's byte order and converts them with `transform`.
    ///
    /// Loads are unaligned because a hand-written header need not leave the data aligned.
    @inline(__always)
    private static func convertElements<Bits: FixedWidthInteger>(
        _ source: UnsafeRawBufferPointer, bigEndian: Bool,
        into destination: UnsafeMutableBufferPointer<Float>,
        _ transform: (Bits) -> Float
    ) {
        let stride = MemoryLayout<Bits>.size
        // Two loops so the byte-order test is not inside the hot loop.
        if bigEndian {
            for i in destination.indices {
                let bits = source.loadUnaligned(fromByteOffset: i * stride, as: Bits.self)
                destination[i] = transform(Bits(bigEndian: bits))
            }
        } else {
            for i in destination.indices {
                let bits = source.loadUnaligned(fromByteOffset: i * stride, as: Bits.self)
                destination[i] = transform(Bits(littleEndian: bits))
            }
        }
    }
}

// MARK: - Header parsing

extension NPY {
    /// The validated contents of a header dict.
    struct Header<Kind> {
        var kind: Kind
        var bigEndian: Bool
        var shape: [Int]
    }

    /// The subset of Python literals that can appear in a .npy header dict.
    fileprivate indirect enum PyValue {
        case string(String)
        case int(Int)
        case bool(Bool)
        case tuple([PyValue])
        case list([PyValue])
    }

    private static func parseHeader<Kind>(
        _ bytes: [UInt8], name: String, kinds: [String: Kind]
    ) throws(NPYError) -> Header<Kind> {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .headerNotUTF8(name: name) }
        var parser = LiteralParser(bytes: bytes)
        let entries: [String: (value: PyValue, source: String)]
        do {
            entries = try parser.parseHeaderDict()
        } catch {
            throw .malformedHeader(name: name, reason: error.reason)
        }
        func entry(_ key: String) throws(NPYError) -> (value: PyValue, source: String) {
            guard let entry = entries[key] else { throw .missingKey(name: name, key: key) }
            return entry
        }

        let descr = try entry("descr")
        guard case .string(let descrText) = descr.value else {
            throw .unsupportedDtype(name: name, descr: descr.source)  // e.g. a structured dtype's list
        }
        guard let (kind, bigEndian) = parseDescr(descrText, kinds: kinds) else {
            throw .unsupportedDtype(name: name, descr: descrText)
        }

        let order = try entry("fortran_order")
        guard case .bool(let fortranOrder) = order.value else {
            let reason = "'fortran_order' is \(order.source), not True or False"
            throw .malformedHeader(name: name, reason: reason)
        }
        guard !fortranOrder else { throw .fortranOrder(name: name) }

        let shapeEntry = try entry("shape")
        guard case .tuple(let items) = shapeEntry.value else {
            throw .malformedHeader(name: name, reason: "'shape' is \(shapeEntry.source), not a tuple")
        }
        var shape: [Int] = []
        for item in items {
            guard case .int(let dim) = item else {
                let reason = "'shape' \(shapeEntry.source) contains a non-integer"
                throw .malformedHeader(name: name, reason: reason)
            }
            shape.append(dim)
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .negativeDimension(name: name, shape: shape) }

        let unexpected = entries.keys.filter { !["descr", "fortran_order", "shape"].contains($0) }.sorted()
        guard unexpected.isEmpty else {
            throw .malformedHeader(name: name, reason: "unexpected key "
                + unexpected.map { "'\($0)'" }.joined(separator: ", "))
        }
        return Header(kind: kind, bigEndian: bigEndian, shape: shape)
    }

    /// Parses a dtype string such as `<f4`; returns nil for a code (after the byte-order mark) that
    /// is not in `kinds`.
    private static func parseDescr<Kind>(_ descr: String, kinds: [String: Kind]) -> (Kind, bigEndian: Bool)? {
        var code = Substring(descr)
        var bigEndian = !hostIsLittleEndian  // no byte-order mark means native, like '='
        switch code.first {
        case "<": bigEndian = false; code = code.dropFirst()
        case ">": bigEndian = true; code = code.dropFirst()
        case "=": code = code.dropFirst()
        default: break  // '|' ("not applicable") stays in the code: only 1-byte kinds list it
        }
        return kinds[String(code)].map { ($0, bigEndian) }
    }
}

extension NPY {
    /// A recursive-descent parser for the Python literal subset NumPy writes with `repr`.
    ///
    /// It works on bytes and never indexes past the end; nesting is capped so hostile input cannot
    /// exhaust the stack.
    fileprivate struct LiteralParser: ByteScanning {
        typealias Failure = ScanFailure

        private static let maxDepth = 32

        let bytes: [UInt8]
        var position = 0
        private var depth = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// Parses `{key: value, ...}` followed only by whitespace (NumPy pads with spaces and a newline).
        mutating func parseHeaderDict() throws(Failure) -> [String: (value: PyValue, source: String)] {
            skipWhitespace()
            guard peek() == UInt8(ascii: "{") else { throw fail("the header is not a Python dict literal") }
            position += 1
            var entries: [String: (value: PyValue, source: String)] = [:]
            while true {
                skipWhitespace()
                if peek() == UInt8(ascii: "}") { position += 1; break }
                let keyStart = position
                guard case .string(let key) = try parseValue() else {
                    position = keyStart
                    throw fail("dict keys must be strings")
                }
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                let start = position
                let value = try parseValue()
                // Python keeps the last of repeated keys; a reader that kept the first would see
                // another array, so a header np.save never writes is refused.
                guard entries.updateValue((value, String(decoding: bytes[start..<position], as: UTF8.self)),
                                          forKey: key) == nil else {
                    position = keyStart
                    throw fail("the key '\(key)' appears more than once")
                }
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect("}")
                break
            }
            skipWhitespace()
            guard position == bytes.count else { throw fail("unexpected text after the dict") }
            return entries
        }

        private mutating func parseValue() throws(Failure) -> PyValue {
            guard let byte = peek() else { throw fail("the header ends in the middle of the dict") }
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return .string(try parseString(quote: byte))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .int(try parseInt())
            case UInt8(ascii: "("):
                return try parseSequence(closing: ")")
            case UInt8(ascii: "["):
                return try parseSequence(closing: "]")
            default:
                for (word, value) in [("True", true), ("False", false)]
                where bytes[position...].starts(with: word.utf8) {
                    position += word.utf8.count
                    return .bool(value)
                }
                throw fail("unexpected value")
            }
        }

        /// Parses a quoted string. Only `\\`, `\'` and `\"` are unescaped: NumPy's own dtype strings never
        /// contain backslashes, and any other escape is kept verbatim, as Python keeps unknown escapes.
        private mutating func parseString(quote: UInt8) throws(Failure) -> String {
            let start = position
            position += 1
            var content: [UInt8] = []
            while let byte = peek() {
                position += 1
                if byte == quote { return String(decoding: content, as: UTF8.self) }
                if byte == UInt8(ascii: "\\"), let escaped = peek(),
                   [UInt8(ascii: "'"), UInt8(ascii: "\""), byte].contains(escaped) {
                    position += 1
                    content.append(escaped)
                } else {
                    content.append(byte)
                }
            }
            position = start
            throw fail("unterminated string")
        }

        private mutating func parseInt() throws(Failure) -> Int {
            let start = position
            let negative = peek() == UInt8(ascii: "-")
            if negative { position += 1 }
            var value = 0
            var digits = 0
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else {
                    position = start
                    throw fail("integer too large for 64 bits")
                }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else {
                position = start
                throw fail("expected digits")
            }
            return negative ? -value : value
        }

        /// Parses `(...)` or `[...]`; like Python, `(x)` is just `x`, while `(x,)` and `()` are tuples.
        private mutating func parseSequence(closing: Unicode.Scalar) throws(Failure) -> PyValue {
            guard depth < Self.maxDepth else { throw fail("nested too deeply") }
            depth += 1
            defer { depth -= 1 }
            position += 1
            var items: [PyValue] = []
            var sawComma = false
            while true {
                skipWhitespace()
                if peek() == UInt8(ascii: closing) { position += 1; break }
                items.append(try parseValue())
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { position += 1; sawComma = true; continue }
                try expect(closing)
                break
            }
            if closing == "]" { return .list(items) }
            return items.count == 1 && !sawComma ? items[0] : .tuple(items)
        }

    }
}

// MARK: - Encoding

extension NPY {
    /// The magic, version, length and header dict, padded exactly as `np.save` pads them.
    static func makeHeader(shape: [Int], descr: String = "<f4") -> [UInt8] {
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(pythonTuple(shape)), }"
        // NumPy reserves room to grow the first axis in place: 21 digits minus those already used.
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        // The data must start at a multiple of 64; NumPy always adds 1...64 bytes of padding.
        let text = Array(dict.utf8)
        for lengthSize in [2, 4] {
            let unpadded = magic.count + 2 + lengthSize + text.count + 1  // + 1 for the final '\n'
            let padding = 64 - unpadded % 64
            let headerLength = text.count + padding + 1
            guard lengthSize == 4 || headerLength <= Int(UInt16.max) else { continue }
            let major: UInt8 = lengthSize == 2 ? 1 : 2
            let lengthBytes = (0..<lengthSize).map { UInt8(truncatingIfNeeded: headerLength >> (8 * $0)) }
            return magic + [major, 0] + lengthBytes + text + Array(repeating: 0x20, count: padding) + [0x0A]
        }
        preconditionFailure("unreachable: a 4-byte header length always fits")
    }

    /// Stores floats as little-endian float32 bytes; `destination` holds exactly `4 * values.count` bytes.
    private static func storeFloat32LittleEndian(_ values: UnsafeBufferPointer<Float>,
                                                 into destination: UnsafeMutableRawBufferPointer) {
        if hostIsLittleEndian {
            destination.copyMemory(from: UnsafeRawBufferPointer(values))
        } else {
            for (i, value) in values.enumerated() {
                let bits = value.bitPattern.littleEndian
                destination.storeBytes(of: bits, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
    }

    /// Throws unless `shape` is non-negative, addressable, and has exactly `valueCount` elements.
    private static func validate(shape: [Int], valueCount: Int, name: String) throws(NPYError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .negativeDimension(name: name, shape: shape) }
        guard let count = elementCount(of: shape),
              !count.multipliedReportingOverflow(by: 4).overflow else {
            throw .sizeOverflow(name: name, shape: shape)
        }
        guard count == valueCount else { throw .shapeMismatch(name: name, shape: shape, count: valueCount) }
    }
}

// MARK: - Helpers

extension NPY {
    /// The product of `shape`, or nil if a dimension is negative or the product overflows `Int`.
    fileprivate static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Formats a shape the way Python's `repr` formats a tuple: `()`, `(5,)`, `(2, 3)`.
    fileprivate static func pythonTuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}
