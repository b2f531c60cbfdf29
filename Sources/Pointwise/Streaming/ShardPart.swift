/// What one shard of a streamed job writes: a safetensors file with one tensor, `output`, holding
/// the shard's output pixels, and metadata that says where they belong.
///
/// The tensor is `[C, pixels]` when the job's output is channels-first (one row per output
/// channel) and `[pixels, C]` when channels-last (a class map is `[pixels, 1]`). The metadata
/// (`pointwise.*` keys, all strings) records the shard, the job's fingerprint, the final file's
/// shape and dtype and the global pixel range, so `ShardMerge` can check that parts belong
/// together and cover the output exactly once. Any safetensors reader can open a part.
struct ShardPart: Equatable {
    /// The tensor's name in the file.
    static let tensorName = "output"

    /// Which shard of how many.
    let shard: Shard
    /// Identifies the job.
    let fingerprint: String
    /// The merged .npy file's shape.
    let outputShape: [Int]
    /// The merged file's element type.
    let outputType: ElementType
    /// Values per pixel.
    let channels: Int
    /// Whether a pixel's values are adjacent in the merged file.
    let channelsLast: Bool
    /// Pixels per image of the merged file.
    let imagePixels: Int
    /// The global pixels this part holds.
    let pixels: Range<Int>

    /// The shape of the part's tensor: `[C, pixels]`, or `[pixels, C]` when channels-last.
    var tensorShape: [Int] { channelsLast ? [pixels.count, channels] : [channels, pixels.count] }

    /// Where the part's pixels lie in the part file, whose data starts at `dataOffset`.
    func placement(dataOffset: Int) -> PixelPlacement {
        PixelPlacement(dataOffset: dataOffset, channels: channels, channelsLast: channelsLast,
                       imagePixels: max(pixels.count, 1), firstPixel: pixels.lowerBound, elementSize: outputType.byteCount)
    }

    /// Where the part's pixels go in the merged .npy file, whose data starts at `dataOffset`.
    func mergedPlacement(dataOffset: Int) -> PixelPlacement {
        PixelPlacement(dataOffset: dataOffset, channels: channels, channelsLast: channelsLast,
                       imagePixels: imagePixels, firstPixel: 0, elementSize: outputType.byteCount)
    }

    // MARK: - Metadata

    private enum Key {
        static let shard = "pointwise.shard"
        static let job = "pointwise.job"
        static let shape = "pointwise.output_shape"
        static let dtype = "pointwise.output_dtype"
        static let channels = "pointwise.channels"
        static let channelsLast = "pointwise.channels_last"
        static let imagePixels = "pointwise.image_pixels"
        static let firstPixel = "pointwise.first_pixel"
        static let pixelCount = "pointwise.pixel_count"
    }

    /// The part's safetensors metadata.
    var metadata: [String: String] {
        [Key.shard: shard.description, Key.job: fingerprint,
         Key.shape: outputShape.map(String.init).joined(separator: ","), Key.dtype: outputType.rawValue,
         Key.channels: String(channels), Key.channelsLast: channelsLast ? "true" : "false",
         Key.imagePixels: String(imagePixels), Key.firstPixel: String(pixels.lowerBound),
         Key.pixelCount: String(pixels.count)]
    }

    /// The part described by a file's metadata.
    /// - Throws: `StreamingError.part` naming `path` when a key is missing or malformed.
    init(metadata: [String: String], path: String) throws(StreamingError) {
        func value(_ key: String) throws(StreamingError) -> String {
            guard let value = metadata[key] else {
                throw .part(path: path, problem: "is not a Pointwise shard part (no '\(key)' in its metadata)")
            }
            return value
        }
        func integer(_ key: String) throws(StreamingError) -> Int {
            guard let number = Int(try value(key)), number >= 0 else {
                throw .part(path: path, problem: "metadata '\(key)' is not a non-negative integer")
            }
            return number
        }
        do { shard = try Shard(parsing: try value(Key.shard)) } catch {
            throw .part(path: path, problem: "metadata '\(Key.shard)': \(error)")
        }
        fingerprint = try value(Key.job)
        let shape = try value(Key.shape).split(separator: ",").map { Int($0) }
        guard !shape.isEmpty, shape.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw .part(path: path, problem: "metadata '\(Key.shape)' is not a list of sizes")
        }
        outputShape = shape.map { $0! }
        guard let type = ElementType(rawValue: try value(Key.dtype)), type == .float32 || type == .int64 else {
            throw .part(path: path, problem: "metadata '\(Key.dtype)' is not F32 or I64")
        }
        outputType = type
        channels = try integer(Key.channels)
        switch try value(Key.channelsLast) {
        case "true": channelsLast = true
        case "false": channelsLast = false
        case let other: throw .part(path: path, problem: "metadata '\(Key.channelsLast)' is '\(other)', not true or false")
        }
        imagePixels = try integer(Key.imagePixels)
        let first = try integer(Key.firstPixel), count = try integer(Key.pixelCount)
        // The merge multiplies the sizes (in bytes), and the images by their pixels and channels:
        // every product must fit an Int, an empty output's other sizes too.
        guard Tensor.nonZeroProduct(of: outputShape + [type.byteCount]) != nil,
              Tensor.nonZeroProduct(of: [outputShape[0], imagePixels, channels]) != nil,
              channels >= 1, imagePixels >= 1 || outputShape.reduce(1, *) == 0,
              first <= Int.max - count else {
            throw .part(path: path, problem: "metadata describes an impossible part")
        }
        pixels = first..<first + count
    }

    /// A part to be written.
    init(shard: Shard, fingerprint: String, outputShape: [Int], outputType: ElementType, channels: Int,
         channelsLast: Bool, imagePixels: Int, pixels: Range<Int>) {
        self.shard = shard
        self.fingerprint = fingerprint
        self.outputShape = outputShape
        self.outputType = outputType
        self.channels = channels
        self.channelsLast = channelsLast
        self.imagePixels = imagePixels
        self.pixels = pixels
    }
}
