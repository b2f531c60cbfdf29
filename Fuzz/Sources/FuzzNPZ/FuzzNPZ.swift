import Foundation
import Pointwise

/// libFuzzer's entry point: one input read as an `.npz` archive (the ZIP reader, inflation and
/// each member's `.npy` header), and every array that comes out read in full.
/// Throwing is a pass; a crash, a leak or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let arrays = try? NPZ.decode(data, name: "fuzz.npz") {
        for (_, array) in arrays { _ = array.floats() }
    }
    return 0
}
