import Foundation
import Pointwise

/// libFuzzer's entry point: one input decoded as a PNG file (chunks, zlib, filters, Adam7,
/// palettes and transparency).
/// Throwing is a pass; a crash, a leak or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let image = try? PNG.decode(data, name: "fuzz.png") {
        precondition(image.samples.count == image.width * image.height * image.channels)
    }
    return 0
}
