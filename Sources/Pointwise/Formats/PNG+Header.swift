// MARK: - IHDR

extension PNG {
    /// The color types PNG defines, by their IHDR code.
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        /// Samples per pixel in the file (a palette index is one sample).
        var samplesPerPixel: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }

        /// The bit depths PNG allows for this color type.
        var bitDepths: [Int] {
            switch self {
            case .gray: [1, 2, 4, 8, 16]
            case .palette: [1, 2, 4, 8]
            case .rgb, .grayAlpha, .rgba: [8, 16]
            }
        }
    }

    /// The validated contents of an IHDR chunk, and the sizes that follow from them.
    struct Header {
        let width: Int
        let height: Int
        /// 1, 2, 4, 8 or 16 bits per sample.
        let bitDepth: Int
        let colorType: ColorType
        let interlaced: Bool

        /// Parses the 13 bytes of IHDR, checking every field and the pixel limit.
        init(_ data: UnsafeRawBufferPointer, name: String) throws(PNGError) {
            guard data.count == 13 else {
                throw .malformedChunk(name: name, type: "IHDR", reason: "its length is \(data.count), not 13")
            }
            let width = data.loadUnaligned(fromByteOffset: 0, as: UInt32.self).bigEndian
            let height = data.loadUnaligned(fromByteOffset: 4, as: UInt32.self).bigEndian
            let limit = UInt32(Int32.max)
            guard (1...limit).contains(width), (1...limit).contains(height) else {
                throw .invalidDimensions(name: name, width: width, height: height)
            }
            guard let colorType = ColorType(rawValue: data[9]), colorType.bitDepths.contains(Int(data[8])) else {
                throw .invalidColorType(name: name, colorType: data[9], bitDepth: data[8])
            }
            for (field, offset, maximum) in [("compression", 10, 0), ("filter", 11, 0), ("interlace", 12, 1)]
            where data[offset] > maximum {
                throw .unsupportedMethod(name: name, field: field, value: data[offset])
            }
            // Both are below 2^31, so the product cannot overflow a 64-bit Int.
            guard Int(width) * Int(height) <= Image.maxPixels else {
                throw .imageTooLarge(name: name, width: Int(width), height: Int(height), limit: Image.maxPixels)
            }
            self.width = Int(width)
            self.height = Int(height)
            self.bitDepth = Int(data[8])
            self.colorType = colorType
            self.interlaced = data[12] == 1
        }

        /// Bits per pixel in the file.
        var bitsPerPixel: Int { colorType.samplesPerPixel * bitDepth }

        /// The byte distance filters look back: one whole pixel, or 1 byte for sub-byte pixels.
        var filterStride: Int { max(1, bitsPerPixel / 8) }

        /// Bytes in a scanline of `pixels` pixels, without its filter-type byte.
        func rowBytes(_ pixels: Int) -> Int { (pixels * bitsPerPixel + 7) / 8 }

        /// The passes the scanlines come in: Adam7's seven, or one covering the whole image.
        var passes: [Pass] { interlaced ? Pass.adam7 : [Pass.whole] }

        /// The decompressed size of the image data: every pass's scanlines, each with its filter byte.
        /// At most `Image.maxPixels * 9` bytes, so it cannot overflow.
        var imageDataSize: Int {
            passes.reduce(0) { total, pass in
                let (columns, rows) = pass.size(width: width, height: height)
                return columns == 0 ? total : total + rows * (1 + rowBytes(columns))
            }
        }
    }
}
