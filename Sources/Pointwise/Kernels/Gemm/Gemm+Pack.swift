/// A matrix packed once into the panel order the microkernels read, zero-padded to whole panels.
///
/// A-side packing (the M×K left operand) stores, per k block, panels of `tileRows` rows with the
/// rows interleaved: element (i, p) of a panel at `p * tileRows + i`. B-side packing (the K×N
/// right operand) stores, per k block, panels of `tileColumns` columns: element (p, j) at
/// `p * tileColumns + j`. Weights are packed like this once, when a layer is made. The storage
/// starts on a 64-byte line, so each 16-float row of a B panel is one whole cache line.
final class PackedMatrix: @unchecked Sendable {
    enum Side { case a, b }

    let side: Side
    /// The logical matrix: M×K for the A side, K×N for the B side.
    let rows: Int
    let columns: Int
    /// The number of rows (A side) or columns (B side) after padding to whole panels.
    let paddedWidth: Int
    private let storage: UnsafeMutablePointer<Float>

    init(side: Side, rows: Int, columns: Int, from source: MatrixView) {
        self.side = side
        self.rows = rows
        self.columns = columns
        let (width, depth, panel) =
            side == .a
            ? (rows, columns, KernelConfig.tileRows) : (columns, rows, KernelConfig.tileColumns)
        paddedWidth = (width + panel - 1) / panel * panel
        let count = max(paddedWidth * depth, 1)
        storage = .allocateOnCacheLines(count)
        storage.initialize(repeating: 0, count: count)
        for block in Gemm.depthBlocks(depth) {
            let p0 = block.lowerBound, depthCount = block.count
            for w0 in stride(from: 0, to: width, by: panel) {
                let target = self.panel(depthStart: p0, depthCount: depthCount, index: w0 / panel)
                for p in 0..<depthCount {
                    for w in 0..<min(panel, width - w0) {
                        let (i, j) = side == .a ? (w0 + w, p0 + p) : (p0 + p, w0 + w)
                        target[p * panel + w] = source.base[i * source.rowStride + j * source.columnStride]
                    }
                }
            }
        }
    }

    deinit { storage.deallocate() }

    /// The panel `index` of the k block that starts at `depthStart` and is `depthCount` deep.
    @inline(__always)
    func panel(depthStart: Int, depthCount: Int, index: Int) -> UnsafeMutablePointer<Float> {
        let panelWidth = side == .a ? KernelConfig.tileRows : KernelConfig.tileColumns
        return storage + depthStart * paddedWidth + index * panelWidth * depthCount
    }
}
