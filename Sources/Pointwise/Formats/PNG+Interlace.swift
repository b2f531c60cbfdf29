// MARK: - Adam7 interlacing

extension PNG {
    /// One pass of the image: the pixels at `(x0 + i·dx, y0 + j·dy)`.
    ///
    /// An interlaced PNG stores seven such sub-images (Adam7), each filtered on its own; a
    /// non-interlaced one is the single pass `whole`.
    struct Pass {
        let x0: Int
        let y0: Int
        let dx: Int
        let dy: Int

        /// Every pixel, row by row.
        static let whole = Pass(x0: 0, y0: 0, dx: 1, dy: 1)

        /// The seven Adam7 passes, in file order: an 8×8 grid refined to every pixel.
        static let adam7 = [
            Pass(x0: 0, y0: 0, dx: 8, dy: 8), Pass(x0: 4, y0: 0, dx: 8, dy: 8),
            Pass(x0: 0, y0: 4, dx: 4, dy: 8), Pass(x0: 2, y0: 0, dx: 4, dy: 4),
            Pass(x0: 0, y0: 2, dx: 2, dy: 4), Pass(x0: 1, y0: 0, dx: 2, dy: 2),
            Pass(x0: 0, y0: 1, dx: 1, dy: 2),
        ]

        /// Columns and rows of this pass in a `width × height` image; a pass with either 0 has no
        /// scanlines at all (not even filter bytes).
        func size(width: Int, height: Int) -> (columns: Int, rows: Int) {
            let columns = width > x0 ? (width - x0 + dx - 1) / dx : 0
            let rows = height > y0 ? (height - y0 + dy - 1) / dy : 0
            return columns == 0 || rows == 0 ? (0, 0) : (columns, rows)
        }

        /// The image pixel index (`y * width + x`) of this pass's scanline `row`, column 0.
        func firstPixel(ofRow row: Int, width: Int) -> Int {
            (y0 + row * dy) * width + x0
        }
    }
}
