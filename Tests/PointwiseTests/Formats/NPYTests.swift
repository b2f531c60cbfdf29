import Foundation
import Testing
import Pointwise

/// Tests of the .npy codec against files written by real NumPy (scripts/make_npy_fixtures.py).
@Suite("NPY")
struct NPYTests {
    // MARK: - Helpers

    /// The fixtures written by scripts/make_npy_fixtures.py with real NumPy.
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/npy")
        .standardizedFileURL

    static func fixture(_ name: String) -> URL {
        fixtures.appendingPathComponent(name)
    }

    /// The script's `ramp`: -3, -2.5, -2, ... in C order.
    static func ramp(_ shape: [Int]) -> NPYArray {
        let count = shape.reduce(1, *)
        return NPYArray(shape: shape, values: (0..<count).map { Float($0) * 0.5 - 3 })
    }

    /// Hand-assembles a .npy file: magic, version, little-endian header length, header text, data.
    static func npy(version: (UInt8, UInt8) = (1, 0), header: String, headerLength: Int? = nil,
                    data: [UInt8] = []) -> Data {
        let text = Array(header.utf8)
        let lengthSize = version.0 == 1 ? 2 : 4
        let length = headerLength ?? text.count
        let lengthBytes = (0..<lengthSize).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        return Data([0x93] + Array("NUMPY".utf8) + [version.0, version.1] + lengthBytes + text + data)
    }

    /// A header dict in NumPy's own layout.
    static func dict(descr: String = "'<f4'", fortran: String = "False", shape: String = "(2, 3)") -> String {
        "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }\n"
    }

