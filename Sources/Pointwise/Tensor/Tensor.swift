/// A Float32 tensor of shape `[N, C, *spatial]` (0 to 3 spatial dimensions) in either layout.
///
/// `shape` is always logical (`[N, C, H, W]` for an image batch) whatever the memory `layout`.
/// Tensors are values: copies share storage until one of them is written (copy-on-write), and
/// `batch(_:)` views share storage with the tensor they come from.
public struct Tensor: @unchecked Sendable {
    /// The logical shape `[N, C, *spatial]`.
    public let shape: [Int]
    /// How the elements are ordered in memory.
    public let layout: Layout
    /// The number of elements.
    public let count: Int
    /// The number of spatial positions per image (1 when there are no spatial dimensions).
    public let pixelsPerImage: Int
    /// Memory strides of the logical axes: batch, channel and (linear) spatial position.
    let strides: (batch: Int, channel: Int, position: Int)
    var storage: TensorStorage
    var offset: Int

    /// A zero-filled tensor.
    /// - Parameters:
    ///   - shape: the logical shape `[N, C, *spatial]`, with 0 to 3 spatial dimensions.
    ///   - layout: the memory order.
    /// - Throws: `TensorError` when the shape has the wrong rank or invalid dimensions.
    public init(zeros shape: [Int], layout: Layout = .channelsFirst) throws(TensorError) {
        let count = try Tensor.validatedCount(of: shape)
        self.init(shape: shape, layout: layout, count: count, storage: TensorStorage(count: count), offset: 0)
    }

    /// A tensor holding `values` in memory order (`[N, C, *spatial]` for channels-first,
    /// `[N, *spatial, C]` for channels-last).
    /// - Parameters:
    ///   - shape: the logical shape `[N, C, *spatial]`.
    ///   - layout: the memory order of `values`.
    ///   - values: exactly `shape.reduce(1, *)` elements.
    /// - Throws: `TensorError` for a bad shape or a value count that does not match it.
    public init(shape: [Int], layout: Layout = .channelsFirst, values: [Float]) throws(TensorError) {
        let count = try Tensor.validatedCount(of: shape)
        guard values.count == count else {
            throw .valueCountMismatch(shape: shape, expected: count, actual: values.count)
        }
        let storage = TensorStorage(count: count)
        values.withUnsafeBufferPointer { source in
            if count > 0 { storage.pointer.update(from: source.baseAddress!, count: count) }
        }
        self.init(shape: shape, layout: layout, count: count, storage: storage, offset: 0)
    }

    init(shape: [Int], layout: Layout, count: Int, storage: TensorStorage, offset: Int) {
        self.shape = shape
        self.layout = layout
        self.count = count
        self.storage = storage
        self.offset = offset
        let channels = shape.count > 1 ? shape[1] : 0
        pixelsPerImage = shape.dropFirst(2).reduce(1, *)
        strides = layout == .channelsFirst
            ? (channels * pixelsPerImage, pixelsPerImage, 1) : (channels * pixelsPerImage, 1, channels)
    }

    /// The most elements a tensor may have (2³⁷ − 64, Int32.max · 64: just under 512 GiB of
    /// Float32), and the most the product of an empty tensor's other dimensions may reach.
    public static let maximumCount = Int(Int32.max) * 64

    /// Checks that `shape` is `[N, C, *spatial]` with 0–3 spatial dimensions and returns its count.
    /// An empty tensor's other dimensions are bounded too: its per-image size and strides are
    /// products of them.
    static func validatedCount(of shape: [Int]) throws(TensorError) -> Int {
        guard (2...5).contains(shape.count) else { throw .unsupportedRank(shape: shape) }
        guard let product = nonZeroProduct(of: shape), product <= maximumCount else {
            throw .invalidShape(shape: shape)
        }
        return shape.contains(0) ? 0 : product
    }

    /// The product of `shape`'s non-zero dimensions, or nil when one is negative or the product
    /// overflows `Int`. Every partial product of `shape` (a per-image size, a stride) is at most this.
    static func nonZeroProduct(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape where dimension != 0 {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard dimension > 0, !overflow else { return nil }
            product = next
        }
        return product
    }
}

// MARK: - Dimensions

extension Tensor {
    /// N, the number of images (or samples) in the batch.
    public var batchSize: Int { shape[0] }
    /// C, the number of channels.
    public var channels: Int { shape[1] }
    /// The spatial dimensions (`[]`, `[L]`, `[H, W]` or `[D, H, W]`).
    public var spatialShape: [Int] { Array(shape.dropFirst(2)) }
    /// The shape in memory order: `[N, C, *spatial]` or `[N, *spatial, C]`.
    public var memoryShape: [Int] {
        layout == .channelsFirst ? shape : [shape[0]] + spatialShape + [shape[1]]
    }

    /// Elements in memory order, copied out.
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }
}

// MARK: - Storage access

extension Tensor {
    /// Calls `body` with the elements in memory order.
    public func withUnsafeBufferPointer<R, E>(
        _ body: (UnsafeBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// Calls `body` with the elements in memory order, for writing. Copies the storage first when
    /// it is shared with another tensor, so other values never change.
    public mutating func withUnsafeMutableBufferPointer<R, E>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeMutableBufferPointer(start: mutablePointer(), count: count))
    }

