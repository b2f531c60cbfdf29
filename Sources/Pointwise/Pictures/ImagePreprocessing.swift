// MARK: - ImageNet preprocessing

/// The preprocessing of the EfficientNet-Lite ImageNet classifiers, reproducing the reference
/// pipeline (PIL + torchvision) exactly:
///
/// 1. convert to 8-bit RGB: alpha dropped, gray repeated into R, G and B, 16-bit samples reduced
///    to their high byte (as Pillow opens 16-bit RGB PNGs);
/// 2. resize so the shorter side is `resizeShorterSide`, the longer side
///    `resizeShorterSide * long / short` rounded by `longerSideRounding`, with Pillow's bilinear
///    filter (`Image.resizedBilinear(width:height:)`);
/// 3. crop the central `cropSize × cropSize` square, its top-left corner at
///    `round((size − cropSize) / 2)` with ties to even (torchvision's `CenterCrop`, Python's `round`),
///    or keep the whole resized picture when `cropSize` is nil (for dense class maps);
/// 4. map each value `v` in 0 … 255 to `(v − mean) / scale`.
///
/// With the defaults the result lies in −0.9921875 … 1.0 and is bit-identical to the reference inputs.
public struct ImagePreprocessing: Sendable, Equatable {
    /// The length of the shorter side after resizing (256).
    public var resizeShorterSide: Int
    /// The side of the square center crop (224), at most `resizeShorterSide`; nil keeps the
    /// whole resized picture.
    public var cropSize: Int?
    /// Subtracted from every 0 … 255 value (127).
    public var mean: Float
    /// Divides every value after subtracting `mean` (128).
    public var scale: Float
    /// How `resizeShorterSide * long / short` becomes a whole number of pixels. The reference
    /// fixtures round to nearest, ties to even (451×300 → 385×256); torchvision's `Resize(256)`
    /// truncates instead (`.towardZero`, 451×300 → 384×256).
    public var longerSideRounding: FloatingPointRoundingRule

    /// The preprocessing with its parameters; the defaults are EfficientNet-Lite0's.
    ///
    /// - Parameters:
    ///   - resizeShorterSide: The length of the shorter side after resizing.
    ///   - cropSize: The side of the square center crop, at most `resizeShorterSide`, or nil for none.
    ///   - mean: Subtracted from every 0 … 255 value.
    ///   - scale: Divides every value after subtracting `mean`.
    ///   - longerSideRounding: How the longer side's length is rounded to whole pixels.
    public init(resizeShorterSide: Int = 256, cropSize: Int? = 224, mean: Float = 127, scale: Float = 128,
                longerSideRounding: FloatingPointRoundingRule = .toNearestOrEven) {
        self.resizeShorterSide = resizeShorterSide
        self.cropSize = cropSize
        self.mean = mean
        self.scale = scale
        self.longerSideRounding = longerSideRounding
    }

    /// The size an image of `width × height` pixels is resized to before cropping.
    ///
    /// - Throws: `ImageError.invalidParameter` when the parameters are out of range or the
    ///   longer side's length does not fit in an `Int`.
    public func resizedSize(width: Int, height: Int) throws(ImageError) -> (width: Int, height: Int) {
        try validate()
        guard width >= 1, height >= 1 else { throw .invalidSize(width: width, height: height) }
        let (short, long) = (min(width, height), max(width, height))
        // Like Python's `size * long / short`: an exact integer product, then one rounded division.
        let (product, overflow) = resizeShorterSide.multipliedReportingOverflow(by: long)
        let longer = (Double(product) / Double(short)).rounded(longerSideRounding)
        guard !overflow, longer < Double(Int.max / 2) else {
            throw .invalidParameter(reason: "resizing \(width)×\(height) to a shorter side of "
                                    + "\(resizeShorterSide) makes the longer side too long")
        }
        return width <= height ? (resizeShorterSide, Int(longer)) : (Int(longer), resizeShorterSide)
    }

    /// Preprocesses one picture for the classifier.
    ///
    /// - Parameter image: Any image: gray or RGB, with or without alpha, 8 or 16 bits.
    /// - Returns: A tensor `[1, 3, cropSize, cropSize]` (without a crop, `[1, 3, H, W]` of the
    ///   resized size), channels R, G, B, values `(v − mean) / scale`.
    /// - Throws: `ImageError.invalidParameter` for parameters out of range, `.invalidSize` when the
    ///   resized image would exceed `Image.maxPixels`.
    public func callAsFunction(_ image: Image) throws(ImageError) -> Tensor {
        let size = try resizedSize(width: image.width, height: image.height)
        _ = try Image.sampleCount(width: size.width, height: size.height, channels: 3)
        let resized = Image.resizeBilinear(image.rgbBytes(), width: image.width, height: image.height, channels: 3,
                                           toWidth: size.width, height: size.height)
        let (cropWidth, cropHeight) = cropSize.map { ($0, $0) } ?? (size.width, size.height)
        // Python's round: ties to even.
        let top = Int((Double(size.height - cropHeight) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(size.width - cropWidth) / 2).rounded(.toNearestOrEven))
        let plane = cropWidth * cropHeight
        let storage = TensorStorage(uninitializedCount: 3 * plane)
        for y in 0..<cropHeight {
            for x in 0..<cropWidth {
                let source = ((top + y) * size.width + left + x) * 3
                for channel in 0..<3 {
                    let value = Float(resized[source + channel])
                    storage.pointer[channel * plane + y * cropWidth + x] = (value - mean) / scale
                }
            }
        }
        return Tensor(shape: [1, 3, cropHeight, cropWidth], layout: .channelsFirst, count: 3 * plane,
                      storage: storage, offset: 0)
    }

    /// Throws unless the sizes are positive, the crop fits and the scale divides.
    private func validate() throws(ImageError) {
        guard resizeShorterSide >= 1, (cropSize ?? 1) >= 1, (cropSize ?? 0) <= resizeShorterSide else {
            throw .invalidParameter(reason: "crop size \(cropSize ?? 0) and shorter side \(resizeShorterSide) must be "
                                    + "positive, the crop no larger than the shorter side")
        }
        guard scale.isFinite, scale != 0, mean.isFinite else {
            throw .invalidParameter(reason: "mean \(mean) and scale \(scale) must be finite, the scale non-zero")
        }
    }
}
