/// An 8-bit RGB drawing surface for the pictures Pointwise makes: filled rectangles, lines,
/// colour-mapped matrices and text in the built-in 5×7 font, turned into an `Image` for `PNG.write`.
public struct Canvas: Sendable {
    /// Width and height in pixels.
    public let width: Int, height: Int
    /// R, G, B per pixel, row-major.
    public private(set) var pixels: [UInt8]

    /// A canvas filled with `background`.
    /// - Precondition: `Canvas.fits(width:height:)`.
    public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        precondition(Canvas.fits(width: width, height: height), "a canvas needs 1…2²⁸ pixels")
        (self.width, self.height) = (width, height)
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, color: background)
    }

    /// Whether a `width`×`height` canvas can be made: both ≥ 1 and at most `Image.maxPixels` pixels.
    public static func fits(width: Int, height: Int) -> Bool {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        return width >= 1 && height >= 1 && !overflow && pixels <= Image.maxPixels
    }

    /// Sets one pixel (ignored outside the canvas).
    public mutating func set(x: Int, y: Int, color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        (pixels[i], pixels[i + 1], pixels[i + 2]) = color
    }

    /// The colour at a pixel.
    /// - Precondition: the pixel is on the canvas (0 ≤ x < width, 0 ≤ y < height), as an array
    ///   index must be; a column past the edge would otherwise read the next row's pixel.
    public func color(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        precondition(x >= 0 && y >= 0 && x < width && y < height, "pixel (\(x), \(y)) is off the \(width)×\(height) canvas")
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Fills a rectangle (clipped to the canvas).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: (UInt8, UInt8, UInt8)) {
        for row in max(y, 0)..<max(min(y + h, height), max(y, 0)) {
            for column in max(x, 0)..<max(min(x + w, width), max(x, 0)) { set(x: column, y: row, color: color) }
        }
    }

    /// Draws a one-pixel line from (x0, y0) to (x1, y1) (Bresenham).
    public mutating func line(from start: (x: Int, y: Int), to end: (x: Int, y: Int), color: (UInt8, UInt8, UInt8)) {
        var (x, y) = start
        let (dx, dy) = (abs(end.x - x), -abs(end.y - y))
        let (sx, sy) = (x < end.x ? 1 : -1, y < end.y ? 1 : -1)
        var error = dx + dy
        while true {
            set(x: x, y: y, color: color)
            if x == end.x && y == end.y { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
        }
    }

    /// Draws a `rows × columns` matrix of values in 0…1 through `colormap`, each value a
    /// `cell`×`cell` square, top-left at (x, y).
    public mutating func matrix(_ values: [Float], rows: Int, columns: Int, x: Int, y: Int, cell: Int, colormap: Colormap) {
        for r in 0..<rows {
            for c in 0..<columns {
                fill(x: x + c * cell, y: y + r * cell, width: cell, height: cell, color: colormap.color(values[r * columns + c]))
            }
        }
    }

    /// The width in pixels of `text` drawn at `scale`.
    public static func textWidth(_ text: String, scale: Int = 2) -> Int {
        text.isEmpty ? 0 : (text.count * BitmapFont.advance - 1) * scale
    }

    /// The height in pixels of a line of text at `scale`.
    public static func textHeight(scale: Int = 2) -> Int { BitmapFont.glyphHeight * scale }

    /// Draws `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` square
    /// (scale 2 gives 10×14-pixel capitals, readable at 100%).
    public mutating func text(_ text: String, x: Int, y: Int, scale: Int = 2, color: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        for (index, character) in text.enumerated() {
            let left = x + index * BitmapFont.advance * scale
            for (row, bits) in BitmapFont.rows(of: character).enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(column)) != 0 {
                    fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
        }
    }

    /// The canvas as an 8-bit RGB image.
    public var image: Image {
        // The size was checked at creation and the byte count matches it.
        try! Image(width: width, height: height, channels: 3, bytes: pixels)
    }
}
