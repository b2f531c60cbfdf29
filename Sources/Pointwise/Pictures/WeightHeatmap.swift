/// A 1×1 convolution's weight matrix `[Cout × Cin]` as a heatmap: rows are output channels,
/// columns input channels, blue negative, white zero, red positive (a diverging colormap
/// symmetric around zero), with axis labels and a colour bar.
public enum WeightHeatmap {
    /// Draws the weight matrix.
    /// - Parameters:
    ///   - weight: `[Cout, Cin]` or PyTorch's `[Cout, Cin, 1, 1]`, row-major values.
    ///   - shape: the weight's shape.
    ///   - title: the text above the picture.
    /// - Returns: the picture.
    /// - Throws: `PictureError` when the shape is not a weight matrix or it has no elements, or
    ///   when the picture would have more than `Image.maxPixels` pixels.
    public static func render(_ weight: [Float], shape: [Int], title: String) throws(PictureError) -> Canvas {
        // w: [Cout, Cin(, 1, 1)]  →  Cout rows × Cin columns of cell×cell squares
        guard shape.count >= 2, shape.dropFirst(2).allSatisfy({ $0 == 1 }), shape[0] >= 1, shape[1] >= 1,
              shape[0].multipliedReportingOverflow(by: shape[1]) == (weight.count, false) else {
            throw .shape(expected: "[Cout, Cin] or [Cout, Cin, 1, 1]", actual: shape)
        }
        let (rows, columns) = (shape[0], shape[1])
        // At least a pixel per weight, in a picture of at most Image.maxPixels.
        guard rows <= Image.maxPixels / columns else { throw .matrixTooLarge(rows: rows, columns: columns) }
        let largest = weight.filter(\.isFinite).map(abs).max() ?? 0
        let cell = max(1, min(32, 512 / max(rows, columns)))
        let left = 16 + Canvas.textWidth("OUT 0000") + 8
        let top = 16 + Canvas.textHeight() + 12 + Canvas.textHeight() + 8
        let matrixWidth = columns * cell, matrixHeight = rows * cell
        let width = max(left + matrixWidth + 16, Canvas.textWidth(title) + 32, left + 256 + 16)
        let height = top + matrixHeight + 16 + 12 + 6 + Canvas.textHeight() + 16
        guard Canvas.fits(width: width, height: height) else { throw .matrixTooLarge(rows: rows, columns: columns) }
        var canvas = Canvas(width: width, height: height)
        canvas.text(title, x: 16, y: 16)
        canvas.text("INPUT CHANNEL 0…\(columns - 1) →", x: left, y: 16 + Canvas.textHeight() + 12, color: (80, 80, 80))
        canvas.text("OUT 0", x: 16, y: top, color: (80, 80, 80))
        canvas.text("OUT \(rows - 1)", x: 16, y: top + matrixHeight - Canvas.textHeight(), color: (80, 80, 80))
        let normalized = weight.map { largest > 0 ? 0.5 + 0.5 * $0 / largest : 0.5 }
        canvas.matrix(normalized, rows: rows, columns: columns, x: left, y: top, cell: cell, colormap: .blueWhiteRed)
        let y = top + matrixHeight + 16, barWidth = max(256, min(matrixWidth, 512))
        for i in 0..<barWidth {
            canvas.fill(x: left + i, y: y, width: 1, height: 12, color: Colormap.blueWhiteRed.color(Float(i) / Float(barWidth - 1)))
        }
        let (low, high) = ("-" + FeatureGrid.format(largest), FeatureGrid.format(largest))
        canvas.text(low, x: left, y: y + 18)
        canvas.text("0", x: left + barWidth / 2 - 5, y: y + 18)
        canvas.text(high, x: left + barWidth - Canvas.textWidth(high), y: y + 18)
        return canvas
    }
}
