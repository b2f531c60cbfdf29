// MARK: - Pillow's bilinear resize

extension Image {
    /// The image resized exactly as Pillow's `Image.resize((width, height), Image.BILINEAR)` does.
    ///
    /// Pillow's "bilinear" is a separable convolution with a triangle filter whose support grows with
    /// the downscaling factor (so shrinking averages every covered pixel instead of aliasing). Each
    /// output pixel's weights are normalized to sum to 1, rounded to 22-bit fixed point, and each
    /// pass rounds to 8 bits: the horizontal pass first, then the vertical one. Channels are filtered
    /// independently (Pillow premultiplies alpha for RGBA; this does not), and 16-bit images are
    /// reduced to their high byte first, so the result always has 8 bits.
    /// - Parameters:
    ///   - width: Output pixels per row, at least 1.
    ///   - height: Output rows, at least 1; `width * height` at most `Image.maxPixels`.
    /// - Throws: `ImageError.invalidSize` for an empty or oversized output.
    public func resizedBilinear(width newWidth: Int, height newHeight: Int) throws(ImageError) -> Image {
        _ = try Image.sampleCount(width: newWidth, height: newHeight, channels: channels)
        let shift = bitDepth - 8
        let bytes = samples.map { UInt8(truncatingIfNeeded: $0 >> shift) }
        let resized = Image.resizeBilinear(bytes, width: width, height: height, channels: channels,
                                           toWidth: newWidth, height: newHeight)
        return Image(unchecked: newWidth, height: newHeight, channels: channels, bitDepth: 8,
                     samples: resized.map(UInt16.init))
    }

    /// Pillow's two-pass resize of interleaved 8-bit samples; see `resizedBilinear(width:height:)`.
    static func resizeBilinear(_ bytes: [UInt8], width: Int, height: Int, channels: Int,
                               toWidth newWidth: Int, height newHeight: Int) -> [UInt8] {
        var vertical = ResamplingWeights(inputSize: height, outputSize: newHeight)
        var pixels = bytes
        if newWidth != width {
            // Only the rows the vertical pass reads need the horizontal pass.
            let rows = vertical.inputRange
            pixels = ResamplingWeights(inputSize: width, outputSize: newWidth)
                .horizontal(pixels, width: width, channels: channels, rows: rows)
            vertical.shift(by: -rows.lowerBound)
        }
        guard newHeight != height else { return pixels }
        return vertical.vertical(pixels, rowLength: newWidth * channels)
    }
}

/// Pillow's fixed-point weights for resampling one axis from `inputSize` to `outputSize` samples.
struct ResamplingWeights {
    /// Weights are integers scaled by 2^22 (Pillow's `PRECISION_BITS`, leaving room for 8-bit values).
    static let precisionBits = 22

    /// For each output sample: the first input sample it reads, how many, and where its weights
    /// start in `weights` (about 2 per input sample in all, however far the image shrinks).
    private(set) var first: [Int]
    let count: [Int]
    let weightStart: [Int]
    let weights: [Int]

    init(inputSize: Int, outputSize: Int) {
        // Pillow passes the source box as 32-bit floats (exact below 2^24 pixels).
        let scale = Double(Float(inputSize)) / Double(outputSize)
        let filterScale = max(scale, 1)  // upscaling keeps the plain triangle
        let support = filterScale  // the triangle's support, 1, stretched by the downscaling factor
        let inverseScale = 1 / filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1  // Pillow's bound on a window's length
        var first = [Int](repeating: 0, count: outputSize)
        var count = [Int](repeating: 0, count: outputSize)
        var weightStart = [Int](repeating: 0, count: outputSize)
        var weights: [Int] = []
        for output in 0..<outputSize {
            let center = (Double(output) + 0.5) * scale
            // Pillow rounds the window ends by adding 0.5 and truncating towards zero.
            let low = max(0, Int(center - support + 0.5))
            let high = min(inputSize, Int(center + support + 0.5))
            let n = min(max(0, high - low), taps)
            // Pillow multiplies by the reciprocal rather than dividing; the last bit matters.
            let triangle = (0..<n).map { k in max(0, 1 - abs((Double(low + k) - center + 0.5) * inverseScale)) }
            let total = triangle.reduce(0, +)
            first[output] = low
            count[output] = n
            weightStart[output] = weights.count
            for weight in triangle {
                let normalized = total == 0 ? weight : weight / total
                weights.append(Int(0.5 + normalized * Double(1 << Self.precisionBits)))
            }
        }
        self.first = first
        self.count = count
        self.weightStart = weightStart
        self.weights = weights
    }

    /// The input samples any output reads.
    var inputRange: Range<Int> {
        guard let start = first.first, let end = zip(first, count).map({ $0 + $1 }).max() else { return 0..<0 }
        return start..<max(start, end)
    }

    /// Moves every window by `offset` input samples (after the input was cropped).
    mutating func shift(by offset: Int) {
        first = first.map { $0 + offset }
    }

    /// The horizontal pass: rows `rows` of a `width`-pixel image, each resampled to `first.count` pixels.
    func horizontal(_ input: [UInt8], width: Int, channels: Int, rows: Range<Int>) -> [UInt8] {
        let outputWidth = first.count
        var output = [UInt8](repeating: 0, count: rows.count * outputWidth * channels)
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for (row, y) in rows.enumerated() {
                    for x in 0..<outputWidth {
                        let source = (y * width + first[x]) * channels
                        let target = (row * outputWidth + x) * channels
                        for c in 0..<channels {
                            var sum = 1 << (Self.precisionBits - 1)
                            for k in 0..<count[x] {
                                sum += Int(input[source + k * channels + c]) * weights[weightStart[x] + k]
                            }
                            output[target + c] = Self.clip(sum)
                        }
                    }
                }
            }
        }
        return output
    }

    /// The vertical pass: rows of `rowLength` samples, resampled to `first.count` rows.
    func vertical(_ input: [UInt8], rowLength: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: first.count * rowLength)
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for y in 0..<first.count {
                    for i in 0..<rowLength {
                        var sum = 1 << (Self.precisionBits - 1)
                        for k in 0..<count[y] {
                            sum += Int(input[(first[y] + k) * rowLength + i]) * weights[weightStart[y] + k]
                        }
                        output[y * rowLength + i] = Self.clip(sum)
                    }
                }
            }
        }
        return output
    }

    /// A fixed-point sum (with its rounding half already added) as a byte, clamped to 0 … 255.
    @inline(__always)
    private static func clip(_ sum: Int) -> UInt8 {
        UInt8(clamping: sum >> precisionBits)
    }
}
