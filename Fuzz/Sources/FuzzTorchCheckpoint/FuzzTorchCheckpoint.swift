import Foundation
import Pointwise

/// libFuzzer's entry point: one input read as a PyTorch checkpoint, zip or legacy (the restricted
/// unpickler runs on every input that starts like a pickle), and every tensor read in full.
/// Throwing is a pass; a crash, a leak or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchCheckpoint(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let contents = try? TorchCheckpoint.decode(data, name: "fuzz.pth") {
        for (_, array) in contents.tensors { _ = array.floats() }
    }
    return 0
}
