import Foundation
import Pointwise

/// libFuzzer's entry point: one input read as a `.npy` file by each of the three decoders
/// (Float32, the file's own element type, integer labels), and whatever decodes read in full.
/// Throwing is a pass; a crash, a leak or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let array = try? NPY.decode(data, name: "fuzz.npy") {
        precondition(array.values.count == array.shape.reduce(1, *))
    }
    if let array = try? NPY.decodeArray(data, name: "fuzz.npy") {
        _ = array.floats()
    }
    if let labels = try? NPY.decodeIntegers(data, name: "fuzz.npy") {
        precondition(labels.values.count == labels.shape.reduce(1, *))
    }
    return 0
}
