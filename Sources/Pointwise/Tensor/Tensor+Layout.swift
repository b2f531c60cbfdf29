extension Tensor {
    /// This tensor with its elements reordered into `layout` (the same tensor when it already is).
    public func converted(to layout: Layout) -> Tensor {
        guard layout != self.layout else { return self }
        let result = Tensor(
            shape: shape, layout: layout, count: count, storage: TensorStorage(count: count), offset: 0)
        let images = batchSize, channels = self.channels, pixels = pixelsPerImage
        let source = storage.pointer + offset, target = result.storage.pointer
        // Each image's [C, P] ⇄ [P, C] matrix is transposed by the kernels (8×8 register transposes).
        let (rows, columns) = self.layout == .channelsFirst ? (channels, pixels) : (pixels, channels)
        let transpose = KernelConfig.best.table.pointee.transpose!
        for n in 0..<images {
            transpose(source + n * rows * columns, rows, columns, target + n * rows * columns)
        }
        return result
    }
}
