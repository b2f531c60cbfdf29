// The opcode loop: what each pickle opcode does to the stack, the marks and the memo.

extension Pickle {
    /// Every opcode of pickle protocols 0–5 (names as in Python's `pickletools`).
    enum Opcode: UInt8 {
        // Protocol 0 and 1.
        case mark = 0x28, stop = 0x2E, pop = 0x30, popMark = 0x31, dup = 0x32
        case float = 0x46, int = 0x49, binInt = 0x4A, binInt1 = 0x4B, long = 0x4C, binInt2 = 0x4D
        case none = 0x4E, persID = 0x50, binPersID = 0x51, reduce = 0x52, string = 0x53
        case binString = 0x54, shortBinString = 0x55, unicode = 0x56, binUnicode = 0x58
        case append = 0x61, build = 0x62, global = 0x63, dict = 0x64, emptyDict = 0x7D
        case appends = 0x65, get = 0x67, binGet = 0x68, inst = 0x69, longBinGet = 0x6A
        case list = 0x6C, emptyList = 0x5D, obj = 0x6F, put = 0x70, binPut = 0x71
        case longBinPut = 0x72, setItem = 0x73, tuple = 0x74, emptyTuple = 0x29, setItems = 0x75
        case binFloat = 0x47
        // Protocol 2.
        case proto = 0x80, newObj = 0x81, ext1 = 0x82, ext2 = 0x83, ext4 = 0x84
        case tuple1 = 0x85, tuple2 = 0x86, tuple3 = 0x87, newTrue = 0x88, newFalse = 0x89
        case long1 = 0x8A, long4 = 0x8B
        // Protocol 3.
        case binBytes = 0x42, shortBinBytes = 0x43
        // Protocol 4.
        case shortBinUnicode = 0x8C, binUnicode8 = 0x8D, binBytes8 = 0x8E, emptySet = 0x8F
        case addItems = 0x90, frozenSet = 0x91, newObjEx = 0x92, stackGlobal = 0x93
        case memoize = 0x94, frame = 0x95
        // Protocol 5.
        case byteArray8 = 0x96, nextBuffer = 0x97, readOnlyBuffer = 0x98

        /// The `pickletools` name, e.g. `SHORT_BINUNICODE`.
        var name: String {
            // Names with an underscore; the rest are the case name in capitals (binInt1 → BININT1).
            let special: [Opcode: String] = [
                .popMark: "POP_MARK", .shortBinString: "SHORT_BINSTRING", .emptyDict: "EMPTY_DICT",
                .longBinGet: "LONG_BINGET", .emptyList: "EMPTY_LIST", .longBinPut: "LONG_BINPUT",
                .emptyTuple: "EMPTY_TUPLE", .shortBinBytes: "SHORT_BINBYTES",
                .shortBinUnicode: "SHORT_BINUNICODE", .emptySet: "EMPTY_SET", .newObjEx: "NEWOBJ_EX",
                .stackGlobal: "STACK_GLOBAL", .nextBuffer: "NEXT_BUFFER", .readOnlyBuffer: "READONLY_BUFFER",
            ]
            return special[self] ?? String(describing: self).uppercased()
        }
    }

    /// Runs opcodes until `STOP` and returns the value it pops.
    mutating func run() throws(PickleError) -> PickleValue {
        while true {
            opcodeStart = position
            guard position < bytes.count else {
                throw .truncated(name: name, offset: baseOffset + position, opcode: "the opcode stream (no STOP)")
            }
            let byte = bytes[position]
            position += 1
            guard let opcode = Opcode(rawValue: byte) else {
                throw .unknownOpcode(name: name, offset: baseOffset + opcodeStart, byte: byte)
            }
            if opcode == .stop { return try pop(for: opcode) }
            try execute(opcode)
        }
    }

