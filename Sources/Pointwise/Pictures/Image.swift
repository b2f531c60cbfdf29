/// A picture in memory: `height` rows of `width` pixels, each pixel `channels` interleaved samples.
///
/// Layout: `samples[(y * width + x) * channels + c]`, rows top to bottom, pixels left to right.
/// Channels are 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. Samples are unsigned integers in
/// `0 ... 255` when `bitDepth` is 8 and `0 ... 65535` when it is 16, stored as `UInt16` either way
/// so every image has one sample type (an 8-bit photo of 3 MP takes 18 MB).
public struct Image: Sendable, Equatable {
    /// The most pixels an image may have (2²⁸, e.g. 16384 × 16384): bounds what a file can make
    /// a decoder allocate.
    public static let maxPixels = 1 << 28

    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Samples per pixel: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// 8 or 16: the range of the samples (`0 ... (1 << bitDepth) - 1`).
    public let bitDepth: Int
    /// `width * height * channels` samples, row-major, channels interleaved.
    public let samples: [UInt16]

    /// An image from its samples, checked against its description.
    ///
    /// - Parameters:
    ///   - width: Pixels per row, at least 1.
    ///   - height: Rows, at least 1; `width * height` at most `Image.maxPixels`.
    ///   - channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    ///   - bitDepth: 8 or 16.
    ///   - samples: `width * height * channels` samples, each below `1 << bitDepth`, laid out as
    ///     `samples[(y * width + x) * channels + c]`.
    /// - Throws: `ImageError` when a parameter is out of range or the samples do not fit them.
    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) throws(ImageError) {
        let count = try Image.sampleCount(width: width, height: height, channels: channels)
        guard bitDepth == 8 || bitDepth == 16 else { throw .invalidBitDepth(bitDepth) }
        guard samples.count == count else { throw .sampleCountMismatch(expected: count, actual: samples.count) }
        if bitDepth == 8, let index = samples.firstIndex(where: { $0 > 255 }) {
            throw .sampleOutOfRange(index: index, value: Int(samples[index]), bitDepth: bitDepth)
        }
        self.init(unchecked: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    /// An 8-bit image from bytes, for pictures a program draws (feature-map grids, heatmaps).
    ///
    /// - Parameters:
    ///   - width: Pixels per row, at least 1.
    ///   - height: Rows, at least 1; `width * height` at most `Image.maxPixels`.
    ///   - channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    ///   - bytes: `width * height * channels` samples, laid out as `bytes[(y * width + x) * channels + c]`.
    /// - Throws: `ImageError` when a parameter is out of range or the byte count does not match.
    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) throws(ImageError) {
        let count = try Image.sampleCount(width: width, height: height, channels: channels)
        guard bytes.count == count else { throw .sampleCountMismatch(expected: count, actual: bytes.count) }
        self.init(unchecked: width, height: height, channels: channels, bitDepth: 8,
                  samples: bytes.map(UInt16.init))
    }

    /// An image whose parameters the caller has already validated (the decoders).
    init(unchecked width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// Whether the last channel is alpha (gray + alpha and RGBA).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// `width * height * channels`, or the error that says which parameter is out of range.
    static func sampleCount(width: Int, height: Int, channels: Int) throws(ImageError) -> Int {
        guard width >= 1, height >= 1, width <= maxPixels, height <= maxPixels,
              width * height <= maxPixels else {
            throw .invalidSize(width: width, height: height)
        }
        guard (1...4).contains(channels) else { throw .invalidChannels(channels) }
        return width * height * channels
    }
}
