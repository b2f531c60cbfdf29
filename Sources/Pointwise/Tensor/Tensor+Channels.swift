extension Tensor {
    /// Calls `body` with the memory index of every element of channel `c`, image by image and
    /// position by position (the order is the same in both layouts).
    func forEachIndex(inChannel c: Int, _ body: (Int) -> Void) {
        for n in 0..<batchSize {
            var index = memoryIndex(batch: n, channel: c, position: 0)
            for _ in 0..<pixelsPerImage {
                body(index)
                index += strides.position
            }
        }
    }

    /// sums[c] += Σ over images and positions of self[n, c, s], in a fixed order (a bias gradient).
    func addChannelSums(into sums: inout [Float]) {
        let pixels = pixelsPerImage, channels = self.channels, source = pointer
        sums.withUnsafeMutableBufferPointer { sums in
            switch layout {
            case .channelsFirst:
                for n in 0..<batchSize {
                    for c in 0..<channels {
                        let plane = source + (n * channels + c) * pixels
                        var sum: Float = 0
                        for s in 0..<pixels { sum += plane[s] }
                        sums[c] += sum
                    }
                }
            case .channelsLast:
                for row in 0..<batchSize * pixels {
                    let vector = source + row * channels
                    for c in 0..<channels { sums[c] += vector[c] }
                }
            }
        }
    }
}
