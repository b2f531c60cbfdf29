import Foundation
import ZIPFoundation

/// Reads and writes NumPy `.npz` archives: ZIP files of `.npy` members, one per named array, as
/// `np.savez` (stored) and `np.savez_compressed` (deflated) write them.
///
/// Reading maps the archive and checks it as hostile input (see `ZipArchive`); stored
/// little-endian members are returned as views of the mapping, deflated ones inflate once.
/// Writing assembles the archive with ZIPFoundation in memory, then writes it atomically.
public enum NPZ {
    /// Reads every array of the archive at `path`.
    ///
    /// - Returns: The arrays in archive order, named without the `.npy` suffix (`np.savez(f, a, b)`
    ///   names them `arr_0`, `arr_1`), each of its file's element type and shape.
    /// - Throws: `NPZError` naming the archive and member: `.fileAccess`, `.archive` for a
    ///   corrupt, encrypted or implausibly sized (zip bomb) archive, `.notNPY`,
    ///   `.duplicateName`, or `.array` for a malformed `.npy` member.
    public static func read(path: String) throws(NPZError) -> [(name: String, array: RawArray)] {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw .fileAccess(error)
        }
        return try read(file)
    }

    /// Reads every array of an archive held in memory (a copy is kept for the arrays to borrow).
    ///
    /// - Parameters:
    ///   - data: The complete archive.
    ///   - name: A file path or label that starts every error message.
    /// - Returns: The arrays, as `read(path:)` returns them.
    /// - Throws: `NPZError`, as for `read(path:)` (never `.fileAccess`).
    public static func decode(_ data: Data, name: String) throws(NPZError) -> [(name: String, array: RawArray)] {
        try read(MappedFile(copying: data, path: name))
    }

    /// The arrays of the archive in `file`, labelled with its path.
    private static func read(_ file: MappedFile) throws(NPZError) -> [(name: String, array: RawArray)] {
        let path = file.path
        let archive: ZipArchive
        do {
            archive = try ZipArchive(file: file)
        } catch {
            throw .archive(error)
        }
        // Check every name before inflating anything.
        var names: [String] = []
        var seen = Set<String>()
        for member in archive.members {
            guard member.name.hasSuffix(".npy") else { throw .notNPY(path: path, member: member.name) }
            let name = String(member.name.dropLast(4))
            guard seen.insert(name).inserted else { throw .duplicateName(path: path, name: name) }
            names.append(name)
        }
        var arrays: [(name: String, array: RawArray)] = []
        for (name, member) in zip(names, archive.members) {
            let contents: (bytes: UnsafeRawBufferPointer, owner: AnyObject)
            do {
                contents = try archive.contents(of: member)
            } catch {
                throw .archive(error)
            }
            do {
                let label = "\(path) member '\(member.name)'"
                let array = try NPY.decodeArray(bytes: contents.bytes, name: label, borrowing: contents.owner)
                arrays.append((name, array))
            } catch {
                throw .array(error)
            }
        }
        return arrays
    }

    /// Writes `arrays` to `path` as an `.npz` archive, atomically.
    ///
    /// Each array becomes the member `NAME.npy`, encoded as `np.save` writes it, dated
    /// 1980-01-01 like NumPy's members so the same arrays always give the same bytes.
    ///
    /// - Parameters:
    ///   - arrays: Named arrays; names must be distinct, and no array may be bfloat16.
    ///   - compressed: Deflate the members, as `np.savez_compressed` does (default: stored,
    ///     as `np.savez`).
    ///   - path: The destination; an existing file is replaced.
    /// - Throws: `NPZError.duplicateName` or `.unsupportedElementType` before touching the disk,
    ///   `.fileAccess` if the archive cannot be written.
    public static func write(_ arrays: [(name: String, array: RawArray)], compressed: Bool = false,
                             to path: String) throws(NPZError) {
        var seen = Set<String>()
        let headers = try arrays.map { (name, array) throws(NPZError) -> Data in
            guard seen.insert(name).inserted else { throw .duplicateName(path: path, name: name) }
            guard let descr = NPY.descr(for: array.elementType) else {
                throw .unsupportedElementType(path: path, name: name, elementType: array.elementType)
            }
            return Data(NPY.makeHeader(shape: array.shape, descr: descr))
        }
        // Assembled in memory, then written atomically: a file-backed ZIPFoundation archive leaks
        // its path on Linux (FileManager.fileSystemRepresentation(withPath:) returns memory the
        // caller must free, which ZIPFoundation 0.9.20 never frees).
        let contents: Data
        do {
            let archive = try Archive(accessMode: .create)
            for ((name, array), header) in zip(arrays, headers) {
                let size = Int64(header.count + array.bytes.count)
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: size,
                                     modificationDate: memberDate,
                                     compressionMethod: compressed ? .deflate : .none) {
                    chunk(of: header, then: array.bytes, at: Int($0), count: $1)
                }
            }
            contents = archive.data!  // an in-memory archive always has its data
        } catch {
            throw .fileAccess(FileAccessError(path: path, reason: "cannot write the archive (\(error))"))
        }
        do {
            try AtomicFile.write(contents, to: path)
        } catch {
            throw .fileAccess(error)
        }
    }

    /// 1980-01-01 00:00:00 UTC, the date NumPy gives every member.
    private static let memberDate = Date(timeIntervalSince1970: 315_532_800)

    /// Bytes `position..<position + count` of `header` followed by `body`.
    private static func chunk(of header: Data, then body: UnsafeRawBufferPointer,
                              at position: Int, count: Int) -> Data {
        var data = Data(capacity: count)
        let end = position + count
        if position < header.count {
            data.append(header[(header.startIndex + position)..<(header.startIndex + min(end, header.count))])
        }
        let bodyRange = max(position - header.count, 0)..<(end - header.count)
        if !bodyRange.isEmpty, let base = body.baseAddress {
            let start = (base + bodyRange.lowerBound).assumingMemoryBound(to: UInt8.self)
            data.append(start, count: bodyRange.count)
        }
        return data
    }
}