    static func float32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    }

    /// A fresh empty directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("NPYTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One malformed input and the error it must produce.
    struct HostileCase: Sendable, CustomTestStringConvertible {
        enum Expected: Sendable {
            case error(NPYError)
            /// `.malformedHeader` with any reason (the reasons quote positions and are checked elsewhere).
            case malformedHeader
        }

        var label: String
        var data: Data
        var expected: Expected
        var testDescription: String { label }
    }

    /// A tiny deterministic generator so the corruption test is reproducible.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64

        init(seed: UInt64) {
            state = seed
        }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    // MARK: - Reading NumPy's files

    @Suite("reading")
    struct Reading {
        static let rampFixtures: [(file: String, shape: [Int])] = ["f2", "f4", "f8"].flatMap { code in
            ["le", "be"].flatMap { order in
                [("scalar", []), ("5", [5]), ("2x3", [2, 3]), ("1x3x4x5", [1, 3, 4, 5])].map { label, shape in
                    ("\(code)_\(order)_\(label).npy", shape)
                }
            }
        } + [("f4_le_12x1.npy", [12, 1]), ("f4_le_0x3.npy", [0, 3])]

        @Test("every dtype, byte order and shape decodes to the script's values", arguments: rampFixtures)
        func rampValues(file: String, shape: [Int]) throws {
            let array = try NPY.read(contentsOf: fixture(file))
            #expect(array == ramp(shape))
        }

        @Test("float16 subnormals, signed zero, infinities, max and NaN convert exactly",
              arguments: ["f2_le_special.npy", "f2_be_special.npy"])
        func float16Specials(file: String) throws {
            let array = try NPY.read(contentsOf: fixture(file))
            #expect(array.shape == [9])
            let expected: [Float] = [
                0x1p-24, -0x1p-24, 1023 * 0x1p-24, 0x1p-14, -0.0, .infinity, -.infinity, 65504,
            ]
            try #require(array.values.count == 9)
            #expect(array.values.prefix(8).map(\.bitPattern) == expected.map(\.bitPattern))
            #expect(array.values[8].isNaN)
        }

        @Test("float64 rounds to the nearest float32")
        func float64Rounding() throws {
            let array = try NPY.read(contentsOf: fixture("f8_le_rounding.npy"))
            let expected: [Float] = [Float(0.1 as Double), .infinity, -0.0, 1]
            #expect(array.values.map(\.bitPattern) == expected.map(\.bitPattern))
        }

        @Test("format versions 2.0 and 3.0", arguments: ["v2_f4_2x3.npy", "v3_f4_2x3.npy"])
        func laterVersions(file: String) throws {
            #expect(try NPY.read(contentsOf: fixture(file)) == ramp([2, 3]))
        }

        @Test("Fortran-order arrays are rejected with advice")
        func fortranOrder() throws {
            let url = fixture("fortran_f4_2x3.npy")
            #expect(throws: NPYError.fortranOrder(name: url.path)) { try NPY.read(contentsOf: url) }
            #expect(NPYError.fortranOrder(name: "a.npy").description.contains("np.ascontiguousarray"))
        }

        @Test("non-float dtypes are rejected naming the dtype", arguments: [
            ("i8_5.npy", "<i8"), ("bool_3.npy", "|b1"), ("structured_2.npy", "[('a', '<f4'), ('b', '<i4')]"),
        ])
        func unsupportedDtypes(file: String, descr: String) throws {
            let url = fixture(file)
            #expect(throws: NPYError.unsupportedDtype(name: url.path, descr: descr)) {
                try NPY.read(contentsOf: url)
            }
        }

        @Test("a missing file and a directory are reported with their path")
        func unreadableFiles() throws {
            let missing = fixture("does-not-exist.npy")
            #expect(throws: NPYError.fileNotFound(path: missing.path)) { try NPY.read(contentsOf: missing) }
            let error = #expect(throws: NPYError.self) { try NPY.read(contentsOf: fixtures) }
            guard case .unreadable(let path, _) = error else {
                Issue.record("expected .unreadable, got \(String(describing: error))")
                return
            }
            #expect(path == fixtures.path)
        }
    }

    // MARK: - Header dialects

    @Suite("header parsing")
    struct HeaderParsing {
        @Test("header variations NumPy's literal_eval also accepts", arguments: [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}",
            "  {  'fortran_order' : False ,'shape' : ( 2 , 3 , ) , 'descr' : '=f4' }  \n",
            "{'descr': 'f4', 'fortran_order': False, 'shape': (2, 3)}\r\n",
        ])
        func dialects(header: String) throws {
            let data = npy(header: header, data: float32Bytes(ramp([2, 3]).values))
            #expect(try NPY.decode(data, name: "x.npy") == ramp([2, 3]))
        }

        @Test("scalar and 1-tuple shapes")
        func tupleForms() throws {
            let scalar = npy(header: dict(shape: "()"), data: float32Bytes([7]))
            #expect(try NPY.decode(scalar, name: "x") == NPYArray(shape: [], values: [7]))
            let vector = npy(header: dict(shape: "(1,)"), data: float32Bytes([7]))
            #expect(try NPY.decode(vector, name: "x") == NPYArray(shape: [1], values: [7]))
        }

        @Test("unaligned data, big-endian float32 and trailing bytes")
        func unalignedBigEndian() throws {
            // A 1-byte-shorter header leaves the data at an odd offset; loads must not assume alignment.
            let bytes = [Float(1.5), -2, .infinity].flatMap {
                withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init)
            }
            let data = npy(header: dict(descr: "'>f4'", shape: "(3,)") + " ", data: bytes + [0xAB, 0xCD])
            #expect(try NPY.decode(data, name: "x") == NPYArray(shape: [3], values: [1.5, -2, .infinity]))
        }

        @Test("a decode of a Data slice honours its start index")
        func dataSlice() throws {
            let file = try Data(contentsOf: fixture("f4_le_2x3.npy"))
            let slice = (Data([1, 2, 3]) + file)[3...]
            #expect(try NPY.decode(slice, name: "x") == ramp([2, 3]))
        }
    }

    // MARK: - Hostile input

    @Suite("hostile input")
    struct HostileInput {
        static let name = "bad.npy"
        static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

        static func error(_ label: String, _ data: Data, _ error: NPYError) -> HostileCase {
            HostileCase(label: label, data: data, expected: .error(error))
        }

        static func malformed(_ label: String, _ header: String) -> HostileCase {
            HostileCase(label: label, data: npy(header: header), expected: .malformedHeader)
        }

        static let cases: [HostileCase] = [
            error("empty", Data(), .truncated(name: name, part: .magic, expected: 6, found: 0)),
            error("wrong magic", Data([0x93] + Array("NUMPZ".utf8) + [1, 0]), .badMagic(name: name)),
            error("zip (.npz) file", Data([0x50, 0x4B, 0x03, 0x04]), .badMagic(name: name)),
            error("truncated magic", Data(magic.prefix(3)),
                  .truncated(name: name, part: .magic, expected: 6, found: 3)),
            error("truncated version", Data(magic + [1]),
                  .truncated(name: name, part: .version, expected: 2, found: 1)),
            error("truncated v1 header length", Data(magic + [1, 0, 0x76]),
                  .truncated(name: name, part: .headerLength, expected: 2, found: 1)),
            error("truncated v2 header length", Data(magic + [2, 0, 0x76, 0, 0]),
                  .truncated(name: name, part: .headerLength, expected: 4, found: 3)),
            error("truncated header", npy(header: dict(), headerLength: 118),
                  .truncated(name: name, part: .header, expected: 118, found: 60)),
            error("v1 header length past the end", npy(header: "{}", headerLength: 0xFFFF),
                  .truncated(name: name, part: .header, expected: 0xFFFF, found: 2)),
            error("huge v2 header length", npy(version: (2, 0), header: "{}", headerLength: 0xFFFF_FFFF),
                  .truncated(name: name, part: .header, expected: 0xFFFF_FFFF, found: 2)),
            error("truncated data", npy(header: dict(), data: Array(repeating: 0, count: 20)),
                  .truncated(name: name, part: .data, expected: 24, found: 20)),
            error("no data", npy(header: dict(descr: "'<f8'", shape: "(1,)")),
                  .truncated(name: name, part: .data, expected: 8, found: 0)),
            error("version 4.0", npy(version: (4, 0), header: dict()),
                  .unsupportedVersion(name: name, major: 4, minor: 0)),
            error("version 1.1", npy(version: (1, 1), header: dict()),
                  .unsupportedVersion(name: name, major: 1, minor: 1)),
            error("non-UTF-8 header", Data(magic + [1, 0, 4, 0, 0x7B, 0xFF, 0xFE, 0x7D]),
                  .headerNotUTF8(name: name)),
            error("missing shape", npy(header: "{'descr': '<f4', 'fortran_order': False}"),
                  .missingKey(name: name, key: "shape")),
            error("missing descr", npy(header: "{'fortran_order': False, 'shape': (1,)}"),
                  .missingKey(name: name, key: "descr")),
            error("empty dict", npy(header: "{}"), .missingKey(name: name, key: "descr")),
            error("negative dimension", npy(header: dict(shape: "(2, -3)")),
                  .negativeDimension(name: name, shape: [2, -3])),
            error("element count overflows", npy(header: dict(shape: "(4294967296, 4294967296)")),
                  .sizeOverflow(name: name, shape: [4_294_967_296, 4_294_967_296])),
            error("byte count overflows", npy(header: dict(shape: "(2305843009213693952,)")),
                  .sizeOverflow(name: name, shape: [2_305_843_009_213_693_952])),
            error("overflow before a zero dimension", npy(header: dict(shape: "(4294967296, 4294967296, 0)")),
                  .sizeOverflow(name: name, shape: [4_294_967_296, 4_294_967_296, 0])),
            error("huge shape, tiny file", npy(header: dict(shape: "(1000000000, 1000000000)")),
                  .truncated(name: name, part: .data, expected: 4_000_000_000_000_000_000, found: 0)),
            error("'|' byte order on a 4-byte float", npy(header: dict(descr: "'|f4'")),
                  .unsupportedDtype(name: name, descr: "|f4")),
            error("complex dtype", npy(header: dict(descr: "'<c8'")),
                  .unsupportedDtype(name: name, descr: "<c8")),
            error("object dtype", npy(header: dict(descr: "'|O'")),
                  .unsupportedDtype(name: name, descr: "|O")),
            error("string dtype", npy(header: dict(descr: "'<U5'")),
                  .unsupportedDtype(name: name, descr: "<U5")),
            error("descr not a string", npy(header: dict(descr: "7")),
                  .unsupportedDtype(name: name, descr: "7")),
            error("Fortran order", npy(header: dict(fortran: "True")), .fortranOrder(name: name)),
            malformed("header not a dict", "[1, 2]"),
            malformed("empty header", ""),
            malformed("unterminated dict", "{'descr': '<f4', "),
            malformed("unterminated string", "{'descr: '<f4'}"),
            malformed("text after the dict", dict() + "x"),
            malformed("non-string key", "{1: 2}"),
            malformed("missing colon", "{'descr' '<f4'}"),
            malformed("fortran_order not a bool", dict(fortran: "1")),
            malformed("shape not a tuple", dict(shape: "[2, 3]")),
            malformed("parenthesised int is not a tuple", dict(shape: "(5)")),
            malformed("non-integer dimension", dict(shape: "(2.5,)")),
            malformed("dimension too large for Int", dict(shape: "(99999999999999999999,)")),
            malformed("bare minus sign", dict(shape: "(-,)")),
            malformed("unexpected key", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': (1,)}"),
            malformed("deeply nested brackets", "{'descr': " + String(repeating: "[", count: 100_000)),
            malformed("NUL byte", "{'descr': '<f4',\u{0}}"),
            malformed("duplicate key", "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
            HostileCase(label: "header length shorter than the dict",
                        data: npy(header: dict(), headerLength: 20, data: Array(repeating: 0, count: 24)),
                        expected: .malformedHeader),
        ]

        /// A dtype and what each decoder makes of it (nil: the decoder reads the array).
        struct ElementTypeCase: Sendable, CustomTestStringConvertible {
            var descr: String
            var floats: NPYError?
            var array: NPYError?
            var integers: NPYError?
            var testDescription: String { descr }
        }

        /// `descr` refused by the decoders marked true, each with its own error.
        static func refused(_ descr: String, floats: Bool = true, array: Bool = true,
                            integers: Bool = true) -> ElementTypeCase {
            ElementTypeCase(descr: descr,
                            floats: floats ? .unsupportedDtype(name: name, descr: descr) : nil,
                            array: array ? .unsupportedElementType(name: name, descr: descr) : nil,
                            integers: integers ? .integerDtypeExpected(name: name, descr: descr) : nil)
        }

        static let elementTypeCases: [ElementTypeCase] = [
            refused("<f4", floats: false, array: false),
            refused(">f2", floats: false, array: false),
            refused("<i8", array: false, integers: false),
            refused("|u1", array: false, integers: false),
            refused("<u2", integers: false),
            refused(">u8", integers: false),
            refused("|b1", array: false),
            refused("<c8"),
            refused("<f16"),
            refused("|f4"),
            refused("<M8[ns]"),
            refused("|S4"),
            refused("<i"),
            refused(""),
        ]

        @Test("each decoder refuses the dtypes it does not read, with its own error",
              arguments: elementTypeCases)
        func elementTypes(_ testCase: ElementTypeCase) {
            // Two elements of 8 bytes each: enough data for any dtype that is read.
            let data = npy(header: dict(descr: "'\(testCase.descr)'", shape: "(2,)"),
                           data: Array(repeating: 0, count: 16))
            func check(_ decoder: String, _ expected: NPYError?, _ decode: () throws(NPYError) -> Void) {
                do throws(NPYError) {
                    try decode()
                    #expect(expected == nil, "\(decoder) read '\(testCase.descr)'")
                } catch {
                    #expect(error == expected, "\(decoder)")
                }
            }
            check("decode", testCase.floats) { () throws(NPYError) in _ = try NPY.decode(data, name: Self.name) }
            check("decodeArray", testCase.array) { () throws(NPYError) in
                _ = try NPY.decodeArray(data, name: Self.name)
            }
            check("decodeIntegers", testCase.integers) { () throws(NPYError) in
                _ = try NPY.decodeIntegers(data, name: Self.name)
            }
        }

        @Test("integer and raw decoding: truncated data, overflowing shapes and values")
        func integerHostile() {
            let truncated = npy(header: dict(descr: "'<i8'", shape: "(3,)"), data: Array(repeating: 0, count: 20))
            let expected = NPYError.truncated(name: Self.name, part: .data, expected: 24, found: 20)
            #expect(throws: expected) { try NPY.decodeIntegers(truncated, name: Self.name) }
            #expect(throws: expected) { try NPY.decodeArray(truncated, name: Self.name) }
            let overflow = npy(header: dict(descr: "'<i8'", shape: "(1152921504606846976,)"))
            let shape = [1_152_921_504_606_846_976]
            #expect(throws: NPYError.sizeOverflow(name: Self.name, shape: shape)) {
                try NPY.decodeIntegers(overflow, name: Self.name)
            }
            #expect(throws: NPYError.sizeOverflow(name: Self.name, shape: shape)) {
                try NPY.decodeArray(overflow, name: Self.name)
            }
            let negative = npy(header: dict(descr: "'|u1'", shape: "(-1,)"))
            #expect(throws: NPYError.negativeDimension(name: Self.name, shape: [-1])) {
                try NPY.decodeIntegers(negative, name: Self.name)
            }
            // A uint64 label above Int.max cannot be an Int: the error names the element and its value.
            let huge = npy(header: dict(descr: "'<u8'", shape: "(2,)"),
                           data: Array(repeating: 0, count: 8) + [0, 0, 0, 0, 0, 0, 0, 0x80])
            #expect(throws: NPYError.integerOutOfRange(name: Self.name, index: 1, value: "9223372036854775808")) {
                try NPY.decodeIntegers(huge, name: Self.name)
            }
        }

        @Test("each malformed input throws its error", arguments: cases)
        func hostile(_ testCase: HostileCase) {
            let error = #expect(throws: NPYError.self) { try NPY.decode(testCase.data, name: Self.name) }
            switch testCase.expected {
            case .error(let expected):
                #expect(error == expected)
            case .malformedHeader:
                guard case .malformedHeader(let name, let reason) = error else {
                    Issue.record("expected .malformedHeader, got \(String(describing: error))")
                    return
                }
                #expect(name == Self.name)
                #expect(!reason.isEmpty)
            }
        }

        @Test("every strict prefix of a valid file throws")
        func everyPrefix() throws {
            let file = try Data(contentsOf: fixture("f8_be_2x3.npy"))
            for length in 0..<file.count {
                #expect(throws: NPYError.self) { try NPY.decode(file.prefix(length), name: Self.name) }
            }
        }

        @Test("random corruption of valid files never crashes")
        func randomCorruption() throws {
            var rng = SplitMix64(seed: 0x5EED)
            for file in ["f4_le_2x3.npy", "f2_be_special.npy", "v3_f4_2x3.npy", "structured_2.npy"] {
                let original = try Data(contentsOf: fixture(file))
                for _ in 0..<2_000 {
                    var bytes = original
                    for _ in 0..<Int.random(in: 1...4, using: &rng) {
                        // Bias towards the header, where the parsing happens.
                        let index = Int.random(in: 0..<min(bytes.count, 128), using: &rng)
                        bytes[index] = UInt8.random(in: 0...255, using: &rng)
                    }
                    _ = try? NPY.decode(bytes, name: Self.name)
                }
            }
        }

        @Test("messages start with the file name and name the dtype")
        func descriptions() {
            let error = NPYError.unsupportedDtype(name: "x.npy", descr: "<i8")
            #expect(error.description
                == "x.npy: unsupported dtype '<i8' (only float16, float32 and float64 are supported)")
            #expect(NPYError.truncated(name: "x.npy", part: .data, expected: 24, found: 20).description
                == "x.npy: the file is truncated: the array data needs 24 bytes but only 20 are present")
            #expect(NPYError.shapeMismatch(name: "y.npy", shape: [5], count: 4).description
                == "y.npy: shape (5,) needs 5 values but has 4")
            for testCase in Self.cases {
                if case .error(let expected) = testCase.expected {
                    #expect(expected.description.hasPrefix("\(Self.name): "))
                }
            }
        }
    }

    // MARK: - Writing

    @Suite("writing")
    struct Writing {
        @Test("encode is byte-identical to np.save", arguments: [
            ("f4_le_scalar.npy", [Int]()), ("f4_le_5.npy", [5]), ("f4_le_2x3.npy", [2, 3]),
            ("f4_le_1x3x4x5.npy", [1, 3, 4, 5]), ("f4_le_12x1.npy", [12, 1]), ("f4_le_0x3.npy", [0, 3]),
        ])
        func matchesNumPy(file: String, shape: [Int]) throws {
            let numpy = try Data(contentsOf: fixture(file))
            #expect(NPY.encode(ramp(shape)) == numpy)
        }

        @Test("encode then decode round-trips", arguments: [[Int](), [1], [7], [3, 0, 2], [2, 3, 4]])
        func roundTrip(shape: [Int]) throws {
            let count = shape.reduce(1, *)
            // Arbitrary bit patterns, NaNs and subnormals included.
            let values = (0..<count).map { index in
                Float(bitPattern: UInt32(truncatingIfNeeded: index &* 2_654_435_761))
            }
            let array = NPYArray(shape: shape, values: values)
            let encoded = NPY.encode(array)
            let decoded = try NPY.decode(encoded, name: "round trip")
            #expect(decoded.shape == shape)
            #expect(decoded.values.map(\.bitPattern) == values.map(\.bitPattern))  // NaN payloads survive too
        }

        @Test("a header too long for version 1.0 switches to 2.0, still 64-byte aligned")
        func version2WhenNeeded() throws {
            let array = NPYArray(shape: Array(repeating: 1, count: 30_000), values: [42])
            let encoded = NPY.encode(array)
            #expect(Array(encoded.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [2, 0])
            #expect((encoded.count - 4) % 64 == 0)
            #expect(try NPY.decode(encoded, name: "long") == array)
        }

        @Test("write then read, replacing an existing file and leaving no temporary files")
        func writeAndRead() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let url = directory.appendingPathComponent("out.npy")
            try NPY.write(ramp([2, 3]), to: url)
            try NPY.write(ramp([1, 3, 4, 5]), to: url)
            #expect(try NPY.read(contentsOf: url) == ramp([1, 3, 4, 5]))
            #expect(try Data(contentsOf: url) == Data(contentsOf: fixture("f4_le_1x3x4x5.npy")))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.npy"])
        }

        @Test("write rejects inconsistent arrays before touching the disk")
        func writeValidates() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let url = directory.appendingPathComponent("bad.npy")
            let name = url.path
            let cases: [(NPYArray, NPYError)] = [
                (NPYArray(shape: [5], values: [1, 2, 3, 4]),
                 .shapeMismatch(name: name, shape: [5], count: 4)),
                (NPYArray(shape: [2, -1], values: []), .negativeDimension(name: name, shape: [2, -1])),
                (NPYArray(shape: [Int.max, 2], values: []), .sizeOverflow(name: name, shape: [Int.max, 2])),
                (NPYArray(shape: [Int.max / 2], values: []), .sizeOverflow(name: name, shape: [Int.max / 2])),
            ]
            for (array, expected) in cases {
                #expect(throws: expected) { try NPY.write(array, to: url) }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }

        @Test("writing into a missing directory or onto a directory fails cleanly")
        func unwritable() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            for url in [directory.appendingPathComponent("missing/out.npy"), directory] {
                let error = #expect(throws: NPYError.self) { try NPY.write(ramp([5]), to: url) }
                guard case .unwritable(let path, let reason) = error else {
                    Issue.record("expected .unwritable, got \(String(describing: error))")
                    continue
                }
                #expect(path == url.path)
                #expect(!reason.isEmpty)
            }
            // The temporary files went next to each destination: inside `directory`, and beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
            let siblings = try FileManager.default.contentsOfDirectory(
                atPath: directory.deletingLastPathComponent().path)
            #expect(!siblings.contains { $0.hasPrefix(".\(directory.lastPathComponent).") })
        }
    }
}