    /// Executes one opcode other than `STOP`.
    private mutating func execute(_ opcode: Opcode) throws(PickleError) {
        switch opcode {
        // MARK: Framing and protocol
        case .proto:
            let version = Int(try readUnsigned(1, for: opcode))
            guard version <= 5 else {
                throw .unsupportedProtocol(name: name, offset: baseOffset + opcodeStart, version: version)
            }
        case .frame:
            // Frames only help buffered readers; the length must still fit in the file.
            _ = try readLength(8, for: opcode)

        // MARK: Scalars
        case .none: try push(.none)
        case .newTrue: try push(.bool(true))
        case .newFalse: try push(.bool(false))
        case .binInt: try push(.integer(Int64(Int32(truncatingIfNeeded: try readUnsigned(4, for: opcode)))))
        case .binInt1: try push(.integer(Int64(try readUnsigned(1, for: opcode))))
        case .binInt2: try push(.integer(Int64(try readUnsigned(2, for: opcode))))
        case .long1: try push(integer(littleEndian: try read(try readLength(1, for: opcode), for: opcode)))
        case .long4:
            let length = try readUnsigned(4, for: opcode)
            guard length < 0x8000_0000 else { throw malformed("LONG4 with a negative length") }
            guard length <= UInt64(bytes.count - position) else { throw truncated(opcode) }
            try push(integer(littleEndian: try read(Int(length), for: opcode)))
        case .binFloat:
            try push(.float(Double(bitPattern: UInt64(bigEndian: try read(8, for: opcode)
                .loadUnaligned(as: UInt64.self)))))
        case .int: try push(try textInteger(try readLine(for: opcode), boolAllowed: true))
        case .long:
            // Python 2 writes `L123L`, Python 3 `L123`; protocol 1 legacy checkpoints store torch's
            // 80-bit magic number this way.
            let line = try readLine(for: opcode)
            try push(try textLong(line.hasSuffix("L") ? String(line.dropLast()) : line))
        case .float:
            let line = try readLine(for: opcode)
            guard let value = Double(line) else { throw malformed("FLOAT operand '\(line)' is not a number") }
            try push(.float(value))

        // MARK: Strings and bytes
        case .shortBinUnicode: try push(.string(try readText(try readLength(1, for: opcode), for: opcode)))
        case .binUnicode: try push(.string(try readText(try readLength(4, for: opcode), for: opcode)))
        case .binUnicode8: try push(.string(try readText(try readLength(8, for: opcode), for: opcode)))
        case .unicode: try push(.string(try rawUnicodeEscape(try readLineBytes(for: opcode))))
        case .shortBinBytes: try push(.bytes(Array(try read(try readLength(1, for: opcode), for: opcode))))
        case .binBytes: try push(.bytes(Array(try read(try readLength(4, for: opcode), for: opcode))))
        case .binBytes8: try push(.bytes(Array(try read(try readLength(8, for: opcode), for: opcode))))
        case .shortBinString, .binString:
            // Python 2 `str`; torch.load decodes these as UTF-8, and so do we (bytes if that fails).
            let length = try readLength(opcode == .shortBinString ? 1 : 4, for: opcode)
            let raw = try read(length, for: opcode)
            try push(String(validating: raw, as: UTF8.self).map(PickleValue.string) ?? .bytes(Array(raw)))

        // MARK: Containers
        case .emptyTuple: try push(heap.tuple([]))
        case .tuple1: try push(heap.tuple([try pop(for: opcode)]))
        case .tuple2:
            let second = try pop(for: opcode), first = try pop(for: opcode)
            try push(heap.tuple([first, second]))
        case .tuple3:
            let third = try pop(for: opcode), second = try pop(for: opcode), first = try pop(for: opcode)
            try push(heap.tuple([first, second, third]))
        case .tuple: try push(heap.tuple(try popMark(for: opcode)))
        case .emptyList: try push(heap.list())
        case .list: try push(heap.list(try popMark(for: opcode)))
        case .append:
            let item = try pop(for: opcode)
            heap.sequences[try list(for: opcode)].append(item)
        case .appends:
            let items = try popMark(for: opcode)
            heap.sequences[try list(for: opcode)].append(contentsOf: items)
        case .emptyDict: try push(heap.dict())
        case .dict:
            let items = try popMark(for: opcode)
            let dict = heap.dict()
            try push(dict)
            try setItems(items, for: opcode)
        case .setItem:
            let value = try pop(for: opcode), key = try pop(for: opcode)
            heap.dicts[try dict(for: opcode)].set(key, value)
        case .setItems:
            try setItems(try popMark(for: opcode), for: opcode)

        // MARK: Stack and memo
        case .mark: try pushMark()
        case .pop: _ = try pop(for: opcode)
        case .popMark: _ = try popMark(for: opcode)
        case .dup: try push(try top(for: opcode))
        case .binPut: try store(try top(for: opcode), at: Int(try readUnsigned(1, for: opcode)))
        case .longBinPut: try store(try top(for: opcode), at: Int(try readUnsigned(4, for: opcode)))
        case .memoize: try store(try top(for: opcode), at: memo.count)
        case .put: try store(try top(for: opcode), at: try textIndex(try readLine(for: opcode)))
        case .binGet: try push(try recall(Int(try readUnsigned(1, for: opcode))))
        case .longBinGet: try push(try recall(Int(try readUnsigned(4, for: opcode))))
        case .get: try push(try recall(try textIndex(try readLine(for: opcode))))

        // MARK: Objects (allowlisted; see Pickle+Globals.swift)
        case .global:
            let module = try readLine(for: opcode)
            try push(.global(try resolveGlobal(module: module, name: try readLine(for: opcode))))
        case .stackGlobal:
            let qualifiedName = try pop(for: opcode), module = try pop(for: opcode)
            guard case .string(let moduleName) = module, case .string(let name) = qualifiedName else {
                throw malformed("STACK_GLOBAL needs two str, not \(module.typeDescription) and "
                                + "\(qualifiedName.typeDescription)")
            }
            try push(.global(try resolveGlobal(module: moduleName, name: name)))
        case .reduce:
            let arguments = try pop(for: opcode), callable = try pop(for: opcode)
            try push(try call(callable, arguments))
        case .newObj:
            let arguments = try pop(for: opcode), type = try pop(for: opcode)
            try push(try instantiate(type, arguments))
        case .build:
            let state = try pop(for: opcode)
            try build(try top(for: opcode), state: state)
        case .binPersID:
            let id = try pop(for: opcode)
            let storage = try persistentStorage(id)
            storages.append(storage)
            try push(.storage(storage))

        case .persID, .string, .inst, .obj, .ext1, .ext2, .ext4, .emptySet, .addItems, .frozenSet,
             .newObjEx, .byteArray8, .nextBuffer, .readOnlyBuffer:
            throw .unsupportedOpcode(name: name, offset: baseOffset + opcodeStart, opcode: opcode.name)
        case .stop:
            preconditionFailure("STOP is handled by run()")
        }
    }

