extension Tensor {
    /// This tensor with its elements reordered into `layout` (the same tensor when it already is).
    public func converted(to layout: Layout) -> Tensor {
        guard layout != self.layout else { return self }
        let result = Tensor(
            shape: shape, layout: layout, count: count, storage: TensorStorage(count: count), offset: 0)
        let images = batchSize, channels = self.channels, pixels = pixelsPerImage
        let source = storage.pointer + offset, target = result.storage.pointer
        // Transpose each image's [C, P] ⇄ [P, C] matrix in square blocks, so both sides of the copy
        // walk through cache lines rather than across them.
        let (rows, columns) = self.layout == .channelsFirst ? (channels, pixels) : (pixels, channels)
        let block = 32
        for n in 0..<images {
            let from = source + n * rows * columns, to = target + n * rows * columns
            for r0 in stride(from: 0, to: rows, by: block) {
                for c0 in stride(from: 0, to: columns, by: block) {
                    for r in r0..<min(r0 + block, rows) {
                        for c in c0..<min(c0 + block, columns) { to[c * rows + r] = from[r * columns + c] }
                    }
                }
            }
        }
        return result
    }
}
