/// The cursor that the hand-written text parsers (.npy headers, safetensors' JSON) share: the
/// bytes, a position that never passes their end, and failures that quote where parsing stopped.
protocol ByteScanning {
    associatedtype Bytes: RandomAccessCollection where Bytes.Element == UInt8, Bytes.Index == Int
    /// The text being parsed.
    var bytes: Bytes { get }
    /// The offset of the next byte to read.
    var position: Int { get set }
}

/// Why a text could not be parsed, with the offset and the text where parsing stopped.
struct ScanFailure: Error {
    var reason: String
}

extension ByteScanning {
    /// The next byte, or nil at the end.
    func peek() -> UInt8? {
        position < bytes.endIndex ? bytes[position] : nil
    }

    /// Skips spaces, tabs and line breaks.
    mutating func skipWhitespace() {
        while let byte = peek(), [0x20, 0x09, 0x0A, 0x0D].contains(byte) { position += 1 }
    }

    /// Consumes `scalar`, or fails.
    mutating func expect(_ scalar: Unicode.Scalar) throws(ScanFailure) {
        guard peek() == UInt8(ascii: scalar) else { throw fail("expected '\(scalar)'") }
        position += 1
    }

    /// A failure quoting the text at the current position, so the user can find the problem.
    func fail(_ message: String) -> ScanFailure {
        let context = String(decoding: bytes[position...].prefix(20), as: UTF8.self)
        let location = context.isEmpty ? "at the end" : "at offset \(position) near \"\(context)\""
        return ScanFailure(reason: "\(message) \(location)")
    }
}
