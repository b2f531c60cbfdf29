/// The element types that tensor files (safetensors, PyTorch checkpoints, .npy/.npz) carry.
///
/// The raw values are safetensors' dtype names, the format whose set this mirrors; PyTorch's
/// storage classes and NumPy's `descr` strings map onto the same cases.
public enum ElementType: String, Sendable, CaseIterable, Equatable {
    /// IEEE 754 binary32, `torch.float32`, NumPy `<f4`.
    case float32 = "F32"
    /// IEEE 754 binary16, `torch.float16`, NumPy `<f2`.
    case float16 = "F16"
    /// bfloat16 (the upper half of a binary32), `torch.bfloat16`.
    case bfloat16 = "BF16"
    /// IEEE 754 binary64, `torch.float64`, NumPy `<f8`.
    case float64 = "F64"
    /// Signed 64-bit integer, `torch.int64` (e.g. BatchNorm's `num_batches_tracked`).
    case int64 = "I64"
    /// Signed 32-bit integer.
    case int32 = "I32"
    /// Signed 16-bit integer.
    case int16 = "I16"
    /// Signed 8-bit integer.
    case int8 = "I8"
    /// Unsigned 8-bit integer (images).
    case uint8 = "U8"
    /// One byte per element, 0 or 1.
    case bool = "BOOL"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// Whether the type is a floating-point type.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        default: false
        }
    }
}
