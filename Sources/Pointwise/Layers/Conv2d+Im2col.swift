/// The patch (im2col) matrices of one image's output rows `rows`, one per group, that turn a
/// convolution into GEMMs: for group g at `g · groupStride`, channels-first
/// `[Cin/G·KH·KW × P]` with taps in (i, kh, kw) order (the weight's own order), channels-last
/// `[P × KH·KW·Cin/G]` with taps in (kh, kw, i) order (each pixel's channels stay contiguous),
/// where P = `rows.count · W'`. Padding reads as zero.
struct PatchMatrix {
    let geometry: Conv2dGeometry
    let groupInputs: Int
    let layout: Layout
    let rows: Range<Int>

    /// Columns (channels-first) or rows (channels-last) of a group's matrix: one per output pixel.
    var pixels: Int { rows.count * geometry.outputWidth }
    /// The taps of one output pixel within a group: Cin/G·KH·KW.
    var patchSize: Int { groupInputs * geometry.taps }
    /// Floats between the matrices of consecutive groups.
    var groupStride: Int { patchSize * pixels }

    /// Calls `body(matrixIndex, inputIndex)` for every element that input channels `channels`
    /// contribute to, with `inputIndex` = −1 where the patch lies in the padding. Each element
    /// of the input is visited in the same order whatever the range, so a split over channels
    /// gives the same sums.
    @inline(__always)
    private func forEachElement(_ x: Tensor, image n: Int, channels: Range<Int>, _ body: (Int, Int) -> Void) {
        let g = geometry, (kh, kw) = (g.kernelHeight, g.kernelWidth)
        func inputIndex(_ c: Int, _ oh: Int, _ ow: Int, _ r: Int, _ s: Int) -> Int {
            let ih = g.inputRow(oh, r), iw = g.inputColumn(ow, s)
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { return -1 }
            return x.memoryIndex(batch: n, channel: c, position: ih * g.width + iw)
        }
        switch layout {
        case .channelsFirst:
            for c in channels {
                let (group, i) = c.quotientAndRemainder(dividingBy: groupInputs)
                for r in 0..<kh {
                    for s in 0..<kw {
                        var index = group * groupStride + ((i * kh + r) * kw + s) * pixels
                        for oh in rows {
                            for ow in 0..<g.outputWidth {
                                body(index, inputIndex(c, oh, ow, r, s))
                                index += 1
                            }
                        }
                    }
                }
            }
        case .channelsLast:
            for oh in rows {
                for ow in 0..<g.outputWidth {
                    let pixel = (oh - rows.lowerBound) * g.outputWidth + ow
                    for r in 0..<kh {
                        for s in 0..<kw {
                            for c in channels {
                                let (group, i) = c.quotientAndRemainder(dividingBy: groupInputs)
                                body(group * groupStride + pixel * patchSize + (r * kw + s) * groupInputs + i,
                                     inputIndex(c, oh, ow, r, s))
                            }
                        }
                    }
                }
            }
        }
    }

    /// The workers' shares of the input channels.
    private static func shares(_ channels: Int, threads: Int) -> [Range<Int>] {
        let workers = max(1, min(threads, channels))
        return (0..<workers).map { channels * $0 / workers..<channels * ($0 + 1) / workers }
    }

    /// Fills `matrix` (all groups) from image `n` of `x`, on `threads` threads.
    func gather(_ x: Tensor, image n: Int, into matrix: UnsafeMutablePointer<Float>, threads: Int) {
        let source = x.pointer, shares = Self.shares(x.channels, threads: threads)
        Parallel.forEach(shares.count) { worker in
            if layout == .channelsFirst {
                gatherChannelsFirst(source + x.memoryIndex(batch: n, channel: 0, position: 0), channels: shares[worker],
                                    into: matrix)
            } else {
                forEachElement(x, image: n, channels: shares[worker]) { m, i in matrix[m] = i >= 0 ? source[i] : 0 }
            }
        }
    }

    /// The channels-first gather, one matrix row segment (channel, tap, output row) at a time:
    /// the columns that fall in the padding are zero-filled, the rest copied with the stride.
    private func gatherChannelsFirst(
        _ image: UnsafePointer<Float>, channels: Range<Int>, into matrix: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, outputWidth = g.outputWidth
        // Output columns whose input column is inside the image, for kernel column s.
        func validColumns(_ s: Int) -> Range<Int> {
            let first = g.inputColumn(0, s)
            let lower = first >= 0 ? 0 : (-first + g.stride - 1) / g.stride
            let upperInput = g.width - first  // ow·stride < upperInput
            let upper = upperInput <= 0 ? 0 : min(outputWidth, (upperInput + g.stride - 1) / g.stride)
            return lower..<max(lower, upper)
        }
        for c in channels {
            let (group, i) = c.quotientAndRemainder(dividingBy: groupInputs)
            let plane = image + c * g.height * g.width
            for r in 0..<g.kernelHeight {
                for s in 0..<g.kernelWidth {
                    let valid = validColumns(s), offset = g.inputColumn(0, s)
                    var row = matrix + group * groupStride + ((i * g.kernelHeight + r) * g.kernelWidth + s) * pixels
                    for oh in rows {
                        let ih = g.inputRow(oh, r)
                        if ih < 0 || ih >= g.height || valid.isEmpty {
                            row.update(repeating: 0, count: outputWidth)
                        } else {
                            row.update(repeating: 0, count: valid.lowerBound)
                            let source = plane + ih * g.width + offset
                            for ow in valid { row[ow] = source[ow * g.stride] }
                            (row + valid.upperBound).update(repeating: 0, count: outputWidth - valid.upperBound)
                        }
                        row += outputWidth
                    }
                }
            }
        }
    }

    /// Adds every element of `matrix` (all groups) into the input element it was gathered from
    /// (col2im), in image `n` of `dx`, on `threads` threads (each owns whole channels).
    func scatterAdd(_ matrix: UnsafePointer<Float>, into dx: Tensor, target: UnsafeMutablePointer<Float>,
                    image n: Int, threads: Int) {
        let shares = Self.shares(dx.channels, threads: threads)
        Parallel.forEach(shares.count) { worker in
            forEachElement(dx, image: n, channels: shares[worker]) { m, i in
                if i >= 0 { target[i] += matrix[m] }
            }
        }
    }
}
