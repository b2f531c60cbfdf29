extension Tensor {
    /// Every pixel's channel vector as one row: `[N·P, C]`, where P is the positions per image,
    /// rows in the order `[N, *spatial]` (row-major). Shares storage when the tensor is already
    /// channels-last (a `[N·P, C]` tensor has the same memory in both layouts); copies otherwise.
    public var pixelRows: Tensor {
        let last = converted(to: .channelsLast)
        return Tensor(shape: [batchSize * pixelsPerImage, channels], layout: .channelsLast, count: count,
                      storage: last.storage, offset: last.offset)
    }

    /// Rows `[N·P, C]` (this tensor, in the order `pixelRows` gives) back as the images
    /// `[N, C, *spatial]`, channels-last, sharing storage.
    /// - Parameters:
    ///   - batchSize: N.
    ///   - spatialShape: the spatial dimensions, whose product P times N is the row count.
    /// - Throws: `TensorError.invalidShape` when the rows do not fill `[N, C, *spatial]`.
    public func images(batchSize: Int, spatialShape: [Int]) throws(TensorError) -> Tensor {
        let shape = [batchSize, channels] + spatialShape
        // Validated first: it bounds the product below.
        _ = try Tensor.validatedCount(of: shape)
        guard shape.count == 2 || self.shape.count == 2,
              batchSize * spatialShape.reduce(1, *) == self.shape[0] else { throw .invalidShape(shape: shape) }
        let rows = converted(to: .channelsLast)
        return Tensor(shape: shape, layout: .channelsLast, count: count, storage: rows.storage, offset: rows.offset)
    }
}
