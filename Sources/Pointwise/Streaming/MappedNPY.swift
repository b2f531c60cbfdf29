import Foundation

/// A float .npy file mapped into memory and read a piece at a time, for arrays larger than
/// memory: nothing is read until asked for, contiguous pieces are read with `pread` (no pages of
/// the process hold them), and `release(_:backTo:)` hands back the pages strided reads touched.
///
/// Accepts what `NPY.read` accepts: float16, float32 and float64, either byte order, C order,
/// format versions 1.0–3.0. The header is validated on opening, including that the file holds
/// all the data the shape promises.
public final class MappedNPY: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The array's shape.
    public let shape: [Int]
    /// The number of elements.
    public let count: Int

    private let file: MappedFile
    /// Where the array's bytes start in the file.
    private let dataOffset: Int
    private let kind: NPY.ElementKind
    private let bigEndian: Bool
    /// Whether a read went through the mapping (so its pages may be resident). Streaming reads
    /// a file from one thread at a time.
    private var touchedMapping = false

    /// Maps and validates the .npy file at `path`.
    /// - Throws: `NPYError` naming the file: missing, unreadable, not .npy, not a float dtype,
    ///   Fortran order, an overflowing shape, or data shorter than the shape needs.
    public init(path: String) throws(NPYError) {
        do {
            file = try MappedFile(path: path)
        } catch {
            throw error.isMissing ? .fileNotFound(path: path) : .unreadable(path: path, reason: error.reason)
        }
        self.path = path
        let (header, data) = try NPY.split(file.bytes, name: path, kinds: NPY.floatKinds)
        shape = header.shape
        count = shape.reduce(1, *)
        kind = header.kind
        bigEndian = header.bigEndian
        let fileStart = file.bytes.baseAddress
        dataOffset = data.baseAddress.map { $0 - fileStart! } ?? file.bytes.count
        file.adviseSequential()
    }

    /// Bytes per element in the file.
    public var elementSize: Int { kind.size }

    /// Converts `count` elements starting at element `index` to Float32 into `destination`; with
    /// a `stride` above 1 the elements read are `index`, `index + stride`, ….
    ///
    /// Contiguous runs of at least `preadBytes` (stride 1) are read with `pread`
    /// (`MappedFile.read(_:into:)`): float32 in the host's byte order lands straight in
    /// `destination`, other kinds go through a small staging buffer. That maps no page, so nothing
    /// needs releasing afterwards. Strided elements and short runs (a strided tile's pixels) are
    /// read through the mapping, where a system call per few bytes would cost more than the page
    /// faults; `release(_:backTo:)` then hands those pages back.
    /// - Precondition: every element read lies inside the array.
    func read(from index: Int, count: Int, stride: Int = 1, into destination: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        precondition(index >= 0 && index + (count - 1) * stride < self.count, "MappedNPY.read: out of range")
        let size = kind.size
        let offset = dataOffset + index * size
        if stride == 1 && count * size >= Self.preadBytes {
            readContiguous(at: offset, count: count, into: destination)
            return
        }
        touchedMapping = true
        let start = file.bytes.baseAddress! + offset
        if stride == 1 {
            NPY.convert(UnsafeRawBufferPointer(start: start, count: count * size), kind: kind, bigEndian: bigEndian,
                        into: UnsafeMutableBufferPointer(start: destination, count: count))
            return
        }
        for i in 0..<count {
            NPY.convert(UnsafeRawBufferPointer(start: start + i * stride * size, count: size), kind: kind,
                        bigEndian: bigEndian, into: UnsafeMutableBufferPointer(start: destination + i, count: 1))
        }
    }

    /// The shortest run worth a `pread` of its own: a page.
    static let preadBytes = MappedFile.pageSize

    /// Elements converted per staging step when the file's elements are not host float32.
    private static let stagingElements = 16_384

    /// Reads `count` contiguous elements at byte `offset` with `pread`, converting as needed.
    private func readContiguous(at offset: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        let size = kind.size
        if kind == .float32 && bigEndian != NPY.hostIsLittleEndian {
            file.read(offset..<offset + count * size, into: destination)
            return
        }
        withUnsafeTemporaryAllocation(byteCount: Self.stagingElements * size, alignment: 16) { staging in
            var done = 0
            while done < count {
                let step = min(Self.stagingElements, count - done)
                let start = offset + done * size
                file.read(start..<start + step * size, into: staging.baseAddress!)
                NPY.convert(UnsafeRawBufferPointer(rebasing: staging[..<(step * size)]), kind: kind,
                            bigEndian: bigEndian, into: UnsafeMutableBufferPointer(start: destination + done, count: step))
                done += step
            }
        }
    }

    /// Asks the system to start loading elements `range` from the disk (`MappedFile.prefetch`),
    /// so that reading them later does not wait.
    func prefetch(_ range: Range<Int>) {
        file.prefetch((dataOffset + range.lowerBound * kind.size)..<(dataOffset + range.upperBound * kind.size))
    }

    /// Done with elements `range`: hands back the pages a strided read mapped, and the margin
    /// before them down to element `floor` (`MappedFile.release(_:backTo:)`); with `dropping`,
    /// also drops them from the page cache (`MappedFile.dropFromCache(_:backTo:)`). The elements
    /// stay readable.
    func release(_ range: Range<Int>, backTo floor: Int, dropping: Bool = false) {
        let bytes = (dataOffset + range.lowerBound * kind.size)..<(dataOffset + range.upperBound * kind.size)
        let floorByte = dataOffset + floor * kind.size
        if touchedMapping { file.release(bytes, backTo: floorByte) }
        if dropping { file.dropFromCache(bytes, backTo: floorByte) }
    }
}
