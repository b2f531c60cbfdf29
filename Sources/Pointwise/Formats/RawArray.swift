import Foundation

/// An n-dimensional array as a file stores it: element type, shape and little-endian bytes in
/// C (row-major) order, possibly borrowed from a memory-mapped file.
///
/// This is the currency between file formats (safetensors, npz, PyTorch checkpoints) and the
/// layers: readers hand out `RawArray`s without converting or copying, and `floats()` converts
/// to Float32 once, when a layer takes its parameters.
public struct RawArray: @unchecked Sendable {
    /// The element type of `bytes`.
    public let elementType: ElementType
    /// The dimensions, outermost first (`[]` for a scalar).
    public let shape: [Int]
    /// Keeps the memory behind `bytes` alive (a mapping, an allocation or a `Data`).
    let owner: AnyObject?
    /// The elements: `elementCount * elementType.byteCount` bytes, little-endian, C order; not
    /// necessarily aligned (a stored .npz member starts wherever its ZIP header ends).
    public let bytes: UnsafeRawBufferPointer

    /// The number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// An array over memory kept alive by `owner`.
    ///
    /// - Precondition: `bytes.count == shape.reduce(1, *) * elementType.byteCount`; readers
    ///   validate this (and overflow) before building the array.
    public init(elementType: ElementType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        precondition(bytes.count == shape.reduce(1, *) * elementType.byteCount,
                     "RawArray: \(bytes.count) bytes do not hold \(shape) × \(elementType.rawValue)")
        self.elementType = elementType
        self.shape = shape
        self.bytes = bytes
        self.owner = owner
    }

    /// An array that owns a copy of `data`.
    public init(elementType: ElementType, shape: [Int], data: Data) {
        let buffer = OwnedBytes(copying: data)
        self.init(elementType: elementType, shape: shape, bytes: buffer.bytes, owner: buffer)
    }

    /// A float32 array holding `values` (row-major), for writing.
    public init(shape: [Int], floats values: [Float]) {
        let buffer = OwnedBytes(byteCount: values.count * 4)
        values.withUnsafeBytes { source in
            if !source.isEmpty { buffer.mutableBytes.copyMemory(from: source) }
        }
        // Stored little-endian; every platform Pointwise builds for is little-endian.
        self.init(elementType: .float32, shape: shape, bytes: buffer.bytes, owner: buffer)
    }

    /// The elements converted to Float32 (integers and booleans exactly where representable,
    /// float64 rounded to nearest).
    public func floats() -> [Float] {
        let count = elementCount
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            ElementConversion.toFloat32(bytes, type: elementType, count: count, into: out.baseAddress!)
            initialized = count
        }
    }

    /// The elements converted to Int64; floating-point values are truncated toward zero.
    public func integers() -> [Int64] {
        (0..<elementCount).map { ElementConversion.integer(bytes, type: elementType, at: $0) }
    }
}

/// A heap allocation that owns the bytes of a `RawArray`.
final class OwnedBytes {
    let mutableBytes: UnsafeMutableRawBufferPointer
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(mutableBytes) }

    init(byteCount: Int) {
        mutableBytes = .allocate(byteCount: byteCount, alignment: 64)
    }

    convenience init(copying data: Data) {
        self.init(byteCount: data.count)
        data.withUnsafeBytes { source in
            if !source.isEmpty { mutableBytes.copyMemory(from: source) }
        }
    }

    deinit { mutableBytes.deallocate() }
}

/// Element-wise conversion of little-endian file bytes.
enum ElementConversion {
    /// Converts `count` elements of `type` at `bytes` to Float32 at `out`.
    static func toFloat32(_ bytes: UnsafeRawBufferPointer, type: ElementType, count: Int,
                          into out: UnsafeMutablePointer<Float>) {
        guard count > 0, let base = bytes.baseAddress else { return }
        switch type {
        case .float32:
            // A byte copy: `base` need not be aligned for Float.
            UnsafeMutableRawPointer(out).copyMemory(from: base, byteCount: 4 * count)
        case .float16:
            for i in 0..<count {
                out[i] = Float(float16Bits: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        case .bfloat16:
            for i in 0..<count {
                let bits = UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16
                out[i] = Float(bitPattern: bits)
            }
        case .float64:
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .int64:
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        case .int32:
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .int16:
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .int8:
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
        case .uint8, .bool:
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: i, as: UInt8.self)) }
        }
    }

    /// Element `index` of `type` at `bytes` as an integer.
    static func integer(_ bytes: UnsafeRawBufferPointer, type: ElementType, at index: Int) -> Int64 {
        let base = bytes.baseAddress!
        switch type {
        case .int64: return base.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self)
        case .int32: return Int64(base.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self))
        case .int16: return Int64(base.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self))
        case .int8: return Int64(base.loadUnaligned(fromByteOffset: index, as: Int8.self))
        case .uint8, .bool: return Int64(base.loadUnaligned(fromByteOffset: index, as: UInt8.self))
        case .float32, .float16, .bfloat16, .float64:
            var value: Float = 0
            toFloat32(UnsafeRawBufferPointer(rebasing: bytes[(index * type.byteCount)...]),
                      type: type, count: 1, into: &value)
            return value.isFinite ? Int64(value) : 0
        }
    }
}

extension Float {
    /// The value of an IEEE 754 binary16 bit pattern (exact: every half is a float).
    init(float16Bits bits: UInt16) {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -magnitude : magnitude
        case 0x1F:
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            self = Float(bitPattern: sign | UInt32(exponent + 127 - 15) << 23 | (mantissa << 13))
        }
    }
}
