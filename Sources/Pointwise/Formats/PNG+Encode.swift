import Foundation

// MARK: - Encoding

extension PNG {
    /// The largest IDAT chunk the encoder writes; bigger streams are split across several.
    private static let maxChunkLength = 1 << 20

    /// Signature, IHDR, the compressed scanlines in IDAT chunks, IEND.
    static func encodeFile(_ image: Image) -> Data {
        let colorTypes: [ColorType] = [.gray, .grayAlpha, .rgb, .rgba]
        var header = [UInt8]()
        header += bigEndianBytes(UInt32(image.width))
        header += bigEndianBytes(UInt32(image.height))
        // Bit depth, color type, compression 0, filter method 0, no interlacing.
        header += [UInt8(image.bitDepth), colorTypes[image.channels - 1].rawValue, 0, 0, 0]

        var file = Data(signature)
        appendChunk("IHDR", header, to: &file)
        let stream = deflate(filteredScanlines(image))
        var start = 0
        repeat {
            let end = min(start + maxChunkLength, stream.count)
            appendChunk("IDAT", stream[start..<end], to: &file)
            start = end
        } while start < stream.count
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// Every row as big-endian bytes, preceded by the filter type whose output costs least.
    private static func filteredScanlines(_ image: Image) -> [UInt8] {
        let bytesPerSample = image.bitDepth / 8
        let rowSamples = image.width * image.channels
        let count = rowSamples * bytesPerSample
        var output = [UInt8](repeating: 0, count: image.height * (count + 1))
        // The raw row, the raw row above (zeros above the first), and one filtered candidate.
        var scratch = [UInt8](repeating: 0, count: 3 * count)
        image.samples.withUnsafeBufferPointer { samples in
            output.withUnsafeMutableBufferPointer { output in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    guard let samples = samples.baseAddress, let rows = output.baseAddress,
                          let buffers = scratch.baseAddress else { return }
                    var (current, previous) = (buffers, buffers + count)
                    let candidate = buffers + 2 * count
                    for y in 0..<image.height {
                        let source = samples + y * rowSamples
                        for i in 0..<rowSamples {
                            if bytesPerSample == 2 {
                                current[2 * i] = UInt8(source[i] >> 8)
                                current[2 * i + 1] = UInt8(truncatingIfNeeded: source[i])
                            } else {
                                current[i] = UInt8(truncatingIfNeeded: source[i])
                            }
                        }
                        let row = rows + y * (count + 1)
                        var best = Int.max
                        for filter in Filter.allCases {
                            apply(filter, raw: current, previous: previous, output: candidate, count: count,
                                  stride: image.channels * bytesPerSample)
                            let cost = cost(candidate, count: count)
                            guard cost < best else { continue }
                            best = cost
                            row[0] = filter.rawValue
                            (row + 1).update(from: candidate, count: count)
                        }
                        swap(&current, &previous)
                    }
                }
            }
        }
        return output
    }

    /// Appends length, type, data and CRC.
    private static func appendChunk<Bytes: Collection<UInt8>>(_ type: String, _ data: Bytes, to file: inout Data) {
        let body = Array(type.utf8) + data
        file += bigEndianBytes(UInt32(data.count))
        file += body
        file += bigEndianBytes(body.withUnsafeBytes { crc($0) })
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }
}
