// From the unpickled object to named RawArrays: finding the tensors in nested dicts and lists,
// then turning each strided tensor into C-order bytes.

extension TorchCheckpoint {
    /// Flattens an unpickled checkpoint into named tensors and converts them, with bounds on the
    /// work a hostile file can cause.
    struct StateDictBuilder {
        let path: String
        /// The object pickle: its root value and containers.
        let document: PickleDocument
        /// Deepest nesting of dicts and lists followed.
        let maximumDepth = 64
        /// Values visited while flattening. A tree-shaped object visits each value about twice, and
        /// each value costs at least one pickle byte, so a budget proportional to the pickle's length
        /// only stops files whose containers share one another exponentially.
        private var visitsLeft: Int
        private let visitLimit: Int
        /// Bytes that gathered copies of non-contiguous tensors may still use.
        private var copyBytesLeft: Int
        private let copyLimit: Int
        /// Whether a container holds a tensor somewhere inside, by container.
        private var holdsTensorCache: [Container: Bool] = [:]
        /// Tensors already converted, so one tensor object reached under two names is read once.
        private var arrays: [ObjectIdentifier: RawArray] = [:]

        /// A container of the heap, as a cache key.
        private enum Container: Hashable {
            case sequence(Int), dict(Int)
        }

        init(path: String, document: PickleDocument, fileLength: Int) {
            self.path = path
            self.document = document
            visitLimit = 4 * document.length + 4096
            visitsLeft = visitLimit
            // Copies never need more than the file holds except for overlapping (e.g. expanded)
            // tensors; allow those up to four times the file, and at least 16 MiB (a mask or table
            // broadcast to a layer's size), so that a file of a few hundred bytes cannot make the
            // reader allocate and fill gigabytes.
            copyLimit = max(1 << 24, fileLength.multipliedReportingOverflow(by: 4).partialValue)
            copyBytesLeft = copyLimit
        }

        // MARK: - Flattening

        /// The tensors of the document with their dotted names, in dict order, and the names of the
        /// values that were skipped.
        mutating func flatten() throws(TorchCheckpointError)
            -> (tensors: [(name: String, tensor: TorchTensorReference)], skipped: [String]) {
            var tensors: [(name: String, tensor: TorchTensorReference)] = []
            var skipped: [String] = []
            var object = document.root
            // Unwrap {"state_dict": {...}, "epoch": 3}: one well-known entry holds every tensor.
            while let dict = document.heap.dict(object) {
                var holders: [(key: PickleValue, value: PickleValue)] = []
                var others: [String] = []
                for entry in dict.entries {
                    if try holdsTensor(entry.value, depth: 1) {
                        holders.append(entry)
                    } else {
                        others.append(try keyName(entry.key))
                    }
                }
                guard holders.count == 1, let key = holders[0].key.text, TorchCheckpoint.wrapperKeys.contains(key),
                      case .dict = holders[0].value else { break }
                skipped += others
                object = holders[0].value
            }

            switch object {
            case .dict, .list, .tuple:
                try walk(object, name: "", depth: 0, into: &tensors, skipped: &skipped)
            case .tensor:
                throw .notAStateDict(path: path, found: "a single tensor")
            default:
                throw .notAStateDict(path: path, found: object.typeDescription)
            }
            guard !tensors.isEmpty else {
                throw .notAStateDict(path: path, found: "\(object.typeDescription) without tensors")
            }
            var names = Set<String>()
            for (name, _) in tensors where !names.insert(name).inserted {
                throw .duplicateName(path: path, name: name)
            }
            return (tensors, skipped)
        }

