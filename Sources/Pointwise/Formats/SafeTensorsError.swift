/// Why a safetensors file could not be read or written.
///
/// Every case carries the file's path, and `description` is a sentence that starts with it and
/// names the tensor and the numbers involved.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, mapped or written.
    case fileAccess(FileAccessError)
    /// The file is shorter than the 8-byte header length.
    case tooShort(path: String, size: Int)
    /// The header length exceeds the 100 MB the reference implementation accepts.
    case headerTooLarge(path: String, length: UInt64)
    /// The header length points past the end of the file.
    case headerBeyondFile(path: String, length: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(path: String)
    /// The header does not start with `{`.
    case headerNotObject(path: String)
    /// The header is not JSON, or not of the safetensors schema; `reason` says where.
    case malformedHeader(path: String, reason: String)
    /// Two tensors (or two `__metadata__` entries) share `name`.
    case duplicateName(path: String, name: String)
    /// A tensor's dtype is not one of `ElementType`'s.
    case unsupportedDtype(path: String, tensor: String, dtype: String)
    /// A tensor's shape has a negative dimension.
    case negativeDimension(path: String, tensor: String, shape: [Int])
    /// A tensor's element or byte count does not fit in `Int`.
    case sizeOverflow(path: String, tensor: String, shape: [Int])
    /// A tensor's `data_offsets` are reversed or reach past the data buffer.
    case offsetsOutOfBounds(path: String, tensor: String, begin: Int, end: Int, bufferSize: Int)
    /// A tensor's `data_offsets` span a different number of bytes than its dtype and shape need.
    case sizeMismatch(path: String, tensor: String, elementType: ElementType, shape: [Int],
                      begin: Int, end: Int)
    /// Two tensors' bytes overlap.
    case overlap(path: String, tensor: String, other: String)
    /// Bytes `begin..<end` of the data buffer belong to no tensor.
    case hole(path: String, begin: Int, end: Int)
    /// No tensor is called `name`.
    case tensorNotFound(path: String, name: String)
    /// A tensor to write is called `__metadata__`, the key reserved for the metadata.
    case reservedName(path: String)

    /// A sentence starting with the file's path that says what is wrong.
    public var description: String {
        switch self {
        case .fileAccess(let error):
            return error.description
        case .tooShort(let path, let size):
            return "\(path): the file is \(size) bytes, too short for the 8-byte header length "
                + "of a safetensors file"
        case .headerTooLarge(let path, let length):
            return "\(path): the header claims \(length) bytes, more than the 100000000 safetensors allows"
        case .headerBeyondFile(let path, let length, let fileSize):
            return "\(path): the header claims \(length) bytes but the file has only \(fileSize - 8) after "
                + "the header length (truncated, or not a safetensors file)"
        case .headerNotUTF8(let path):
            return "\(path): the safetensors header is not valid UTF-8"
        case .headerNotObject(let path):
            return "\(path): the safetensors header is not a JSON object (it must start with '{')"
        case .malformedHeader(let path, let reason):
            return "\(path): malformed safetensors header: \(reason)"
        case .duplicateName(let path, let name):
            return "\(path): the header lists '\(name)' more than once"
        case .unsupportedDtype(let path, let tensor, let dtype):
            let supported = ElementType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(path): tensor '\(tensor)' has dtype \(dtype), which is not supported "
                + "(supported: \(supported))"
        case .negativeDimension(let path, let tensor, let shape):
            return "\(path): tensor '\(tensor)' has shape \(shape) with a negative dimension"
        case .sizeOverflow(let path, let tensor, let shape):
            return "\(path): tensor '\(tensor)' has shape \(shape), too many elements to address"
        case .offsetsOutOfBounds(let path, let tensor, let begin, let end, let bufferSize):
            return "\(path): tensor '\(tensor)' has data_offsets [\(begin), \(end)] outside the "
                + "\(bufferSize)-byte data buffer"
        case .sizeMismatch(let path, let tensor, let elementType, let shape, let begin, let end):
            let needed = elementType.byteCount(shape: shape).map(String.init) ?? "more than Int.max"
            return "\(path): tensor '\(tensor)' has data_offsets [\(begin), \(end)] but "
                + "\(elementType.rawValue) \(shape) needs \(needed) bytes"
        case .overlap(let path, let tensor, let other):
            return "\(path): the bytes of tensors '\(other)' and '\(tensor)' overlap"
        case .hole(let path, let begin, let end):
            return "\(path): bytes \(begin)..<\(end) of the data buffer belong to no tensor"
        case .tensorNotFound(let path, let name):
            return "\(path): no tensor named '\(name)'"
        case .reservedName(let path):
            return "\(path): a tensor cannot be called '__metadata__'; that key holds the file's metadata"
        }
    }
}
