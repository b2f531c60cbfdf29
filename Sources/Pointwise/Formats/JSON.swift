/// A JSON value as file headers (safetensors) need it.
///
/// Objects keep their members in file order, duplicates included: `JSONSerialization` silently
/// keeps one of two equal keys, and a header whose tensor names repeat must be rejected, not
/// half-read.
enum JSONValue {
    case object([JSONMember])
    case array([JSONValue])
    case string(String)
    /// A number: its text, and its value when the text is an integer that fits in `Int`.
    case number(text: String, integer: Int?)
    case bool(Bool)
    case null
}

/// One `"key": value` member of a JSON object.
struct JSONMember {
    var key: String
    var value: JSONValue
}

/// A strict RFC 8259 parser over bytes that are already known to be valid UTF-8.
///
/// It never reads past the end of its input, caps nesting so hostile input cannot exhaust the
/// stack, and rejects `\u` escapes that are lone surrogates (they have no UTF-8 form).
struct JSONParser: ByteScanning {
    /// Why the text is not JSON, with the offset where parsing stopped.
    typealias Failure = ScanFailure

    private static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    var position = 0
    private var depth = 0

    /// A parser over `bytes`, which must be valid UTF-8.
    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Parses one value followed only by whitespace.
    mutating func parseDocument() throws(Failure) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected text after the JSON value") }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard let byte = peek() else { throw fail("the text ends where a value should start") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default:
            for (word, value) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)]
            where bytes[position...].starts(with: word.utf8) {
                position += word.utf8.count
                return value
            }
            throw fail("unexpected character")
        }
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var members: [JSONMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            members.append(JSONMember(key: key, value: try parseValue()))
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect("}")
            return .object(members)
        }
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect("]")
            return .array(items)
        }
    }

    /// Consumes the opening bracket of an object or array, refusing to nest too deeply.
    private mutating func enterContainer() throws(Failure) {
        guard depth < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) levels deep") }
        depth += 1
        position += 1
    }

    // MARK: - Strings

    private mutating func parseString() throws(Failure) -> String {
        let start = position
        position += 1
        var content: [UInt8] = []
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: content, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try appendEscape(to: &content)
            case 0..<0x20:
                throw fail("a control character must be escaped inside a string")
            default:
                content.append(byte)
                position += 1
            }
        }
        position = start
        throw fail("unterminated string")
    }

    /// Decodes the escape after a backslash and appends its UTF-8 bytes.
    private mutating func appendEscape(to content: inout [UInt8]) throws(Failure) {
        guard let letter = peek() else { throw fail("the text ends inside an escape") }
        position += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A,
            UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let byte = simple[letter] {
            content.append(byte)
            return
        }
        guard letter == UInt8(ascii: "u") else { throw fail("invalid escape") }
        var code = try parseHex4()
        if (0xD800..<0xDC00).contains(code) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard bytes[position...].starts(with: "\\u".utf8) else { throw fail("lone surrogate") }
            position += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate") }
            code = 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw fail("lone surrogate") }
        content.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Self.hexDigit(byte) else {
                throw fail("\\u must be followed by four hex digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    // MARK: - Numbers

    /// Parses `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        let integerDigits = skipDigits()
        guard integerDigits > 0 else { throw fail("expected digits") }
        guard integerDigits == 1 || bytes[position - integerDigits] != UInt8(ascii: "0") else {
            throw fail("leading zeros are not allowed")
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard skipDigits() > 0 else { throw fail("expected digits after the decimal point") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw fail("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        return .number(text: text, integer: isInteger ? Int(text) : nil)
    }

    /// Skips a run of decimal digits and returns how many there were.
    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        return position - start
    }
}