        /// Adds the tensors inside `value` (a tensor, or a container holding tensors) under `name`.
        private mutating func walk(_ value: PickleValue, name: String, depth: Int,
                                   into tensors: inout [(name: String, tensor: TorchTensorReference)],
                                   skipped: inout [String]) throws(TorchCheckpointError) {
            try visit(depth: depth)
            var children: [(name: String, value: PickleValue)] = []
            if case .tensor(let tensor) = value {
                tensors.append((name, tensor))
                return
            } else if let dict = document.heap.dict(value) {
                for entry in dict.entries { children.append((try keyName(entry.key), entry.value)) }
            } else if let items = document.heap.items(value) {
                children = items.enumerated().map { (String($0.offset), $0.element) }
            } else {
                skipped.append(name)
                return
            }
            for child in children {
                let childName = name.isEmpty ? child.name : "\(name).\(child.name)"
                if try holdsTensor(child.value, depth: depth + 1) {
                    try walk(child.value, name: childName, depth: depth + 1, into: &tensors, skipped: &skipped)
                } else {
                    skipped.append(childName)
                }
            }
        }

        /// Whether `value` is a tensor or a container with a tensor somewhere inside.
        private mutating func holdsTensor(_ value: PickleValue, depth: Int) throws(TorchCheckpointError) -> Bool {
            let container: Container
            let items: [PickleValue]
            switch value {
            case .tensor:
                return true
            case .tuple(let index), .list(let index):
                container = .sequence(index)
                items = document.heap.sequences[index]
            case .dict(let index):
                container = .dict(index)
                items = document.heap.dicts[index].entries.map(\.value)
            default:
                return false
            }
            if let known = holdsTensorCache[container] { return known }
            try visit(depth: depth)
            var result = false
            for item in items where try holdsTensor(item, depth: depth + 1) {
                result = true
                break
            }
            holdsTensorCache[container] = result
            return result
        }

        /// Counts one visit, refusing files nested too deeply or sharing containers too often.
        private mutating func visit(depth: Int) throws(TorchCheckpointError) {
            guard depth <= maximumDepth else {
                throw .limitExceeded(path: path, what: "levels of nested containers (or a container holds itself)",
                                     limit: maximumDepth)
            }
            visitsLeft -= 1
            guard visitsLeft >= 0 else {
                throw .limitExceeded(path: path, what: "visits of shared containers", limit: visitLimit)
            }
        }

        /// A dict key as a name component: str keys as they are, ints in decimal (optimizer state).
        private func keyName(_ key: PickleValue) throws(TorchCheckpointError) -> String {
            switch key {
            case .integer(let integer): return String(integer)
            case .bool(let bool): return bool ? "True" : "False"
            case .none: return "None"
            default:
                guard let text = key.text else {
                    throw .notAStateDict(path: path, found: "a dict with \(key.typeDescription) keys")
                }
                return text
            }
        }

        // MARK: - Tensors

        /// The C-order array of `tensor`: a view of its storage when contiguous, else a gathered copy.
        mutating func array(of tensor: TorchTensorReference, named name: String,
                            resolve: (TorchStorageReference) throws(TorchCheckpointError) -> StorageBytes)
            throws(TorchCheckpointError) -> RawArray {
            if let known = arrays[ObjectIdentifier(tensor)] { return known }
            let array = try convert(tensor, named: name, storage: try resolve(tensor.storage))
            arrays[ObjectIdentifier(tensor)] = array
            return array
        }

        private mutating func convert(_ tensor: TorchTensorReference, named name: String,
                                      storage: StorageBytes) throws(TorchCheckpointError) -> RawArray {
            let type = tensor.storage.elementType, size = type.byteCount
            let shape = tensor.shape, strides = tensor.strides, offset = tensor.storageOffset
            func outOfBounds(_ reason: String) -> TorchCheckpointError {
                .tensorOutOfBounds(path: path, tensor: name, reason: reason)
            }

            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw outOfBounds("has sizes \(shape) whose product overflows") }
                count = product
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw outOfBounds("has sizes \(shape) too large to address") }
            guard count > 0 else {
                let none = UnsafeRawBufferPointer(start: nil, count: 0)
                return RawArray(elementType: type, shape: shape, bytes: none, owner: nil)
            }

