// MARK: - Decoding

extension PNG {
    /// Decodes a whole file: chunks → inflated scanlines → unfiltered, per pass → image samples.
    static func decode(bytes: UnsafeRawBufferPointer, name: String) throws(PNGError) -> Image {
        let contents = try readContents(bytes, name: name)
        let header = contents.header
        var scanlines = try inflate(contents.imageData, expected: header.imageDataSize, name: name)
        let expander = SampleExpander(contents, name: name)
        let channels = expander.channels
        var samples = [UInt16](repeating: 0, count: header.width * header.height * channels)
        let zeros = [UInt8](repeating: 0, count: header.rowBytes(header.width))
        let stride = header.filterStride

        try scanlines.withUnsafeMutableBufferPointer { (data) throws(PNGError) in
            try samples.withUnsafeMutableBufferPointer { (output) throws(PNGError) in
                try zeros.withUnsafeBufferPointer { (zeros) throws(PNGError) in
                    // The sizes were checked by `inflate`, so every pointer below is in bounds.
                    guard let base = data.baseAddress, let target = output.baseAddress,
                          let zeroRow = zeros.baseAddress else { return }
                    var offset = 0
                    var scanline = 0
                    for pass in header.passes {
                        let (columns, rows) = pass.size(width: header.width, height: header.height)
                        let count = header.rowBytes(columns)
                        for row in 0..<rows {
                            guard let filter = Filter(rawValue: base[offset]) else {
                                throw .badFilterType(name: name, row: scanline, filter: base[offset])
                            }
                            let line = base + offset + 1
                            let previous = row == 0 ? zeroRow : UnsafePointer(line - (count + 1))
                            unfilter(filter, line: line, previous: previous, count: count, stride: stride)
                            try expander.expand(line, pixels: columns, into: target,
                                                first: pass.firstPixel(ofRow: row, width: header.width), step: pass.dx)
                            offset += count + 1
                            scanline += 1
                        }
                    }
                }
            }
        }
        return Image(unchecked: header.width, height: header.height, channels: channels,
                     bitDepth: header.bitDepth == 16 ? 16 : 8, samples: samples)
    }
}
