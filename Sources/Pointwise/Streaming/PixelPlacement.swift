/// Where the values of each output pixel go in a file: the address arithmetic shared by the
/// streamed .npy output, the shard parts and the merge.
///
/// Pixels are numbered globally in file order (image by image, position by position). A file
/// holds pixels `firstPixel..<firstPixel + pixelCount`, cut into images of `imagePixels`
/// pixels, with `channels` values per pixel, either pixel-major (channels-last: `[…, C]`) or as
/// one plane per channel and image (channels-first: `[N, C, …]`).
struct PixelPlacement {
    /// Byte offset of the first value in the file.
    let dataOffset: Int
    /// Values per pixel.
    let channels: Int
    /// Whether a pixel's values are adjacent (else each channel is a plane).
    let channelsLast: Bool
    /// Pixels per image plane (for a shard part: all of its pixels, one "image").
    let imagePixels: Int
    /// The global number of the file's first pixel.
    let firstPixel: Int
    /// Bytes per value.
    let elementSize: Int

    /// The byte offset of channel `channel` of global pixel `pixel`.
    func offset(channel: Int, pixel: Int) -> Int {
        let local = pixel - firstPixel
        let element = channelsLast
            ? local * channels + channel
            : ((local / imagePixels) * channels + channel) * imagePixels + local % imagePixels
        return dataOffset + element * elementSize
    }

    /// Writes the values of `pixels` to `writer`. `source` holds them as `[channels, rowStride]`
    /// rows starting at the first of `pixels` (channels-first), or as `[pixels.count, channels]`
    /// (channels-last), matching this placement's order.
    func write(_ source: UnsafeRawPointer, rowStride: Int, pixels: Range<Int>,
               to writer: AtomicFile.Writer) throws(FileAccessError) {
        if channelsLast {
            let bytes = UnsafeRawBufferPointer(start: source, count: pixels.count * channels * elementSize)
            try writer.write(bytes, at: offset(channel: 0, pixel: pixels.lowerBound))
            return
        }
        // One contiguous run per channel and image the range touches.
        var start = pixels.lowerBound
        while start < pixels.upperBound {
            let imageEnd = firstPixel + ((start - firstPixel) / imagePixels + 1) * imagePixels
            let end = min(pixels.upperBound, imageEnd)
            for channel in 0..<channels {
                let from = source + (channel * rowStride + (start - pixels.lowerBound)) * elementSize
                try writer.write(UnsafeRawBufferPointer(start: from, count: (end - start) * elementSize),
                                 at: offset(channel: channel, pixel: start))
            }
            start = end
        }
    }
}