            // The last element the strides reach must lie inside the storage.
            var last = offset
            for (dimension, stride) in zip(shape, strides) where dimension > 1 {
                let (step, stepOverflow) = (dimension - 1).multipliedReportingOverflow(by: stride)
                let (sum, sumOverflow) = last.addingReportingOverflow(step)
                guard !stepOverflow, !sumOverflow else {
                    throw outOfBounds("has strides \(strides) that overflow")
                }
                last = sum
            }
            let available = storage.bytes.count / size
            guard last < available, let source = storage.bytes.baseAddress else {
                throw outOfBounds("with offset \(offset), size \(shape) and stride \(strides) reaches element "
                                  + "\(last) of a storage of \(available) \(type.rawValue) elements")
            }

            if isContiguous(shape: shape, strides: strides) {
                let start = offset * size
                return RawArray(elementType: type, shape: shape,
                                bytes: UnsafeRawBufferPointer(rebasing: storage.bytes[start..<start + byteCount]),
                                owner: storage.owner)
            }
            guard byteCount <= copyBytesLeft else {
                throw .limitExceeded(path: path, what: "bytes of copies of non-contiguous tensors",
                                     limit: copyLimit)
            }
            copyBytesLeft -= byteCount
            let buffer = OwnedBytes(byteCount: byteCount)
            if let destination = buffer.mutableBytes.baseAddress {
                // Dimensions of size 1 contribute nothing (and may carry any stride).
                let kept = zip(shape, strides).filter { $0.0 > 1 }
                let sizes = kept.map(\.0), steps = kept.map(\.1)
                func copy<Element>(_ type: Element.Type) {
                    Self.gather(type, from: source, offset: offset, sizes: sizes, steps: steps, into: destination)
                }
                switch size {
                case 1: copy(UInt8.self)
                case 2: copy(UInt16.self)
                case 4: copy(UInt32.self)
                default: copy(UInt64.self)
                }
            }
            return RawArray(elementType: type, shape: shape, bytes: buffer.bytes, owner: buffer)
        }

        /// Whether the strides are C order's (dimensions of size 1 may have any stride, as in torch).
        private func isContiguous(shape: [Int], strides: [Int]) -> Bool {
            var expected = 1
            for (dimension, stride) in zip(shape, strides).reversed() where dimension != 1 {
                guard stride == expected else { return false }
                expected *= dimension
            }
            return true
        }

        /// Copies the strided elements into C order, a row of the innermost dimension at a time.
        /// `sizes` and `steps` omit dimensions of size 1, and at least one remains (the tensor is not
        /// contiguous). The caller checked that every element lies inside the storage, so the running
        /// source index stays within it.
        private static func gather<Element>(_: Element.Type, from source: UnsafeRawPointer, offset: Int,
                                            sizes: [Int], steps: [Int],
                                            into destination: UnsafeMutableRawPointer) {
            guard let rowLength = sizes.last, let rowStep = steps.last else { return }
            let output = destination.assumingMemoryBound(to: Element.self)
            let stride = MemoryLayout<Element>.size
            let count = sizes.reduce(1, *)
            let outer = sizes.count - 1
            var index = [Int](repeating: 0, count: outer)
            var rowStart = offset
            var written = 0
            while written < count {
                var element = rowStart
                for column in 0..<rowLength {
                    // Storages in legacy files start at any byte, so loads may be unaligned.
                    output[written + column] = source.loadUnaligned(fromByteOffset: element * stride,
                                                                    as: Element.self)
                    element += rowStep
                }
                written += rowLength
                var dimension = outer - 1
                while dimension >= 0 {
                    index[dimension] += 1
                    rowStart += steps[dimension]
                    if index[dimension] < sizes[dimension] { break }
                    rowStart -= steps[dimension] * sizes[dimension]
                    index[dimension] = 0
                    dimension -= 1
                }
            }
        }
    }
}
