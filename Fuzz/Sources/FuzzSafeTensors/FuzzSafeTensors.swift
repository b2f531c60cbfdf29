import Foundation
import Pointwise

/// libFuzzer's entry point: one input opened as a safetensors file (the length, the JSON header,
/// the layout checks), and every tensor of a file that validates read in full.
/// Throwing is a pass; a crash, a leak or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let file = try? SafeTensorsFile(data: data, name: "fuzz.safetensors") {
        for (_, array) in file.arrays { _ = array.floats() }
    }
    return 0
}
