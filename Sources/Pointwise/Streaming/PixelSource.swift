/// An input .npy file seen as `[N, C, *spatial]` pixels and read tile by tile on an output grid
/// (every `stride`-th position, as a strided 1×1 convolution samples it).
struct PixelSource {
    /// The mapped file.
    let file: MappedNPY
    /// The file's memory order.
    let layout: Layout
    /// Images in the file.
    let images: Int
    /// Values per pixel.
    let channels: Int
    /// The file's spatial sizes.
    let spatial: [Int]
    /// The sampling step along every spatial axis.
    let stride: Int
    /// The sampled (output) grid's spatial sizes.
    let outputSpatial: [Int]

    /// Positions per image in the file and on the output grid.
    var pixels: Int { spatial.reduce(1, *) }
    var outputPixels: Int { outputSpatial.reduce(1, *) }

    /// The logical shape `[N, C, *spatial]`.
    var logicalShape: [Int] { [images, channels] + spatial }

    /// Reads `file` as `[N, C, *spatial]` (nchw) or `[N, *spatial, C]` (nhwc).
    /// - Throws: `StreamingError.shape` for a rank outside 2–5, or sizes whose product (leaving
    ///   out any 0) overflows.
    init(_ file: MappedNPY, layout: Layout, stride: Int = 1) throws(StreamingError) {
        let shape = file.shape
        guard (2...5).contains(shape.count) else {
            throw .shape(path: file.path, problem: "has \(shape.count) dimensions \(shape); expected "
                         + (layout == .channelsFirst ? "[N, C, *spatial]" : "[N, *spatial, C]")
                         + " with 0–3 spatial dimensions")
        }
        // A file with no elements can claim any sizes; the pixel counts per image are still their products.
        guard Tensor.nonZeroProduct(of: shape) != nil else {
            throw .shape(path: file.path, problem: "has sizes \(shape) whose product is more than an Int counts")
        }
        self.file = file
        self.layout = layout
        self.stride = stride
        images = shape[0]
        channels = layout == .channelsFirst ? shape[1] : shape[shape.count - 1]
        spatial = layout == .channelsFirst ? Array(shape.dropFirst(2)) : Array(shape.dropFirst().dropLast())
        outputSpatial = spatial.map { $0 == 0 ? 0 : ($0 - 1) / stride + 1 }
    }

    /// Reads output-grid pixels `first..<first + count` of image `image` into `destination`, as
    /// `[C, count]` (nchw) or `[count, C]` (nhwc) Float32; returns the element ranges of the file
    /// it read, each with the element below which its plane (or the file) has not been read, for
    /// `MappedNPY.release(_:backTo:)` once the tile is done.
    func read(image: Int, first: Int, count: Int, into destination: UnsafeMutablePointer<Float>,
              positions: inout [Int]) -> [(read: Range<Int>, floor: Int)] {
        let imageBase = image * channels * pixels
        if stride > 1 {
            positions.removeAll(keepingCapacity: true)
            for pixel in first..<first + count { positions.append(inputPosition(of: pixel)) }
        }
        switch layout {
        case .channelsFirst:
            for channel in 0..<channels {
                let plane = imageBase + channel * pixels
                if stride == 1 {
                    file.read(from: plane + first, count: count, into: destination + channel * count)
                } else {
                    for (i, position) in positions.enumerated() {
                        file.read(from: plane + position, count: 1, into: destination + channel * count + i)
                    }
                }
            }
        case .channelsLast:
            if stride == 1 {
                file.read(from: imageBase + first * channels, count: count * channels, into: destination)
            } else {
                for (i, position) in positions.enumerated() {
                    file.read(from: imageBase + position * channels, count: channels, into: destination + i * channels)
                }
            }
        }
        return ranges(image: image, first: first, count: count)
    }

    /// Starts loading the file elements a later `read` of these pixels needs (`MappedNPY.prefetch`).
    func prefetch(image: Int, first: Int, count: Int) {
        for (range, _) in ranges(image: image, first: first, count: count) { file.prefetch(range) }
    }

    /// The element ranges of the file that output-grid pixels `first..<first + count` of `image`
    /// lie in (one per channel plane, or one for channels-last), each with its plane's start.
    private func ranges(image: Int, first: Int, count: Int) -> [(read: Range<Int>, floor: Int)] {
        let imageBase = image * channels * pixels
        let firstPosition = inputPosition(of: first), lastPosition = inputPosition(of: first + count - 1)
        switch layout {
        case .channelsFirst:
            return (0..<channels).map { channel in
                let plane = imageBase + channel * pixels
                return ((plane + firstPosition)..<(plane + lastPosition + 1), plane)
            }
        case .channelsLast:
            return [((imageBase + firstPosition * channels)..<(imageBase + (lastPosition + 1) * channels), 0)]
        }
    }

    /// The file position (within an image) that output-grid position `pixel` samples.
    private func inputPosition(of pixel: Int) -> Int {
        var remainder = pixel, position = 0, scale = 1
        for axis in spatial.indices.reversed() {
            let coordinate = remainder % outputSpatial[axis]
            remainder /= outputSpatial[axis]
            position += coordinate * stride * scale
            scale *= spatial[axis]
        }
        return position
    }
}
