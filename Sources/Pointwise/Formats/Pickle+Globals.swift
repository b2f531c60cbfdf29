// The allowlist: the only globals a pickle may name, and what "calling" each one builds. Nothing
// here runs code from the file; a call is a pattern match on the callable and its arguments.

/// A global that a state_dict pickle needs, resolved from `GLOBAL`/`STACK_GLOBAL`.
enum PickleGlobal: Equatable {
    /// `collections.OrderedDict`: `OrderedDict()` builds an empty dict (state_dicts are OrderedDicts).
    case orderedDict
    /// `torch._utils._rebuild_tensor(storage, storage_offset, size, stride)` (torch < 1.0 files).
    case rebuildTensor
    /// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    /// backward_hooks[, metadata])`.
    case rebuildTensorV2
    /// `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: an `nn.Parameter`.
    case rebuildParameter
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)`.
    case rebuildParameterWithState
    /// A typed storage class such as `torch.FloatStorage`, named in persistent ids.
    case storageType(ElementType, name: String)

    /// The storage classes `torch.save` names (torch 1.x and 2.x alike), by element type.
    static let storageTypes: [String: ElementType] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "DoubleStorage": .float64, "LongStorage": .int64, "IntStorage": .int32,
        "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    /// `module.name`, as Python prints it.
    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensor: "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: "torch._utils._rebuild_parameter_with_state"
        case .storageType(_, let name): "torch.\(name)"
        }
    }
}

extension Pickle {
    /// The allowlisted global `module.name`, or the error that refuses it.
    ///
    /// `torch.UntypedStorage` and the dtype globals (`torch.float32`) are not here: `torch.save` of
    /// a state_dict in torch 2.x still names typed storage classes and never dtypes.
    func resolveGlobal(module: String, name: String) throws(PickleError) -> PickleGlobal {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch", _) where Self.isStorageClassName(name):
            guard let type = PickleGlobal.storageTypes[name] else {
                throw .unsupportedStorageType(name: self.name, storageType: "torch.\(name)")
            }
            return .storageType(type, name: name)
        default:
            let global = "\(module).\(name)"
            let shown = global.count > 200 ? String(global.prefix(200)) + "…" : global
            throw .forbiddenGlobal(name: self.name, global: shown)
        }
    }

    /// Whether `name` looks like one of torch's storage classes (`ComplexFloatStorage`, …).
    private static func isStorageClassName(_ name: String) -> Bool {
        name.hasSuffix("Storage") && name.count <= 40
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    // MARK: - REDUCE, NEWOBJ, BUILD

    /// `REDUCE`: `callable(*arguments)` for an allowlisted callable.
    mutating func call(_ callable: PickleValue, _ arguments: PickleValue) throws(PickleError) -> PickleValue {
        guard case .global(let global) = callable else {
            throw malformed("REDUCE calls \(callable.typeDescription), which is not callable")
        }
        guard case .tuple = arguments, let arguments = heap.items(arguments) else {
            throw malformed("REDUCE passes \(arguments.typeDescription) as the arguments of "
                            + "\(global.qualifiedName), not a tuple")
        }
        switch global {
        case .orderedDict:
            guard arguments.isEmpty else { throw malformed("OrderedDict called with arguments") }
            return heap.dict()
        case .rebuildTensor, .rebuildTensorV2:
            let expected = global == .rebuildTensor ? 4...4 : 6...7
            guard expected.contains(arguments.count) else {
                throw malformed("\(global.qualifiedName) takes \(expected.lowerBound) arguments, "
                                + "not \(arguments.count)")
            }
            return .tensor(try tensor(arguments))
        case .rebuildParameter, .rebuildParameterWithState:
            let count = global == .rebuildParameter ? 3 : 4
            guard arguments.count == count, case .tensor = arguments[0] else {
                throw malformed("\(global.qualifiedName) takes a tensor and \(count - 1) more arguments")
            }
            return arguments[0]
        case .storageType:
            throw malformed("REDUCE calls the storage class \(global.qualifiedName)")
        }
    }

    /// `NEWOBJ`: `type.__new__(type, *arguments)`; only `OrderedDict` is allowed.
    mutating func instantiate(_ type: PickleValue, _ arguments: PickleValue) throws(PickleError) -> PickleValue {
        guard case .global(.orderedDict) = type, case .tuple = arguments,
              heap.items(arguments)?.isEmpty == true else {
            throw malformed("NEWOBJ of \(type.typeDescription); only OrderedDict() is allowed")
        }
        return heap.dict()
    }

    /// `BUILD`: sets an object's state. A state_dict's OrderedDict gets its `_metadata` attribute this
    /// way, which holds only module versions; the state is dropped.
    func build(_ target: PickleValue, state: PickleValue) throws(PickleError) {
        switch target {
        case .dict, .tensor: return
        default: throw malformed("BUILD on \(target.typeDescription)")
        }
    }

    // MARK: - Tensors and storages

    /// A tensor from `_rebuild_tensor(_v2)` arguments: storage, offset, size, stride, ….
    private func tensor(_ arguments: [PickleValue]) throws(PickleError) -> TorchTensorReference {
        guard case .storage(let storage) = arguments[0] else {
            throw malformed("a tensor's storage is \(arguments[0].typeDescription), not a storage")
        }
        guard let offset = arguments[1].int, offset >= 0 else {
            throw malformed("a tensor's storage offset is \(arguments[1].typeDescription), not an int ≥ 0")
        }
        let shape = try integers(arguments[2], what: "size")
        let strides = try integers(arguments[3], what: "stride")
        guard shape.count == strides.count else {
            throw malformed("a tensor has \(shape.count) sizes but \(strides.count) strides")
        }
        return TorchTensorReference(storage: storage, storageOffset: offset, shape: shape, strides: strides)
    }

    /// A tuple of non-negative ints (a tensor's size or stride).
    private func integers(_ value: PickleValue, what: String) throws(PickleError) -> [Int] {
        guard case .tuple = value, let items = heap.items(value) else {
            throw malformed("a tensor's \(what) is \(value.typeDescription), not a tuple")
        }
        guard items.count <= limits.rank else {
            throw .limitExceeded(name: name, offset: baseOffset + opcodeStart, what: "tensor dimensions",
                                 limit: limits.rank)
        }
        var result: [Int] = []
        for item in items {
            guard let integer = item.int, integer >= 0 else {
                throw malformed("a tensor's \(what) holds \(item.typeDescription), not an int ≥ 0")
            }
            result.append(integer)
        }
        return result
    }

    /// `BINPERSID`: the storage that `('storage', storage_type, key, location, numel[, view_metadata])`
    /// names.
    func persistentStorage(_ id: PickleValue) throws(PickleError) -> TorchStorageReference {
        guard case .tuple = id, let items = heap.items(id), let kind = items.first?.text else {
            throw malformed("a persistent id is \(id.typeDescription), not a tuple starting with a str")
        }
        guard kind == "storage" else {
            throw malformed("persistent id of kind '\(kind.prefix(40))', not 'storage'")
        }
        guard items.count == 5 || items.count == 6 else {
            throw malformed("a storage persistent id has \(items.count) items, not 5 or 6")
        }
        guard case .global(.storageType(let elementType, _)) = items[1] else {
            throw malformed("a storage persistent id names \(items[1].typeDescription), not a storage class")
        }
        guard let key = storageKey(items[2]) else {
            throw malformed("a storage key is \(items[2].typeDescription), not a str")
        }
        guard let location = items[3].text else {
            throw malformed("a storage location is \(items[3].typeDescription), not a str")
        }
        guard let count = items[4].int, count >= 0 else {
            throw malformed("a storage size is \(items[4].typeDescription), not an int ≥ 0")
        }
        var storage = TorchStorageReference(elementType: elementType, key: key, location: location,
                                            elementCount: count)
        if items.count == 6 {
            switch items[5] {
            case .none:
                break
            case .tuple:
                guard let view = heap.items(items[5]), view.count == 3, let viewKey = storageKey(view[0]),
                      let offset = view[1].int, let viewCount = view[2].int, offset >= 0, viewCount >= 0 else {
                    throw malformed("a storage view is not (key, offset, size)")
                }
                storage.view = .init(key: viewKey, offset: offset, elementCount: viewCount)
            default:
                throw malformed("a storage view is \(items[5].typeDescription), not a tuple or None")
            }
        }
        return storage
    }

    /// A storage key: a str (torch writes str; an int is accepted as its decimal digits).
    private func storageKey(_ value: PickleValue) -> String? {
        if let text = value.text { return text }
        if case .integer(let integer) = value { return String(integer) }
        return nil
    }
}
