// MARK: - Scanline bytes to image samples

extension PNG {
    /// Turns unfiltered scanlines into `Image` samples: unpacks sub-byte values, scales gray to
    /// 8 bits, joins 16-bit byte pairs, and looks palette indices up.
    struct SampleExpander {
        let header: Header
        /// Channels of the decoded image.
        let channels: Int
        /// For palette images: each entry's `channels` samples (RGB or RGBA), entry after entry.
        let palette: [UInt16]
        let name: String

        init(_ contents: Contents, name: String) {
            header = contents.header
            self.name = name
            guard header.colorType == .palette, let rgb = contents.palette else {
                channels = header.colorType.samplesPerPixel
                palette = []
                return
            }
            let alpha = contents.paletteAlpha
            channels = alpha == nil ? 3 : 4
            var entries: [UInt16] = []
            entries.reserveCapacity(rgb.count / 3 * channels)
            for entry in 0..<(rgb.count / 3) {
                entries += rgb[(3 * entry)..<(3 * entry + 3)].map(UInt16.init)
                if let alpha { entries.append(entry < alpha.count ? UInt16(alpha[entry]) : 255) }
            }
            palette = entries
        }

        /// Expands one scanline of `pixels` pixels into `samples`, pixel `i` going to image pixel
        /// `first + i * step`.
        func expand(_ line: UnsafePointer<UInt8>, pixels: Int, into samples: UnsafeMutablePointer<UInt16>,
                    first: Int, step: Int) throws(PNGError) {
            let depth = header.bitDepth
            switch (header.colorType, depth) {
            case (.palette, _):
                let entries = palette.count / channels
                try palette.withUnsafeBufferPointer { (table) throws(PNGError) in
                    for i in 0..<pixels {
                        let index = PNG.packedValue(line, index: i, depth: depth)
                        guard index < entries else {
                            throw .paletteIndexOutOfRange(name: name, index: index, count: entries)
                        }
                        let target = samples + (first + i * step) * channels
                        for c in 0..<channels { target[c] = table[index * channels + c] }
                    }
                }
            case (_, 16):
                for i in 0..<pixels {
                    let target = samples + (first + i * step) * channels
                    let source = line + 2 * i * channels
                    for c in 0..<channels { target[c] = UInt16(source[2 * c]) << 8 | UInt16(source[2 * c + 1]) }
                }
            case (_, 8):
                for i in 0..<pixels {
                    let target = samples + (first + i * step) * channels
                    let source = line + i * channels
                    for c in 0..<channels { target[c] = UInt16(source[c]) }
                }
            default:
                // Gray at 1, 2 or 4 bits: 255 / (2^depth - 1) is exactly 255, 85 or 17.
                let scale = UInt16(255 / ((1 << depth) - 1))
                for i in 0..<pixels {
                    samples[first + i * step] = UInt16(PNG.packedValue(line, index: i, depth: depth)) * scale
                }
            }
        }
    }

    /// Value `index` of a scanline packing `depth`-bit values (1, 2, 4 or 8), most significant bits first.
    @inline(__always)
    static func packedValue(_ line: UnsafePointer<UInt8>, index: Int, depth: Int) -> Int {
        let bit = index * depth
        return Int(line[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)
    }
}
