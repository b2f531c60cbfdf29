// MARK: - Scanline filters

/// Each scanline is stored as the difference from a prediction made from its left neighbour `a`
/// (one pixel back, `stride` bytes), the byte above `b` and the byte above-left `c`; the filter
/// type byte before the scanline says which prediction. All arithmetic is modulo 256.
extension PNG {
    /// The five filter types, by their code in the file.
    enum Filter: UInt8, CaseIterable {
        case none = 0, sub, up, average, paeth
    }

    /// Undoes `filter` on one scanline in place.
    ///
    /// - Parameters:
    ///   - line: The `count` filtered bytes of the scanline (after its type byte), replaced by the raw bytes.
    ///   - previous: The raw bytes of the scanline above, or zeros for a pass's first scanline.
    ///   - stride: Bytes per pixel, at least 1.
    static func unfilter(_ filter: Filter, line: UnsafeMutablePointer<UInt8>, previous: UnsafePointer<UInt8>,
                         count: Int, stride: Int) {
        let head = min(stride, count)
        switch filter {
        case .none:
            break
        case .sub:
            for i in stride..<max(stride, count) { line[i] &+= line[i - stride] }
        case .up:
            for i in 0..<count { line[i] &+= previous[i] }
        case .average:
            for i in 0..<head { line[i] &+= previous[i] >> 1 }
            for i in stride..<max(stride, count) {
                line[i] &+= UInt8((UInt16(line[i - stride]) + UInt16(previous[i])) >> 1)
            }
        case .paeth:
            for i in 0..<head { line[i] &+= previous[i] }
            for i in stride..<max(stride, count) {
                line[i] &+= paethPredictor(line[i - stride], previous[i], previous[i - stride])
            }
        }
    }

    /// Writes `raw` filtered with `filter` into `output` (both `count` bytes); the inverse of `unfilter`.
    static func apply(_ filter: Filter, raw: UnsafePointer<UInt8>, previous: UnsafePointer<UInt8>,
                      output: UnsafeMutablePointer<UInt8>, count: Int, stride: Int) {
        for i in 0..<count {
            let left = i >= stride ? raw[i - stride] : 0
            let upperLeft = i >= stride ? previous[i - stride] : 0
            let prediction: UInt8
            switch filter {
            case .none: prediction = 0
            case .sub: prediction = left
            case .up: prediction = previous[i]
            case .average: prediction = UInt8((UInt16(left) + UInt16(previous[i])) >> 1)
            case .paeth: prediction = paethPredictor(left, previous[i], upperLeft)
            }
            output[i] = raw[i] &- prediction
        }
    }

    /// Of `a` (left), `b` (above) and `c` (above-left), the one closest to `a + b − c`, ties
    /// going to `a`, then `b`.
    @inline(__always)
    static func paethPredictor(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// libpng's heuristic cost of a filtered scanline: the sum of its bytes read as signed
    /// magnitudes (0 and 255 are both "small"), so rows near zero compress best.
    static func cost(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int {
        var sum = 0
        for i in 0..<count { sum += Int(bytes[i] < 128 ? bytes[i] : 0 &- bytes[i]) }
        return sum
    }
}
