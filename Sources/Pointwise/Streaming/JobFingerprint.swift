/// A 64-bit FNV-1a hash of what defines a streamed job (the computation's parameters, the input's
/// shape and layout), written into shard parts so parts of different jobs are never merged.
/// Not a cryptographic hash: it guards against mistakes, not adversaries.
struct JobFingerprint {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Mixes in raw bytes.
    mutating func combine(bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            state ^= UInt64(byte)
            state = state &* 0x0000_0100_0000_01b3
        }
    }

    /// Mixes in a text (a kind, a setting).
    mutating func combine(text: String) {
        var text = text
        text.withUTF8 { combine(bytes: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { combine(bytes: $0) }  // a separator: "ab"+"c" ≠ "a"+"bc"
    }

    /// Mixes in integers (shapes).
    mutating func combine(shape values: [Int]) {
        values.withUnsafeBytes { combine(bytes: $0) }
        withUnsafeBytes(of: Int.min) { combine(bytes: $0) }
    }

    /// Mixes in floats (weights).
    mutating func combine(floats values: [Float]) {
        values.withUnsafeBytes { combine(bytes: $0) }
    }

    /// The hash as 16 hex digits.
    var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
