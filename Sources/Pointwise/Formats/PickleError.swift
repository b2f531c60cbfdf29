/// Why the restricted unpickler refused a pickle inside a checkpoint.
///
/// Every case carries `name` (the checkpoint's path) and, where it helps, `offset`: the byte of the
/// file (or, in a zip checkpoint, of `data.pkl`) where the offending opcode starts. `description` is
/// a sentence starting with `name`.
public enum PickleError: Error, CustomStringConvertible, Equatable {
    /// The pickle ends inside `opcode` (or before its `STOP`).
    case truncated(name: String, offset: Int, opcode: String)
    /// A byte that is no pickle opcode.
    case unknownOpcode(name: String, offset: Int, byte: UInt8)
    /// A real pickle opcode that `torch.save` never writes (e.g. `INST`, `EXT1`, `NEXT_BUFFER`).
    case unsupportedOpcode(name: String, offset: Int, opcode: String)
    /// A `PROTO` above 5.
    case unsupportedProtocol(name: String, offset: Int, version: Int)
    /// A `GLOBAL`/`STACK_GLOBAL` outside the state_dict allowlist, e.g. `os.system`.
    case forbiddenGlobal(name: String, global: String)
    /// A torch storage class Pointwise has no element type for (complex, quantized, float8, …).
    case unsupportedStorageType(name: String, storageType: String)
    /// Well-formed opcodes that do not fit together (wrong argument types, a `SETITEMS` with an odd
    /// item count, a memo entry that was never stored, popping past a `MARK`, …).
    case malformed(name: String, offset: Int, reason: String)
    /// The pickle exceeds a safety bound (stack depth, memo size, tensor rank).
    case limitExceeded(name: String, offset: Int, what: String, limit: Int)

    /// A sentence starting with the file name that says what is wrong.
    public var description: String {
        switch self {
        case .truncated(let name, let offset, let opcode):
            return "\(name): the file is truncated: the pickle ends inside \(opcode) (at byte \(offset))"
        case .unknownOpcode(let name, let offset, let byte):
            let hex = String(byte, radix: 16, uppercase: false)
            return "\(name): not a valid pickle: byte 0x\(hex) at \(offset) is no pickle opcode"
        case .unsupportedOpcode(let name, let offset, let opcode):
            return "\(name): the pickle uses \(opcode) (at byte \(offset)), which torch.save never "
                + "writes; Pointwise reads state_dicts saved with torch.save"
        case .unsupportedProtocol(let name, let offset, let version):
            return "\(name): pickle protocol \(version) (at byte \(offset)) is newer than 5, the "
                + "highest Pointwise reads"
        case .forbiddenGlobal(let name, let global):
            return "\(name): the checkpoint refers to \(global), which a state_dict never needs; "
                + "refusing to load it (Pointwise never runs code from files)"
        case .unsupportedStorageType(let name, let storageType):
            return "\(name): the checkpoint holds a \(storageType), which Pointwise cannot represent "
                + "(it reads float32/16/64, bfloat16, int64/32/16/8, uint8 and bool tensors)"
        case .malformed(let name, let offset, let reason):
            return "\(name): malformed pickle at byte \(offset): \(reason)"
        case .limitExceeded(let name, let offset, let what, let limit):
            return "\(name): the pickle exceeds the limit of \(limit) \(what) (at byte \(offset)); "
                + "a state_dict never comes close, so the file is corrupt or hostile"
        }
    }
}
