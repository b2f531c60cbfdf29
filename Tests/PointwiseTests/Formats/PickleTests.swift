import Foundation
import Testing
@testable import Pointwise

/// Tests of the restricted unpickler: pickles written by Python's own `pickle` in every protocol
/// (scripts/make_torch_fixtures.py), hand-assembled opcodes, and malformed or hostile streams.
@Suite("Pickle")
struct PickleTests {
    // MARK: - Helpers

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/torch/pickle")
        .standardizedFileURL

    /// Unpickles `bytes`; errors name the pickle "p".
    static func load(_ bytes: [UInt8], limits: Pickle.Limits = .init()) throws(PickleError) -> PickleDocument {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(PickleError) in try Pickle.load(raw, name: "p", limits: limits) }
        }.get()
    }

    /// Protocol 2 header + `body` + STOP.
    static func pickle(_ body: [UInt8]) -> [UInt8] {
        [0x80, 0x02] + body + [0x2E]
    }

    /// `BINUNICODE text`.
    static func unicode(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return [0x58] + withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init) + utf8
    }

    /// `GLOBAL module name`.
    static func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array("\(module)\n\(name)\n".utf8)
    }

    // MARK: - Python's pickles

    @Test("values pickled by Python in protocols 0–5 decode to the script's values", arguments: 0...5)
    func pythonValues(protocolVersion: Int) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("values_p\(protocolVersion).pkl"))
        let document = try Self.load(Array(data))
        let heap = document.heap
        let values = try #require(heap.dict(document.root))
        func items(_ value: PickleValue?) -> [PickleValue]? { value.flatMap(heap.items) }

        #expect(values["int"]?.int == 7)
        #expect(values["negative"]?.int == -300)
        #expect(values["two_bytes"]?.int == 40000)
        #expect(values["min_int32"]?.int == -(1 << 31))
        #expect(values["large"]?.int == 1 << 62)
        // 2**100 and -2**70 as minimal little-endian two's complement.
        #expect(values["huge"]?.isInteger(littleEndian: [UInt8](repeating: 0, count: 12) + [0x10]) == true)
        #expect(values["negative_huge"]?.isInteger(littleEndian: [UInt8](repeating: 0, count: 8) + [0xC0]) == true)
        guard case .float(1.5)? = values["float"], case .float(-0.1)? = values["negative_float"] else {
            Issue.record("floats: \(String(describing: values["float"])), \(String(describing: values["negative_float"]))")
            return
        }
        #expect(values["text"]?.text == "h\u{e9}llo \u{2713}")
        #expect(values["empty_text"]?.text == "")
        guard case .bool(true)? = values["true"], case .bool(false)? = values["false"], case .none? = values["none"] else {
            Issue.record("booleans or None decoded wrongly")
            return
        }
        #expect(items(values["list"])?.compactMap(\.int) == [1, 2, 3])
        let tuple = try #require(items(values["tuple"]))
        #expect(tuple.count == 3 && tuple[0].int == 1 && tuple[1].text == "a")
        #expect(items(values["tuple1"])?.compactMap(\.int) == [9])
        #expect(items(values["tuple0"])?.isEmpty == true)
        let nested = try #require(values["nested"].flatMap(heap.dict))
        #expect(items(nested["a"])?.count == 2)
        #expect(nested["b"].flatMap(heap.dict)?.entries.isEmpty == true)
        #expect(items(values["many"])?.compactMap(\.int) == Array(0..<1100))
        // The memo gives the same list object both times.
        guard case .list(let shared)? = values["shared"], case .list(let again)? = values["shared_again"] else {
            Issue.record("shared lists missing")
            return
        }
        #expect(shared == again && heap.sequences[shared].compactMap(\.int) == [1, 2])
        let ordered = try #require(values["ordered"].flatMap(heap.dict))
        #expect(ordered.entries.compactMap(\.key.text) == ["x", "y"])
        #expect(values.entries.contains { $0.key.int == 3 && $0.value.text == "int key" })
        if protocolVersion >= 3 {
            guard case .bytes([0, 1, 0x61, 0x62, 0x63])? = values["bytes"] else {
                Issue.record("bytes: \(String(describing: values["bytes"]))")
                return
            }
        }
    }

    // MARK: - Hand-assembled opcodes

    @Test("Python 2 strings, 8-byte lengths, LONG4, negative BININT, DUP, POP and POP_MARK")
    func rarerOpcodes() throws {
        let body: [UInt8] = [0x28]  // MARK
            + [0x55, 2] + Array("ab".utf8)                                  // SHORT_BINSTRING
            + [0x54, 1, 0, 0, 0, 0x63]                                       // BINSTRING "c"
            + [0x8D, 1, 0, 0, 0, 0, 0, 0, 0, 0x64]                           // BINUNICODE8 "d"
            + [0x8E, 1, 0, 0, 0, 0, 0, 0, 0, 0xFF]                           // BINBYTES8
            + [0x8B, 2, 0, 0, 0, 0x00, 0x80]                                 // LONG4 -32768
            + [0x4A, 0xFE, 0xFF, 0xFF, 0xFF]                                 // BININT -2
            + [0x4E, 0x32, 0x30]                                             // NONE, DUP, POP
            + [0x28, 0x4B, 1, 0x31]                                          // MARK, BININT1, POP_MARK
            + [0x74]                                                         // TUPLE
        let document = try Self.load(Self.pickle(body))
        let items = try #require(document.heap.items(document.root))
        #expect(items.count == 7)
        #expect(items[0].text == "ab" && items[1].text == "c" && items[2].text == "d")
        guard case .bytes([0xFF]) = items[3], case .none = items[6] else {
            Issue.record("items: \(items)")
            return
        }
        #expect(items[4].int == -32768 && items[5].int == -2)
    }

    @Test("OrderedDict through NEWOBJ and REDUCE; BUILD drops a state_dict's _metadata")
    func orderedDicts() throws {
        let metadata: [UInt8] = [0x7D] + Self.unicode("_metadata") + [0x7D, 0x73]  // {'_metadata': {}}
        let body = Self.global("collections", "OrderedDict") + [0x29, 0x81]       // OrderedDict.__new__
            + Self.unicode("k") + [0x4B, 5, 0x73]                                 // ['k'] = 5
            + metadata + [0x62]                                                   // BUILD
        let document = try Self.load(Self.pickle(body))
        let value = try #require(document.heap.dict(document.root))
        #expect(value.entries.count == 1 && value["k"]?.int == 5)
    }

    @Test("a repeated key replaces the value in place, as in Python")
    func repeatedKeys() throws {
        let body: [UInt8] = [0x7D, 0x28] + Self.unicode("a") + [0x4B, 1] + Self.unicode("b") + [0x4B, 2]
            + Self.unicode("a") + [0x4B, 3, 0x75]
        let document = try Self.load(Self.pickle(body))
        let value = try #require(document.heap.dict(document.root))
        #expect(value.entries.compactMap(\.key.text) == ["a", "b"])
        #expect(value["a"]?.int == 3)
    }

    @Test("a persistent storage id and _rebuild_tensor_v2 build a tensor reference")
    func tensorReference() throws {
        let storageID = [0x28] + Self.unicode("storage") + Self.global("torch", "HalfStorage")
            + Self.unicode("0") + Self.unicode("cuda:0") + [0x4B, 6, 0x74]        // ('storage', …, 6)
        let body = Self.global("torch._utils", "_rebuild_tensor_v2") + [0x28] + storageID + [0x51]
            + [0x4B, 1] + [0x4B, 2, 0x4B, 2, 0x86] + [0x4B, 1, 0x4B, 2, 0x86] + [0x89]
            + Self.global("collections", "OrderedDict") + [0x29, 0x52] + [0x74, 0x52]
        let value = try Self.load(Self.pickle(body)).root
        guard case .tensor(let tensor) = value else {
            Issue.record("expected a tensor, got \(value.typeDescription)")
            return
        }
        #expect(tensor.storage.elementType == .float16 && tensor.storage.key == "0")
        #expect(tensor.storage.location == "cuda:0" && tensor.storage.elementCount == 6)
        #expect(tensor.storageOffset == 1 && tensor.shape == [2, 2] && tensor.strides == [1, 2])
    }

    @Test("torch < 1.0's _rebuild_tensor, and a parameter with state, give the same tensor")
    func olderRebuilds() throws {
        let storageID = [0x28] + Self.unicode("storage") + Self.global("torch", "LongStorage")
            + Self.unicode("k") + Self.unicode("cpu") + [0x4B, 4, 0x74, 0x51]
        let v1 = Self.global("torch._utils", "_rebuild_tensor") + [0x28] + storageID
            + [0x4B, 0, 0x4B, 4, 0x85, 0x4B, 1, 0x85, 0x74, 0x52]
        let parameter = Self.global("torch._utils", "_rebuild_parameter_with_state") + [0x28] + v1
            + [0x88, 0x7D, 0x7D, 0x74, 0x52]
        guard case .tensor(let tensor) = try Self.load(Self.pickle(parameter)).root else {
            Issue.record("expected a tensor")
            return
        }
        #expect(tensor.storage.elementType == .int64 && tensor.storage.key == "k" && tensor.shape == [4])
    }

    // MARK: - Refusals

    /// A malformed or hostile pickle and the error it must produce.
    struct BadPickle: Sendable, CustomTestStringConvertible {
        var label: String
        var bytes: [UInt8]
        var limits = Pickle.Limits()
        var expected: PickleError
        var testDescription: String { label }
    }

    static let badPickles: [BadPickle] = [
        BadPickle(label: "os.system via GLOBAL", bytes: pickle(global("os", "system")),
                  expected: .forbiddenGlobal(name: "p", global: "os.system")),
        BadPickle(label: "builtins.eval via STACK_GLOBAL",
                  bytes: [0x80, 0x04, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93, 0x2E],
                  expected: .forbiddenGlobal(name: "p", global: "builtins.eval")),
        BadPickle(label: "a torch global outside the allowlist", bytes: pickle(global("torch", "load")),
                  expected: .forbiddenGlobal(name: "p", global: "torch.load")),
        BadPickle(label: "a complex storage", bytes: pickle(global("torch", "ComplexFloatStorage")),
                  expected: .unsupportedStorageType(name: "p", storageType: "torch.ComplexFloatStorage")),
        BadPickle(label: "STACK_GLOBAL of a non-string", bytes: pickle([0x4B, 1, 0x4B, 2, 0x93]),
                  expected: .malformed(name: "p", offset: 6, reason: "STACK_GLOBAL needs two str, not an int and an int")),
        BadPickle(label: "an unknown opcode", bytes: pickle([0xFF]),
                  expected: .unknownOpcode(name: "p", offset: 2, byte: 0xFF)),
        BadPickle(label: "protocol 6", bytes: [0x80, 0x06, 0x4E, 0x2E],
                  expected: .unsupportedProtocol(name: "p", offset: 0, version: 6)),
        BadPickle(label: "INST (never written by torch.save)", bytes: pickle([0x69] + Array("os\nsystem\n".utf8)),
                  expected: .unsupportedOpcode(name: "p", offset: 2, opcode: "INST")),
        BadPickle(label: "no STOP", bytes: [0x80, 0x02, 0x4E],
                  expected: .truncated(name: "p", offset: 3, opcode: "the opcode stream (no STOP)")),
        BadPickle(label: "a BINUNICODE longer than the file", bytes: [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x61, 0x2E],
                  expected: .truncated(name: "p", offset: 2, opcode: "BINUNICODE")),
        BadPickle(label: "a BINUNICODE8 length of 2⁶³", bytes: [0x80, 0x04, 0x8D, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x2E],
                  expected: .truncated(name: "p", offset: 2, opcode: "BINUNICODE8")),
        BadPickle(label: "a FRAME longer than the file", bytes: [0x80, 0x04, 0x95, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0x4E, 0x2E],
                  expected: .truncated(name: "p", offset: 2, opcode: "FRAME")),
        BadPickle(label: "a LONG4 with a negative length", bytes: pickle([0x8B, 0xFF, 0xFF, 0xFF, 0xFF]),
                  expected: .malformed(name: "p", offset: 2, reason: "LONG4 with a negative length")),
        BadPickle(label: "invalid UTF-8", bytes: pickle([0x8C, 2, 0xC3, 0x28]),
                  expected: .malformed(name: "p", offset: 2, reason: "the SHORT_BINUNICODE string is not valid UTF-8")),
        BadPickle(label: "TUPLE1 on an empty stack", bytes: pickle([0x85]),
                  expected: .malformed(name: "p", offset: 2, reason: "TUPLE1 needs a value, but the stack is empty")),
        BadPickle(label: "popping past a MARK", bytes: pickle([0x4E, 0x28, 0x85]),
                  expected: .malformed(name: "p", offset: 4, reason: "TUPLE1 needs a value, but the stack is empty")),
        BadPickle(label: "TUPLE without a MARK", bytes: pickle([0x4E, 0x74]),
                  expected: .malformed(name: "p", offset: 3, reason: "TUPLE without a MARK")),
        BadPickle(label: "SETITEMS with an odd item count", bytes: pickle([0x7D, 0x28, 0x4E, 0x75]),
                  expected: .malformed(name: "p", offset: 5, reason: "SETITEMS with an odd number of items (1)")),
        BadPickle(label: "APPEND to a dict", bytes: pickle([0x7D, 0x4E, 0x61]),
                  expected: .malformed(name: "p", offset: 4, reason: "APPEND on a dict, not a list")),
        BadPickle(label: "a memo entry never stored", bytes: pickle([0x68, 3]),
                  expected: .malformed(name: "p", offset: 2, reason: "memo entry 3 was never stored")),
        BadPickle(label: "REDUCE of a non-callable", bytes: pickle([0x4E, 0x29, 0x52]),
                  expected: .malformed(name: "p", offset: 4, reason: "REDUCE calls None, which is not callable")),
        BadPickle(label: "BUILD on a list", bytes: pickle([0x5D, 0x7D, 0x62]),
                  expected: .malformed(name: "p", offset: 4, reason: "BUILD on a list")),
        BadPickle(label: "a persistent id that is not a storage", bytes: pickle([0x4E, 0x51]),
                  expected: .malformed(name: "p", offset: 3,
                                      reason: "a persistent id is None, not a tuple starting with a str")),
        BadPickle(label: "too many marks", bytes: pickle([UInt8](repeating: 0x28, count: 5000)),
                  expected: .limitExceeded(name: "p", offset: 2 + 4096, what: "nested marks", limit: 4096)),
        BadPickle(label: "too many stack values", bytes: pickle([UInt8](repeating: 0x4E, count: 11)),
                  limits: .init(stack: 10), expected: .limitExceeded(name: "p", offset: 12, what: "stack values", limit: 10)),
        BadPickle(label: "too many memo entries", bytes: pickle([0x4E, 0x94, 0x94, 0x94]),
                  limits: .init(memo: 2), expected: .limitExceeded(name: "p", offset: 5, what: "memo entries", limit: 2)),
    ]

    @Test("malformed and hostile pickles are refused with a precise error", arguments: badPickles)
    func refusals(_ bad: BadPickle) {
        #expect(throws: bad.expected) { try Self.load(bad.bytes, limits: bad.limits) }
    }

    @Test("the forbidden-global message names the global and says nothing was run")
    func forbiddenMessage() {
        let message = PickleError.forbiddenGlobal(name: "model.pth", global: "os.system").description
        #expect(message == "model.pth: the checkpoint refers to os.system, which a state_dict never needs; "
                + "refusing to load it (Pointwise never runs code from files)")
    }

    @Test("every truncation of a Python pickle fails cleanly", arguments: [2, 4])
    func truncations(protocolVersion: Int) throws {
        let data = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("values_p\(protocolVersion).pkl")))
        // One #expect for all prefixes: recording thousands is slower than the parsing.
        let accepted = stride(from: 0, to: data.count, by: 3).filter { (try? Self.load(Array(data.prefix($0)))) != nil }
        #expect(accepted.isEmpty)
    }
}