    /// The flat memory index of the logical element `(n, c, s)`, where `s` is the linear index of
    /// the spatial position (row-major over the spatial dimensions).
    @inline(__always)
    public func memoryIndex(batch n: Int, channel c: Int, position s: Int) -> Int {
        n * strides.batch + c * strides.channel + s * strides.position
    }

    /// The element at logical batch `n`, channel `c` and linear spatial position `s`.
    public subscript(batch n: Int, channel c: Int, position s: Int) -> Float {
        storage.pointer[offset + memoryIndex(batch: n, channel: c, position: s)]
    }
}

// MARK: - Batch views

extension Tensor {
    /// The images `range` of the batch, sharing storage with this tensor (no copy).
    /// - Throws: `TensorError.batchOutOfRange` when `range` is not inside `0..<N`.
    public func batches(_ range: Range<Int>) throws(TensorError) -> Tensor {
        guard range.lowerBound >= 0, range.upperBound <= batchSize else {
            throw .batchOutOfRange(requested: "\(range)", batchSize: batchSize)
        }
        let perImage = batchSize == 0 ? 0 : count / batchSize
        return Tensor(
            shape: [range.count] + shape.dropFirst(), layout: layout, count: perImage * range.count,
            storage: storage, offset: offset + perImage * range.lowerBound)
    }

    /// Image `n` of the batch as a batch of one, sharing storage with this tensor (no copy).
    /// - Throws: `TensorError.batchOutOfRange` when `n` is not inside `0..<N`.
    public func batch(_ n: Int) throws(TensorError) -> Tensor {
        guard n >= 0, n < batchSize else { throw .batchOutOfRange(requested: "\(n)", batchSize: batchSize) }
        return try batches(n..<(n + 1))
    }
}

// MARK: - Storage

/// A 64-byte-aligned buffer of Float32, owned by one or more tensors.
final class TensorStorage {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocateOnCacheLines(max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Storage whose contents are whatever the allocator returned (Float is a trivial type).
    init(uninitializedCount count: Int) {
        self.count = count
        pointer = .allocateOnCacheLines(max(count, 1))
    }

    deinit { pointer.deallocate() }
}

extension UnsafeMutablePointer<Float> {
    /// Room for `count` floats (uninitialized) starting on a 64-byte cache line: tensors, packed
    /// operands and kernel scratch, whose rows of 16 floats are then whole lines. Freed with
    /// `deallocate()`.
    static func allocateOnCacheLines(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }
}

// MARK: - Internal access for kernels

extension Tensor {
    /// A placeholder with no elements, used to move a tensor out of a struct without copying.
    static var empty: Tensor { Tensor(shape: [0, 0], layout: .channelsFirst, count: 0, storage: TensorStorage(count: 0), offset: 0) }

    /// A zero tensor with `other`'s shape and layout.
    static func zeros(like other: Tensor) -> Tensor {
        Tensor(shape: other.shape, layout: other.layout, count: other.count,
               storage: TensorStorage(count: other.count), offset: 0)
    }

    /// A tensor with `other`'s shape and layout whose contents are unspecified, for a loop that
    /// writes every element (no pass of zeroing first).
    static func uninitialized(like other: Tensor) -> Tensor {
        Tensor(shape: other.shape, layout: other.layout, count: other.count,
               storage: TensorStorage(uninitializedCount: other.count), offset: 0)
    }

    /// The first element, for reading. Valid while this tensor value is alive and unmodified.
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer + offset) }

    /// The first element, for writing, after making the storage unique. Valid while this tensor
    /// value is alive and not copied.
    mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        if !isKnownUniquelyReferenced(&storage) || offset != 0 || storage.count < count {
            let copy = TensorStorage(count: count)
            if count > 0 { copy.pointer.update(from: storage.pointer + offset, count: count) }
            storage = copy
            offset = 0
        }
        return storage.pointer
    }

    /// Makes this tensor `shape` in `layout` for a kernel to overwrite entirely (the contents are
    /// then unspecified): an output that already fits stays as it is; otherwise its storage is
    /// kept when no other tensor shares it and it holds enough elements, so that a workspace
    /// buffer serves layers of different shapes without allocating; else new storage is allocated
    /// and left unset (no pass of zeroing, nor the page faults of touching fresh memory twice).
    /// - Throws: `TensorError` when the shape is invalid.
    mutating func prepareOutput(shape: [Int], layout: Layout) throws(TensorError) {
        if self.shape == shape && self.layout == layout { return }
        let count = try Tensor.validatedCount(of: shape)
        let keep = count > 0 && offset == 0 && storage.count >= count && isKnownUniquelyReferenced(&storage)
        self = Tensor(shape: shape, layout: layout, count: count,
                      storage: keep ? storage : TensorStorage(uninitializedCount: count), offset: 0)
    }

    /// self += other, elementwise in memory order (same shape and layout).
    mutating func add(_ other: Tensor) {
        let target = mutablePointer(), source = other.pointer
        for i in 0..<count { target[i] += source[i] }
    }
}
