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
}
