/// A value built by the restricted unpickler: Python's plain data types, plus the few torch objects
/// a state_dict holds (storage references and tensors, still unresolved: their bytes live outside
/// the pickle).
///
/// Containers are indices into the `PickleHeap` of the pickle they came from. Pickles mutate
/// containers after memoizing them (`EMPTY_DICT`, `BINPUT`, then `SETITEMS`), so a later `BINGET`
/// must reach the same container; indices give that identity without references between
/// containers, so a hostile pickle can nest or cycle them as it likes and freeing them never
/// recurses.
enum PickleValue {
    case none
    case bool(Bool)
    case integer(Int64)
    /// A Python int outside Int64: little-endian two's-complement bytes, as `LONG1`/`LONG4` store it.
    case bigInteger([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// `heap.sequences[index]`, immutable.
    case tuple(Int)
    /// `heap.sequences[index]`.
    case list(Int)
    /// `heap.dicts[index]` (a dict or an `OrderedDict`).
    case dict(Int)
    /// One of the allowlisted globals (`GLOBAL`/`STACK_GLOBAL`).
    case global(PickleGlobal)
    /// What a `BINPERSID` with a `('storage', …)` id stands for.
    case storage(TorchStorageReference)
    /// The result of `torch._utils._rebuild_tensor_v2` and friends.
    case tensor(TorchTensorReference)

    /// "an int", "a dict", …: the Python type, for error messages.
    var typeDescription: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .integer, .bigInteger: "an int"
        case .float: "a float"
        case .string: "a str"
        case .bytes: "a bytes object"
        case .tuple: "a tuple"
        case .list: "a list"
        case .dict: "a dict"
        case .global(let global): global.qualifiedName
        case .storage: "a storage"
        case .tensor: "a tensor"
        }
    }

    /// The value as an Int, when it is an int that fits.
    var int: Int? {
        if case .integer(let value) = self { return Int(exactly: value) }
        return nil
    }

    /// The value as text: a str, or an ASCII bytes object (Python 2 pickles store names that way).
    var text: String? {
        switch self {
        case .string(let string): return string
        case .bytes(let bytes) where bytes.allSatisfy({ $0 < 0x80 }): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// Whether the value is the Python int whose minimal little-endian two's-complement encoding
    /// is `bytes` (Python's own `LONG1` encoding; redundant sign bytes are ignored).
    func isInteger(littleEndian bytes: [UInt8]) -> Bool {
        switch self {
        case .integer(let value):
            return Self.minimalEncoding(withUnsafeBytes(of: value.littleEndian, Array.init)) == bytes
        case .bigInteger(let encoded):
            return Self.minimalEncoding(encoded) == bytes
        default:
            return false
        }
    }

    /// Drops the high bytes that only repeat the sign.
    private static func minimalEncoding(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        while bytes.count > 1 {
            let last = bytes[bytes.count - 1], previous = bytes[bytes.count - 2]
            guard (last == 0 && previous < 0x80) || (last == 0xFF && previous >= 0x80) else { break }
            bytes.removeLast()
        }
        return bytes
    }
}

/// The containers of one pickle: tuples and lists as arrays of values, dicts as `PickleDict`s.
struct PickleHeap {
    var sequences: [[PickleValue]] = []
    var dicts: [PickleDict] = []

    /// The items of a tuple or list.
    func items(_ value: PickleValue) -> [PickleValue]? {
        switch value {
        case .tuple(let index), .list(let index): sequences[index]
        default: nil
        }
    }

    /// The dict `value` refers to.
    func dict(_ value: PickleValue) -> PickleDict? {
        if case .dict(let index) = value { return dicts[index] }
        return nil
    }

    /// Stores a new tuple.
    mutating func tuple(_ items: [PickleValue]) -> PickleValue {
        sequences.append(items)
        return .tuple(sequences.count - 1)
    }

    /// Stores a new list.
    mutating func list(_ items: [PickleValue] = []) -> PickleValue {
        sequences.append(items)
        return .list(sequences.count - 1)
    }

    /// Stores a new, empty dict.
    mutating func dict() -> PickleValue {
        dicts.append(PickleDict())
        return .dict(dicts.count - 1)
    }
}

/// An unpickled pickle: its value and the containers the value refers to.
struct PickleDocument {
    var root: PickleValue
    var heap: PickleHeap
    /// The pickle's length in bytes, up to and including `STOP`.
    var length: Int
    /// Every storage reference the persistent ids named, in order (legacy files need them to lay
    /// out the storage data that follows the pickles).
    var storages: [TorchStorageReference]
}

/// A Python dict (or `collections.OrderedDict`): insertion order kept, a repeated key replaces the
/// earlier value in place, as in Python.
struct PickleDict {
    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    /// Where each hashable key sits in `entries`.
    private var positions: [PickleKey: Int] = [:]

    /// Sets `key` to `value`, replacing an existing entry for an equal key.
    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        let hashable = PickleKey(key)
        if let hashable, let position = positions[hashable] {
            entries[position].value = value
            return
        }
        if let hashable { positions[hashable] = entries.count }
        entries.append((key, value))
    }

    /// The value for a str key.
    subscript(key: String) -> PickleValue? {
        positions[.string(key)].map { entries[$0].value }
    }
}

/// The dict keys whose equality the unpickler decides; other keys (tuples, floats) are kept as
/// separate entries, which only matters for files that repeat such a key.
enum PickleKey: Hashable {
    case string(String)
    case integer(Int64)
    case bytes([UInt8])
    case none

    init?(_ value: PickleValue) {
        switch value {
        case .string(let string): self = .string(string)
        case .integer(let integer): self = .integer(integer)
        case .bool(let bool): self = .integer(bool ? 1 : 0)  // Python: True == 1
        case .bytes(let bytes): self = .bytes(bytes)
        case .none: self = .none
        default: return nil
        }
    }
}

// MARK: - Torch objects

/// A tensor storage as a persistent id names it: `('storage', torch.FloatStorage, key, location,
/// numel)` in zip checkpoints, plus a sixth `view_metadata` item in legacy ones.
struct TorchStorageReference {
    /// The element type of the storage class (`torch.FloatStorage` → `.float32`).
    var elementType: ElementType
    /// The storage's key: the record `data/<key>` in a zip archive, or the root key in a legacy file.
    var key: String
    /// The device it was saved from (`cpu`, `cuda:0`); the bytes are the same either way.
    var location: String
    /// The number of elements of the (root) storage.
    var elementCount: Int
    /// Legacy files only: this storage is a slice of the root storage `key`.
    var view: View?

    /// A legacy storage view: `elementCount` elements of the root storage from `offset`, under its
    /// own key.
    struct View {
        var key: String
        var offset: Int
        var elementCount: Int
    }
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided window onto a storage whose bytes are
/// resolved after unpickling.
///
/// A class so that the same tensor object reached twice (tied weights) is recognised and converted
/// once; it refers to nothing but its storage's description, so it cannot form chains or cycles.
final class TorchTensorReference {
    let storage: TorchStorageReference
    /// Offset of the first element, in elements of the storage.
    let storageOffset: Int
    let shape: [Int]
    /// In elements, one per dimension of `shape`.
    let strides: [Int]

    init(storage: TorchStorageReference, storageOffset: Int, shape: [Int], strides: [Int]) {
        self.storage = storage
        self.storageOffset = storageOffset
        self.shape = shape
        self.strides = strides
    }
}
