// MARK: - Image to tensor

extension Image {
    /// The image as a Float32 tensor `[1, C, H, W]` (channels-first) with values in 0 … 255.
    ///
    /// 8-bit samples keep their values; 16-bit samples are scaled by 255 / 65535 (divided by 257),
    /// so both depths share one range.
    /// - Parameters:
    ///   - droppingAlpha: Leave out the alpha channel of gray + alpha and RGBA images.
    ///   - expandingGrayToRGB: Repeat the gray channel three times, giving R = G = B.
    /// - Returns: `[1, C, H, W]` where C counts the color channels (1 or 3) plus alpha unless dropped.
    public func tensor(droppingAlpha: Bool = false, expandingGrayToRGB: Bool = false) -> Tensor {
        let sources = channelSources(droppingAlpha: droppingAlpha, expandingGrayToRGB: expandingGrayToRGB)
        let plane = width * height
        let count = sources.count * plane
        let storage = TensorStorage(uninitializedCount: count)
        let divisor: Float = bitDepth == 16 ? 257 : 1
        samples.withUnsafeBufferPointer { samples in
            for (channel, source) in sources.enumerated() {
                let output = storage.pointer + channel * plane
                for pixel in 0..<plane {
                    output[pixel] = Float(samples[pixel * channels + source]) / divisor
                }
            }
        }
        return Tensor(shape: [1, sources.count, height, width], layout: .channelsFirst, count: count,
                      storage: storage, offset: 0)
    }

    /// For each output channel, the channel of this image it copies.
    func channelSources(droppingAlpha: Bool, expandingGrayToRGB: Bool) -> [Int] {
        let colors = hasAlpha ? channels - 1 : channels
        let colorSources = colors == 1 && expandingGrayToRGB ? [0, 0, 0] : Array(0..<colors)
        return hasAlpha && !droppingAlpha ? colorSources + [channels - 1] : colorSources
    }

    /// The samples as 8-bit RGB, channels interleaved: alpha dropped, gray repeated, and 16-bit
    /// samples reduced to their high byte (what Pillow does when it opens 16-bit RGB PNGs).
    func rgbBytes() -> [UInt8] {
        let sources = channelSources(droppingAlpha: true, expandingGrayToRGB: true)
        let shift = bitDepth - 8
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        for pixel in 0..<(width * height) {
            for (channel, source) in sources.enumerated() {
                bytes[pixel * 3 + channel] = UInt8(truncatingIfNeeded: samples[pixel * channels + source] >> shift)
            }
        }
        return bytes
    }
}
