import Foundation
import Testing
import Pointwise

extension SafeTensorsTests {
    /// One malformed file and the error it must produce.
    struct HostileCase: Sendable, CustomTestStringConvertible {
        enum Expected: Sendable {
            case error(SafeTensorsError)
            /// `.malformedHeader` with any reason (reasons quote offsets; their form is checked elsewhere).
            case malformedHeader
        }

        var label: String
        var path: String
        var data: Data
        var expected: Expected
        var testDescription: String { label }
    }

    @Suite("hostile input")
    struct HostileInput {
        // MARK: - Building files

        /// An 8-byte little-endian length (the header's own unless given), the header, and
        /// `dataCount` data bytes.
        static func file(_ header: String, length: UInt64? = nil, dataCount: Int = 0) -> Data {
            file(Array(header.utf8), length: length, dataCount: dataCount)
        }

        static func file(_ header: [UInt8], length: UInt64? = nil, dataCount: Int = 0) -> Data {
            let lengthBytes = withUnsafeBytes(of: (length ?? UInt64(header.count)).littleEndian, Array.init)
            return Data(lengthBytes + header + [UInt8](repeating: 0xAB, count: dataCount))
        }

        /// One tensor entry.
        static func entry(_ name: String, _ dtype: String = "F32", shape: String, offsets: String) -> String {
            "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
        }

        /// A file holding the one tensor `a`.
        static func single(_ dtype: String = "F32", shape: String, offsets: String,
                           dataCount: Int = 0) -> Data {
            file("{" + entry("a", dtype, shape: shape, offsets: offsets) + "}", dataCount: dataCount)
        }

        /// A file holding the tensors `entries`.
        static func several(_ entries: [String], dataCount: Int) -> Data {
            file("{" + entries.joined(separator: ",") + "}", dataCount: dataCount)
        }

        static func error(_ label: String, _ data: Data,
                          _ expected: (_ path: String) -> SafeTensorsError) -> HostileCase {
            let path = FormatFixtures.scratchPath("hostile", extension: "safetensors")
            return HostileCase(label: label, path: path, data: data, expected: .error(expected(path)))
        }

        static func malformed(_ label: String, _ header: String) -> HostileCase {
            malformed(label, file(header))
        }

        static func malformed(_ label: String, _ data: Data) -> HostileCase {
            let path = FormatFixtures.scratchPath("hostile", extension: "safetensors")
            return HostileCase(label: label, path: path, data: data, expected: .malformedHeader)
        }

        static let a8 = entry("a", shape: "[2]", offsets: "[0,8]")

        // MARK: - The table

