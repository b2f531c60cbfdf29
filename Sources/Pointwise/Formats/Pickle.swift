/// A restricted unpickler for the pickles inside PyTorch checkpoints (protocols 0–5).
///
/// It never runs code: `GLOBAL`/`STACK_GLOBAL` resolve only against the handful of names a
/// state_dict needs (`Pickle+Globals.swift`), and calling them builds plain values (an empty dict,
/// a `TorchTensorReference`). Everything a file controls is bounded: lengths are checked against the
/// bytes that remain before anything is allocated, and the stack, the marks and the memo have
/// limits a real checkpoint never approaches. The machine is a loop, never recursive.
///
/// Reference: Python's `Lib/pickle.py` and `Lib/pickletools.py` (the opcode documentation).
struct Pickle {
    /// Bounds on what a file can make the unpickler hold.
    struct Limits {
        /// Values on the stack, across all marks (a state_dict needs a few thousand).
        var stack = 1 << 20
        /// Open `MARK`s (nesting depth of tuples, lists and dicts under construction).
        var marks = 1 << 12
        /// Memo entries.
        var memo = 1 << 22
        /// Dimensions of one tensor.
        var rank = 64
    }

    /// The bytes the pickle lies in; the machine starts at index 0.
    let bytes: UnsafeRawBufferPointer
    /// The checkpoint's path, prefixed to every error.
    let name: String
    /// Added to positions in `bytes` to report file offsets.
    let baseOffset: Int
    let limits: Limits

    var position = 0
    /// Where the opcode being executed starts (for errors).
    var opcodeStart = 0
    var stack: [PickleValue] = []
    /// Stack heights at each open `MARK`; nothing may be popped below the innermost one.
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var heap = PickleHeap()
    var storages: [TorchStorageReference] = []

    /// Unpickles one pickle from the start of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: The pickle, possibly followed by other data (legacy checkpoints are five pickles
    ///     and raw storage bytes back to back).
    ///   - name: The checkpoint's path, for errors.
    ///   - baseOffset: The file offset of `bytes[0]`, for errors.
    /// - Returns: The value with its containers, the pickle's length, and the storages its
    ///   persistent ids referred to.
    /// - Throws: `PickleError` for anything but a well-formed pickle of allowlisted objects.
    static func load(_ bytes: UnsafeRawBufferPointer, name: String, baseOffset: Int = 0,
                     limits: Limits = Limits()) throws(PickleError) -> PickleDocument {
        var machine = Pickle(bytes: bytes, name: name, baseOffset: baseOffset, limits: limits)
        let root = try machine.run()
        return PickleDocument(root: root, heap: machine.heap, length: machine.position, storages: machine.storages)
    }

    // MARK: - Errors

    /// `.malformed` at the current opcode.
    func malformed(_ reason: String) -> PickleError {
        .malformed(name: name, offset: baseOffset + opcodeStart, reason: reason)
    }

    /// `.truncated` inside `opcode`.
    func truncated(_ opcode: Opcode) -> PickleError {
        .truncated(name: name, offset: baseOffset + opcodeStart, opcode: opcode.name)
    }

    // MARK: - Reading operands

    /// The next `count` bytes of `opcode`'s operand.
    mutating func read(_ count: Int, for opcode: Opcode) throws(PickleError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else { throw truncated(opcode) }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
    }

    /// A little-endian unsigned operand of `size` bytes (1, 2, 4 or 8).
    mutating func readUnsigned(_ size: Int, for opcode: Opcode) throws(PickleError) -> UInt64 {
        try read(size, for: opcode).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A length operand of `size` bytes, checked against the bytes that remain.
    mutating func readLength(_ size: Int, for opcode: Opcode) throws(PickleError) -> Int {
        let length = try readUnsigned(size, for: opcode)
        guard length <= UInt64(bytes.count - position) else { throw truncated(opcode) }
        return Int(length)
    }

    /// The bytes up to the next newline (protocol 0 operands), without the newline.
    mutating func readLineBytes(for opcode: Opcode) throws(PickleError) -> UnsafeRawBufferPointer {
        guard let newline = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw truncated(opcode)
        }
        defer { position = newline + 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<newline])
    }

    /// The UTF-8 text up to the next newline, without the newline.
    mutating func readLine(for opcode: Opcode) throws(PickleError) -> String {
        guard let line = String(validating: try readLineBytes(for: opcode), as: UTF8.self) else {
            throw malformed("the \(opcode.name) operand is not UTF-8 text")
        }
        return line
    }

    /// UTF-8 text of `count` bytes.
    mutating func readText(_ count: Int, for opcode: Opcode) throws(PickleError) -> String {
        guard let text = String(validating: try read(count, for: opcode), as: UTF8.self) else {
            throw malformed("the \(opcode.name) string is not valid UTF-8")
        }
        return text
    }

    // MARK: - Stack

    mutating func push(_ value: PickleValue) throws(PickleError) {
        guard stack.count < limits.stack else {
            throw .limitExceeded(name: name, offset: baseOffset + opcodeStart, what: "stack values",
                                 limit: limits.stack)
        }
        stack.append(value)
    }

    /// Pops the top value, which must lie above the innermost mark.
    mutating func pop(for opcode: Opcode) throws(PickleError) -> PickleValue {
        guard stack.count > (marks.last ?? 0) else {
            throw malformed("\(opcode.name) needs a value, but the stack is empty")
        }
        return stack.removeLast()
    }

    /// The top value, which must lie above the innermost mark.
    func top(for opcode: Opcode) throws(PickleError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw malformed("\(opcode.name) needs a value, but the stack is empty")
        }
        return value
    }

    /// Replaces the top value (after `top(for:)` succeeded).
    mutating func replaceTop(_ value: PickleValue) {
        stack[stack.count - 1] = value
    }

    mutating func pushMark() throws(PickleError) {
        guard marks.count < limits.marks else {
            throw .limitExceeded(name: name, offset: baseOffset + opcodeStart, what: "nested marks",
                                 limit: limits.marks)
        }
        marks.append(stack.count)
    }

    /// Pops the innermost mark and everything above it.
    mutating func popMark(for opcode: Opcode) throws(PickleError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("\(opcode.name) without a MARK") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    // MARK: - Memo

    mutating func store(_ value: PickleValue, at index: Int) throws(PickleError) {
        guard memo.count < limits.memo || memo[index] != nil else {
            throw .limitExceeded(name: name, offset: baseOffset + opcodeStart, what: "memo entries",
                                 limit: limits.memo)
        }
        memo[index] = value
    }

    func recall(_ index: Int) throws(PickleError) -> PickleValue {
        guard let value = memo[index] else { throw malformed("memo entry \(index) was never stored") }
        return value
    }
}