    // MARK: - Helpers

    /// The heap index of the list on top of the stack, for `APPEND`/`APPENDS`.
    private func list(for opcode: Opcode) throws(PickleError) -> Int {
        let target = try top(for: opcode)
        guard case .list(let index) = target else {
            throw malformed("\(opcode.name) on \(target.typeDescription), not a list")
        }
        return index
    }

    /// The heap index of the dict on top of the stack, for `SETITEM`/`SETITEMS`/`DICT`.
    private func dict(for opcode: Opcode) throws(PickleError) -> Int {
        let target = try top(for: opcode)
        guard case .dict(let index) = target else {
            throw malformed("\(opcode.name) on \(target.typeDescription), not a dict")
        }
        return index
    }

    /// Adds alternating keys and values to the dict on top of the stack.
    private mutating func setItems(_ items: [PickleValue], for opcode: Opcode) throws(PickleError) {
        guard items.count.isMultiple(of: 2) else {
            throw malformed("\(opcode.name) with an odd number of items (\(items.count))")
        }
        let dict = try dict(for: opcode)
        for pair in stride(from: 0, to: items.count, by: 2) {
            heap.dicts[dict].set(items[pair], items[pair + 1])
        }
    }

    /// A Python int from little-endian two's-complement bytes (`LONG1`/`LONG4`).
    private func integer(littleEndian bytes: UnsafeRawBufferPointer) -> PickleValue {
        guard bytes.count <= 8 else { return .bigInteger(Array(bytes)) }
        guard let last = bytes.last else { return .integer(0) }
        // Sign-extend from the top byte, then fill in the bytes from the top down.
        var value: Int64 = last >= 0x80 ? -1 : 0
        for byte in bytes.reversed() { value = value << 8 | Int64(byte) }
        return .integer(value)
    }