        static let cases: [HostileCase] = [
            // Truncated at every section: the length, the header, the data.
            error("empty file", Data()) { .tooShort(path: $0, size: 0) },
            error("truncated header length", Data([2, 0, 0, 0, 0])) { .tooShort(path: $0, size: 5) },
            error("header length larger than the file", file("{}", length: 1000)) {
                .headerBeyondFile(path: $0, length: 1000, fileSize: 10)
            },
            error("truncated header", file("{\(a8)}", length: 200)) {
                .headerBeyondFile(path: $0, length: 200, fileSize: 8 + 54)
            },
            error("truncated data", file("{\(a8)}", dataCount: 5)) {
                .offsetsOutOfBounds(path: $0, tensor: "a", begin: 0, end: 8, bufferSize: 5)
            },
            error("header claims more than 100 MB", file("{}", length: 100_000_001)) {
                .headerTooLarge(path: $0, length: 100_000_001)
            },
            error("header length near 2^64", file("{}", length: .max)) {
                .headerTooLarge(path: $0, length: .max)
            },

            // Not a JSON object, not UTF-8, not JSON.
            error("zero-length header", file("")) { .headerNotObject(path: $0) },
            error("header is a JSON array", file("[1, 2]")) { .headerNotObject(path: $0) },
            error("header is a JSON string", file("\"{}\"")) { .headerNotObject(path: $0) },
            error("leading space", file(" {}")) { .headerNotObject(path: $0) },
            error("non-UTF-8 name", file(Array("{\"".utf8) + [0xFF, 0xFE] + Array("\":{}}".utf8))) {
                .headerNotUTF8(path: $0)
            },
            malformed("lone surrogate in a name",
                      "{" + entry("\\ud800", shape: "[0]", offsets: "[0,0]") + "}"),
            error("non-UTF-8 metadata value",
                  file(Array("{\"__metadata__\":{\"k\":\"".utf8) + [0xC3, 0x28] + Array("\"}}".utf8))) {
                .headerNotUTF8(path: $0)
            },
            error("overlong UTF-8 in a name", file(Array("{\"".utf8) + [0xC0, 0xAF] + Array("\":{}}".utf8))) {
                .headerNotUTF8(path: $0)
            },
            malformed("unterminated object", "{\"a\":"),
            malformed("text after the object", "{} x"),
            malformed("NUL padding", "{}\u{0}\u{0}"),
            malformed("unescaped control character", "{\"a\u{01}\":{}}"),
            malformed("deep nesting", "{\"a\":{\"x\":" + String(repeating: "[", count: 10_000) + "}}"),

            // Schema.
            malformed("entry not an object", "{\"a\":1}"),
            malformed("missing dtype", "{\"a\":{\"shape\":[0],\"data_offsets\":[0,0]}}"),
            malformed("shape not an array", single(shape: "2", offsets: "[0,8]", dataCount: 8)),
            malformed("fractional dimension", single(shape: "[2.5]", offsets: "[0,8]", dataCount: 8)),
            malformed("dimension too large for 64 bits",
                      single(shape: "[99999999999999999999]", offsets: "[0,8]", dataCount: 8)),
            malformed("three data offsets", single(shape: "[2]", offsets: "[0,4,8]", dataCount: 8)),
            malformed("a key twice in one entry",
                      "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[0,0]}}"),
            malformed("dtype not a string", "{\"a\":{\"dtype\":32,\"shape\":[0],\"data_offsets\":[0,0]}}"),
            malformed("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}"),
            malformed("missing data offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0]}}"),
            malformed("one data offset", single(shape: "[0]", offsets: "[0]")),
            malformed("data offset too large for 64 bits",
                      single(shape: "[2]", offsets: "[0,18446744073709551616]", dataCount: 8)),
            malformed("fractional data offset", single(shape: "[2]", offsets: "[0,8.0]", dataCount: 8)),
            malformed("metadata not an object", "{\"__metadata__\":[]}"),
            malformed("metadata value not a string", "{\"__metadata__\":{\"k\":1}}"),
            error("unknown dtype", single("F8_E4M3", shape: "[2]", offsets: "[0,2]", dataCount: 2)) {
                .unsupportedDtype(path: $0, tensor: "a", dtype: "F8_E4M3")
            },
            error("lowercase dtype", single("f32", shape: "[2]", offsets: "[0,8]", dataCount: 8)) {
                .unsupportedDtype(path: $0, tensor: "a", dtype: "f32")
            },
            error("duplicate names", several([a8, a8], dataCount: 8)) { .duplicateName(path: $0, name: "a") },
            error("duplicate names, one spelled with an escape",
                  several([a8, entry("\\u0061", shape: "[0]", offsets: "[8,8]")], dataCount: 8)) {
                .duplicateName(path: $0, name: "a")
            },
            error("dtype with a trailing space", single("F32 ", shape: "[2]", offsets: "[0,8]", dataCount: 8)) {
                .unsupportedDtype(path: $0, tensor: "a", dtype: "F32 ")
            },
            error("duplicate metadata", file("{\"__metadata__\":{},\"__metadata__\":{}}")) {
                .duplicateName(path: $0, name: "__metadata__")
            },

            // Shapes.
            error("negative dimension", single(shape: "[2,-3]", offsets: "[0,0]")) {
                .negativeDimension(path: $0, tensor: "a", shape: [2, -3])
            },
            error("element count overflows", single(shape: "[4294967296,4294967296]", offsets: "[0,0]")) {
                .sizeOverflow(path: $0, tensor: "a", shape: [4_294_967_296, 4_294_967_296])
            },
            error("byte count overflows", single("F64", shape: "[1152921504606846976]", offsets: "[0,0]")) {
                .sizeOverflow(path: $0, tensor: "a", shape: [1_152_921_504_606_846_976])
            },
            error("overflow before a zero dimension",
                  single(shape: "[4294967296,4294967296,0]", offsets: "[0,0]")) {
                .sizeOverflow(path: $0, tensor: "a", shape: [4_294_967_296, 4_294_967_296, 0])
            },

            error("huge dimensions, tiny file",
                  single(shape: "[1000000000,1000000000]", offsets: "[0,8]", dataCount: 8)) {
                .sizeMismatch(path: $0, tensor: "a", elementType: .float32, shape: [1_000_000_000, 1_000_000_000],
                              begin: 0, end: 8)
            },

            // Offsets and layout.
            error("scalar claiming two elements", single(shape: "[]", offsets: "[0,8]", dataCount: 8)) {
                .sizeMismatch(path: $0, tensor: "a", elementType: .float32, shape: [], begin: 0, end: 8)
            },
            error("zero-size tensor claiming bytes", single(shape: "[0]", offsets: "[0,4]", dataCount: 4)) {
                .sizeMismatch(path: $0, tensor: "a", elementType: .float32, shape: [0], begin: 0, end: 4)
            },
            error("lying offsets",
                  several([entry("conv.weight", shape: "[3,3]", offsets: "[0,100]")], dataCount: 100)) {
                .sizeMismatch(path: $0, tensor: "conv.weight", elementType: .float32, shape: [3, 3],
                              begin: 0, end: 100)
            },
            error("negative offset", single(shape: "[1]", offsets: "[-4,0]", dataCount: 4)) {
                .offsetsOutOfBounds(path: $0, tensor: "a", begin: -4, end: 0, bufferSize: 4)
            },
            error("reversed offsets", single(shape: "[1]", offsets: "[8,4]", dataCount: 8)) {
                .offsetsOutOfBounds(path: $0, tensor: "a", begin: 8, end: 4, bufferSize: 8)
            },
            error("offsets past the buffer", single(shape: "[1]", offsets: "[1000,1004]", dataCount: 4)) {
                .offsetsOutOfBounds(path: $0, tensor: "a", begin: 1000, end: 1004, bufferSize: 4)
            },
            error("overlap", several([a8, entry("b", shape: "[2]", offsets: "[4,12]")], dataCount: 12)) {
                .overlap(path: $0, tensor: "b", other: "a")
            },
            error("zero-size tensor inside another",
                  several([a8, entry("z", shape: "[0]", offsets: "[4,4]")], dataCount: 8)) {
                .overlap(path: $0, tensor: "z", other: "a")
            },
            error("hole between tensors",
                  several([entry("a", shape: "[1]", offsets: "[0,4]"),
                           entry("b", shape: "[1]", offsets: "[8,12]")], dataCount: 12)) {
                .hole(path: $0, begin: 4, end: 8)
            },
            error("hole before the first tensor", single(shape: "[1]", offsets: "[4,8]", dataCount: 8)) {
                .hole(path: $0, begin: 0, end: 4)
            },
            error("bytes after the last tensor", several([a8], dataCount: 12)) {
                .hole(path: $0, begin: 8, end: 12)
            },
        ]

