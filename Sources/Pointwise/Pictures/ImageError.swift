/// Why an image could not be made, converted or preprocessed as asked.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Width or height is below 1, or there are more than `Image.maxPixels` pixels.
    case invalidSize(width: Int, height: Int)
    /// The channel count is not 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
    case invalidChannels(Int)
    /// The bit depth is not 8 or 16.
    case invalidBitDepth(Int)
    /// `actual` samples were given where width × height × channels is `expected`.
    case sampleCountMismatch(expected: Int, actual: Int)
    /// Sample `index` has `value`, too large for `bitDepth` bits.
    case sampleOutOfRange(index: Int, value: Int, bitDepth: Int)
    /// A preprocessing parameter is out of range; `reason` says which and why.
    case invalidParameter(reason: String)

    /// A sentence that says what is wrong and what is allowed.
    public var description: String {
        switch self {
        case .invalidSize(let width, let height):
            return "image: invalid size \(width)×\(height): width and height must be at least 1 and "
                + "the image at most \(Image.maxPixels) pixels"
        case .invalidChannels(let channels):
            return "image: \(channels) channels; expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)"
        case .invalidBitDepth(let bitDepth):
            return "image: bit depth \(bitDepth); expected 8 or 16"
        case .sampleCountMismatch(let expected, let actual):
            return "image: \(actual) samples given, but width × height × channels is \(expected)"
        case .sampleOutOfRange(let index, let value, let bitDepth):
            return "image: sample \(index) is \(value), above the \(bitDepth)-bit maximum \((1 << bitDepth) - 1)"
        case .invalidParameter(let reason):
            return "image: \(reason)"
        }
    }
}