    /// A protocol 0 `INT`/`LONG` operand; `INT` spells booleans `00` and `01`.
    private func textInteger(_ text: String, boolAllowed: Bool) throws(PickleError) -> PickleValue {
        if boolAllowed && text == "00" { return .bool(false) }
        if boolAllowed && text == "01" { return .bool(true) }
        guard let value = Int64(text) else {
            throw malformed("integer operand '\(text.prefix(40))' is not a 64-bit integer")
        }
        return .integer(value)
    }

    /// A protocol 0 `LONG` operand of any size, as `.integer` when it fits, else `.bigInteger`.
    private func textLong(_ text: String) throws(PickleError) -> PickleValue {
        if let value = Int64(text) { return .integer(value) }
        let negative = text.hasPrefix("-")
        let digits = text.utf8.dropFirst(negative || text.hasPrefix("+") ? 1 : 0)
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw malformed("LONG operand '\(text.prefix(40))' is not an integer")
        }
        // Decimal to little-endian magnitude bytes; quadratic, so bounded.
        guard digits.count <= 4096 else {
            throw .limitExceeded(name: name, offset: baseOffset + opcodeStart, what: "digits in a LONG",
                                 limit: 4096)
        }
        var magnitude: [UInt8] = [0]
        for digit in digits {
            var carry = Int(digit - 0x30)
            for index in magnitude.indices {
                let value = Int(magnitude[index]) * 10 + carry
                magnitude[index] = UInt8(value & 0xFF)
                carry = value >> 8
            }
            if carry > 0 { magnitude.append(UInt8(carry)) }
        }
        magnitude.append(0)  // room for the sign bit
        guard negative else { return .bigInteger(magnitude) }
        // Two's complement: invert and add one.
        var carry = 1
        for index in magnitude.indices {
            let value = Int(~magnitude[index]) + carry
            magnitude[index] = UInt8(value & 0xFF)
            carry = value >> 8
        }
        return .bigInteger(magnitude)
    }

    /// A protocol 0 `PUT`/`GET` index.
    private func textIndex(_ text: String) throws(PickleError) -> Int {
        guard let index = Int(text), index >= 0 else {
            throw malformed("memo index '\(text.prefix(40))' is not a number")
        }
        return index
    }

    /// Decodes Python's `raw-unicode-escape` (protocol 0 `UNICODE`): `\uXXXX` and `\UXXXXXXXX`
    /// escapes, every other byte a Latin-1 character.
    private func rawUnicodeEscape(_ line: UnsafeRawBufferPointer) throws(PickleError) -> String {
        let bytes = Array(line)
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count,
               bytes[index + 1] == UInt8(ascii: "u") || bytes[index + 1] == UInt8(ascii: "U") {
                let digits = bytes[index + 1] == UInt8(ascii: "u") ? 4 : 8
                let end = index + 2 + digits
                guard end <= bytes.count,
                      let code = UInt32(String(decoding: bytes[(index + 2)..<end], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code) else {
                    throw malformed("bad \\u escape in a UNICODE operand")
                }
                scalars.append(scalar)
                index = end
            } else {
                scalars.append(Unicode.Scalar(bytes[index]))
                index += 1
            }
        }
        return String(scalars)
    }
}