        // MARK: - Tests

        @Test("each malformed file throws its error", arguments: cases)
        func hostile(_ testCase: HostileCase) throws {
            try testCase.data.write(to: URL(fileURLWithPath: testCase.path))
            defer { try? FileManager.default.removeItem(atPath: testCase.path) }
            let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: testCase.path) }
            #expect(error?.description.hasPrefix("\(testCase.path): ") == true)
            switch testCase.expected {
            case .error(let expected):
                #expect(error == expected)
            case .malformedHeader:
                guard case .malformedHeader(let path, let reason)? = error else {
                    Issue.record("expected .malformedHeader, got \(String(describing: error))")
                    return
                }
                #expect(path == testCase.path && !reason.isEmpty)
            }
        }

        @Test("the lying-offsets message says what the dtype and shape need")
        func sizeMismatchMessage() {
            let error = SafeTensorsError.sizeMismatch(path: "weights.safetensors", tensor: "conv.weight",
                                                      elementType: .float32, shape: [3, 3],
                                                      begin: 0, end: 100)
            let expected = "weights.safetensors: tensor 'conv.weight' has data_offsets [0, 100] "
                + "but F32 [3, 3] needs 36 bytes"
            #expect(error.description == expected)
        }

        /// Every prefix of the small file; every 5th of the larger one keeps the test fast.
        @Test("a valid file cut short anywhere throws",
              arguments: [("torch.safetensors", 1), ("numpy.safetensors", 5)])
        func everyPrefix(name: String, stride step: Int) throws {
            let original = try FormatFixtures.data("safetensors/\(name)")
            let path = FormatFixtures.scratchPath("prefix", extension: "safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            for length in stride(from: 0, to: original.count, by: step) {
                try original.prefix(length).write(to: URL(fileURLWithPath: path))
                #expect(throws: SafeTensorsError.self, "prefix of \(length) bytes") {
                    try SafeTensorsFile(path: path)
                }
            }
        }

        @Test("random corruption of a valid file never crashes")
        func randomCorruption() throws {
            let original = try FormatFixtures.data("safetensors/edges.safetensors")
            let path = FormatFixtures.scratchPath("corrupt", extension: "safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            var random = SplitMix64(seed: 0x5AFE)
            for _ in 0..<1_000 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    // Mostly in the header, where the parsing happens.
                    let index = Int.random(in: 0..<min(bytes.count, 600), using: &random)
                    bytes[index] = UInt8.random(in: 0...255, using: &random)
                }
                try bytes.write(to: URL(fileURLWithPath: path))
                if let file = try? SafeTensorsFile(path: path) {
                    // Whatever survives validation must be readable in full.
                    for (_, array) in file.arrays { _ = array.floats() }
                }
            }
        }
    }
}
