import Foundation

/// A float .npy file mapped into memory and read a piece at a time, for arrays larger than
/// memory: nothing is read until asked for, and `release(_:)` hands pages back once used.
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
    /// - Precondition: every element read lies inside the array.
    func read(from index: Int, count: Int, stride: Int = 1, into destination: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        precondition(index >= 0 && index + (count - 1) * stride < self.count, "MappedNPY.read: out of range")
        let size = kind.size
        let start = file.bytes.baseAddress! + dataOffset + index * size
        if stride == 1 {
            NPY.convert(UnsafeRawBufferPointer(start: start, count: count * size), kind: kind, bigEndian: bigEndian,
                        into: UnsafeMutableBufferPointer(start: destination, count: count))
        } else {
            for i in 0..<count {
                NPY.convert(UnsafeRawBufferPointer(start: start + i * stride * size, count: size), kind: kind,
                            bigEndian: bigEndian, into: UnsafeMutableBufferPointer(start: destination + i, count: 1))
            }
        }
    }

    /// Lets the system take back the memory holding elements `range`, and the margin before it
    /// down to element `floor` (`MappedFile.release(_:backTo:)`); they stay readable.
    func release(_ range: Range<Int>, backTo floor: Int) {
        file.release((dataOffset + range.lowerBound * kind.size)..<(dataOffset + range.upperBound * kind.size),
                     backTo: dataOffset + floor * kind.size)
    }
}
