import Foundation

/// Writes safetensors files; `SafeTensorsFile` reads them.
public enum SafeTensors {
    /// Writes `arrays` to `path` as a safetensors file, atomically, streaming each array's bytes
    /// from where it lies (nothing is assembled in memory but the header).
    ///
    /// The header is compact JSON like the reference writer's: `__metadata__` first (omitted when
    /// empty; keys sorted), then the tensors in the order given, laid out back to back, padded
    /// with spaces to a multiple of 8 bytes. The reference writer orders tensors by dtype size,
    /// then name; given in that order, the same arrays produce the same bytes.
    ///
    /// - Parameters:
    ///   - arrays: Named arrays; names must be distinct and not `__metadata__`.
    ///   - metadata: Free-form strings stored in the header.
    ///   - path: The destination; an existing file is replaced.
    /// - Throws: `SafeTensorsError.duplicateName` or `.reservedName` before touching the disk,
    ///   `.fileAccess` if the file cannot be written.
    public static func write(_ arrays: [(name: String, array: RawArray)], metadata: [String: String] = [:],
                             to path: String) throws(SafeTensorsError) {
        let header = try header(for: arrays, metadata: metadata, path: path)
        do {
            try AtomicFile.write(to: path) { (handle: FileHandle) throws(FileAccessError) in
                try write(Data(header), to: handle, path: path)
                for (_, array) in arrays {
                    guard let base = array.bytes.baseAddress, array.bytes.count > 0 else { continue }
                    // The array outlives the write, so its bytes can be wrapped without a copy.
                    let bytes = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base),
                                     count: array.bytes.count, deallocator: .none)
                    try write(bytes, to: handle, path: path)
                }
            }
        } catch {
            throw .fileAccess(error)
        }
    }

    private static func write(_ data: Data, to handle: FileHandle, path: String) throws(FileAccessError) {
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw FileAccessError(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// The 8-byte length and the padded JSON header for `arrays` laid out in order.
    static func header(for arrays: [(name: String, array: RawArray)], metadata: [String: String],
                       path: String) throws(SafeTensorsError) -> [UInt8] {
        try header(for: arrays.map { ($0.name, $0.array.elementType, $0.array.shape) }, metadata: metadata, path: path)
    }

    /// The 8-byte length and the padded JSON header for tensors of these types and shapes laid
    /// out back to back in order (for writers that stream the data afterwards).
    static func header(for tensors: [(name: String, elementType: ElementType, shape: [Int])],
                       metadata: [String: String], path: String) throws(SafeTensorsError) -> [UInt8] {
        var seen = Set<String>()
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\(quoted($0.value))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, elementType, shape) in tensors {
            guard name != "__metadata__" else { throw .reservedName(path: path) }
            guard seen.insert(name).inserted else { throw .duplicateName(path: path, name: name) }
            let end = offset + shape.reduce(1, *) * elementType.byteCount
            let dimensions = shape.map(String.init).joined(separator: ",")
            members.append("\(quoted(name)):{\"dtype\":\"\(elementType.rawValue)\",\"shape\":[\(dimensions)],"
                + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array("{\(members.joined(separator: ","))}".utf8)
        json += repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json
    }

    /// `text` as a JSON string literal, escaped as serde_json (the reference writer) escapes it.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
