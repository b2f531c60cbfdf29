import Foundation

/// A decoded .npy array of integers, such as class labels: its shape and its elements in C order.
public struct NPYIntegers: Sendable, Equatable {
    /// The dimensions, outermost first (`[N, H, W]` for per-pixel labels, `[P]` for a list).
    public var shape: [Int]
    /// The elements in C (row-major) order.
    public var values: [Int]

    /// An array from a shape and its row-major elements, without validating them.
    public init(shape: [Int], values: [Int]) {
        self.shape = shape
        self.values = values
    }
}

extension NPY {
    /// The integer element types read as `Int`: signed and unsigned, 1 to 8 bytes.
    enum IntegerKind: NPYElementKind {
        case int8, int16, int32, int64, uint8, uint16, uint32, uint64

        var size: Int {
            switch self {
            case .int8, .uint8: 1
            case .int16, .uint16: 2
            case .int32, .uint32: 4
            case .int64, .uint64: 8
            }
        }
    }

    /// Dtype codes after the byte-order mark; 1-byte types may carry NumPy's `|` ("not applicable").
    private static let integerKinds: [String: IntegerKind] = [
        "i1": .int8, "|i1": .int8, "u1": .uint8, "|u1": .uint8, "i2": .int16, "u2": .uint16,
        "i4": .int32, "u4": .uint32, "i8": .int64, "u8": .uint64,
    ]

    /// Decodes the bytes of a `.npy` file of integers (`i1`, `i2`, `i4`, `i8`, `u1`, `u2`, `u4`,
    /// `u8`, either byte order), as `np.save(path, labels.astype(np.int64))` writes them.
    /// - Parameters:
    ///   - data: The complete file contents.
    ///   - name: A file path or label that prefixes every error message.
    /// - Throws: `NPYError.integerDtypeExpected` for float or other dtypes; otherwise the errors of
    ///   `decode(_:name:)`. A `u8` value above `Int.max` is `integerOutOfRange`.
    public static func decodeIntegers(_ data: Data, name: String) throws(NPYError) -> NPYIntegers {
        try data.withUnsafeBytes { bytes in
            Result { () throws(NPYError) in try decodeIntegers(bytes: bytes, name: name) }
        }.get()
    }

    private static func decodeIntegers(bytes: UnsafeRawBufferPointer, name: String) throws(NPYError) -> NPYIntegers {
        let (header, data): (Header<IntegerKind>, UnsafeRawBufferPointer)
        do {
            (header, data) = try split(bytes, name: name, kinds: integerKinds)
        } catch .unsupportedDtype(let name, let descr) {
            throw .integerDtypeExpected(name: name, descr: descr)
        }
        let values = try integers(data, kind: header.kind, bigEndian: header.bigEndian, name: name, shape: header.shape)
        return NPYIntegers(shape: header.shape, values: values)
    }

    /// Reads and decodes the `.npy` file of integers at `url`.
    /// - Throws: `NPYError.fileNotFound` or `.unreadable` if the file cannot be read, otherwise
    ///   whatever `decodeIntegers(_:name:)` throws.
    public static func readIntegers(contentsOf url: URL) throws(NPYError) -> NPYIntegers {
        try decodeIntegers(readData(contentsOf: url), name: url.path)
    }

    private static func integers(
        _ data: UnsafeRawBufferPointer, kind: IntegerKind, bigEndian: Bool, name: String, shape: [Int]
    ) throws(NPYError) -> [Int] {
        switch kind {
        case .int8: return load(data, as: Int8.self, bigEndian: bigEndian).map(Int.init)
        case .int16: return load(data, as: Int16.self, bigEndian: bigEndian).map(Int.init)
        case .int32: return load(data, as: Int32.self, bigEndian: bigEndian).map(Int.init)
        case .int64: return load(data, as: Int64.self, bigEndian: bigEndian).map(Int.init)
        case .uint8: return load(data, as: UInt8.self, bigEndian: bigEndian).map(Int.init)
        case .uint16: return load(data, as: UInt16.self, bigEndian: bigEndian).map(Int.init)
        case .uint32: return load(data, as: UInt32.self, bigEndian: bigEndian).map(Int.init)
        case .uint64:
            let values = load(data, as: UInt64.self, bigEndian: bigEndian)
            if let index = values.firstIndex(where: { $0 > UInt64(Int.max) }) {
                throw .integerOutOfRange(name: name, index: index, value: String(values[index]))
            }
            return values.map(Int.init)
        }
    }

    /// Every element of `data` in the file's byte order (unaligned loads: a hand-written header
    /// need not leave the data aligned).
    private static func load<Bits: FixedWidthInteger>(
        _ data: UnsafeRawBufferPointer, as: Bits.Type, bigEndian: Bool
    ) -> [Bits] {
        let stride = MemoryLayout<Bits>.size
        return (0..<data.count / stride).map { i in
            let bits = data.loadUnaligned(fromByteOffset: i * stride, as: Bits.self)
            return bigEndian ? Bits(bigEndian: bits) : Bits(littleEndian: bits)
        }
    }
}
