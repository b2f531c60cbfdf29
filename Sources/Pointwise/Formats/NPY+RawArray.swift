import Foundation

extension ElementType: NPYElementKind {
    var size: Int { byteCount }
}

extension NPY {
    /// Dtype codes after the byte-order mark; 1-byte types may carry NumPy's `|` ("not applicable").
    private static let elementTypes: [String: ElementType] = [
        "f2": .float16, "f4": .float32, "f8": .float64,
        "i1": .int8, "|i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
        "u1": .uint8, "|u1": .uint8, "b1": .bool, "|b1": .bool,
    ]

    /// The dtype `np.save` writes for `type`, or nil for bfloat16, which NumPy lacks.
    static func descr(for type: ElementType) -> String? {
        switch type {
        case .float16: "<f2"
        case .float32: "<f4"
        case .float64: "<f8"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        case .bool: "|b1"
        case .bfloat16: nil
        }
    }

    // MARK: - Decoding

    /// Decodes the bytes of a `.npy` file into an array of its own element type, without
    /// converting values: big-endian data is byte-swapped to little-endian, nothing else changes.
    ///
    /// - Parameters:
    ///   - data: The complete file contents.
    ///   - name: A file path or label that prefixes every error message.
    /// - Throws: `NPYError.unsupportedElementType` for a dtype other than `f2 f4 f8 i1 i2 i4 i8
    ///   u1 b1` (either byte order); otherwise the errors of `decode(_:name:)`.
    public static func decodeArray(_ data: Data, name: String) throws(NPYError) -> RawArray {
        try data.withUnsafeBytes { bytes in
            Result { () throws(NPYError) in try decodeArray(bytes: bytes, name: name, borrowing: nil) }
        }.get()
    }

    /// Decodes `.npy` bytes into an array that views them, kept alive by `owner`, when the data
    /// is little-endian and an owner is given; otherwise into a little-endian copy.
    static func decodeArray(bytes: UnsafeRawBufferPointer, name: String,
                            borrowing owner: AnyObject?) throws(NPYError) -> RawArray {
        let (header, data): (Header<ElementType>, UnsafeRawBufferPointer)
        do {
            (header, data) = try split(bytes, name: name, kinds: elementTypes)
        } catch .unsupportedDtype(let name, let descr) {
            throw .unsupportedElementType(name: name, descr: descr)
        }
        if let owner, !header.bigEndian {
            return RawArray(elementType: header.kind, shape: header.shape, bytes: data, owner: owner)
        }
        let copy = OwnedBytes(byteCount: data.count)
        if !data.isEmpty { copy.mutableBytes.copyMemory(from: data) }
        if header.bigEndian { swapBytes(copy.mutableBytes, elementSize: header.kind.byteCount) }
        return RawArray(elementType: header.kind, shape: header.shape, bytes: copy.bytes, owner: copy)
    }

    /// Reverses the bytes of every `elementSize`-byte element of `buffer`.
    private static func swapBytes(_ buffer: UnsafeMutableRawBufferPointer, elementSize: Int) {
        /// Swaps elements of one integer width.
        func swap<Bits: FixedWidthInteger>(_: Bits.Type) {
            for offset in stride(from: 0, to: buffer.count, by: MemoryLayout<Bits>.size) {
                let bits = buffer.loadUnaligned(fromByteOffset: offset, as: Bits.self)
                buffer.storeBytes(of: bits.byteSwapped, toByteOffset: offset, as: Bits.self)
            }
        }
        switch elementSize {
        case 2: swap(UInt16.self)
        case 4: swap(UInt32.self)
        case 8: swap(UInt64.self)
        default: break  // single bytes have no order
        }
    }

    // MARK: - Encoding

    /// Encodes an array as a `.npy` file exactly as `np.save` writes it: little-endian, C order,
    /// version 1.0 unless the header needs 2.0, data at a multiple of 64 bytes.
    ///
    /// - Parameters:
    ///   - array: Any array except bfloat16, which has no NumPy dtype (a programmer error;
    ///     `NPZ.write` checks instead). Convert it with `floats()` first.
    /// - Returns: The complete file contents.
    public static func encode(_ array: RawArray) -> Data {
        guard let descr = descr(for: array.elementType) else {
            preconditionFailure("NPY.encode: NumPy has no bfloat16 dtype; convert the array to float32 first")
        }
        let header = makeHeader(shape: array.shape, descr: descr)
        var data = Data(capacity: header.count + array.bytes.count)
        data.append(contentsOf: header)
        if let base = array.bytes.baseAddress {
            data.append(base.assumingMemoryBound(to: UInt8.self), count: array.bytes.count)
        }
        return data
    }
}
