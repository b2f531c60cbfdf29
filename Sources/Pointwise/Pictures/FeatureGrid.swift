/// A grid of feature-map channels drawn with the viridis colormap, each tile labelled with its
/// channel and value range, under a title and above a colour bar: the articles' "input vs output
/// channels" figure. Ranges are taken over the finite values; NaN and ±∞ are drawn in
/// `nonFiniteColor` (outside viridis), and their tile's label counts them in that colour.
public enum FeatureGrid {
    /// The colour of NaN and infinite values (magenta: viridis never reaches it).
    public static let nonFiniteColor: (UInt8, UInt8, UInt8) = (255, 0, 255)

    /// How values become colours.
    public enum Scaling: String, Sendable, CaseIterable {
        /// Each channel from its own minimum (dark) to maximum (bright): shows every channel's pattern.
        case perChannel = "per-channel"
        /// One range for all channels: shows which channels are strong.
        case shared
    }

    /// Draws channels of one image.
    /// - Parameters:
    ///   - tensor: `[N, C, H, W]`, either layout.
    ///   - image: which image of the batch.
    ///   - channels: the channels to draw, in order (e.g. from `ChannelList.parse`).
    ///   - scaling: per-channel or shared value range.
    ///   - title: the text above the grid.
    ///   - columns: tiles per row (default: up to 8).
    /// - Returns: the picture; write it with `PNG.write(canvas.image, to:)`.
    /// - Throws: `PictureError` for a tensor that is not an image batch, an image or channel out of
    ///   range, or a picture of more than `Image.maxPixels` pixels.
    public static func render(
        _ tensor: Tensor, image: Int = 0, channels: [Int], scaling: Scaling = .perChannel, title: String,
        columns: Int? = nil
    ) throws(PictureError) -> Canvas {
        // x: [N, C, H, W]  →  tiles of H×W, zoomed to at least 96 pixels
        guard tensor.shape.count == 4, tensor.shape[2] >= 1, tensor.shape[3] >= 1 else {
            throw .shape(expected: "[N, C, H, W] with H, W ≥ 1", actual: tensor.shape)
        }
        guard !channels.isEmpty else { throw .empty("no channels chosen") }
        guard (0..<tensor.batchSize).contains(image) else {
            throw .shape(expected: "an image index below N = \(tensor.batchSize), got \(image)", actual: tensor.shape)
        }
        for c in channels where !(0..<tensor.channels).contains(c) {
            throw .channelOutOfRange(channel: c, channels: tensor.channels)
        }
        let (height, width) = (tensor.shape[2], tensor.shape[3])
        // Every tile has at least a pixel per position: bounding those first keeps the layout's
        // arithmetic below from overflowing.
        let tooLarge = PictureError.tooLarge(channels: channels.count, height: height, width: width)
        guard Double(channels.count) * Double(height) * Double(width) <= Double(Image.maxPixels) else { throw tooLarge }
        let planes = channels.map { c in (0..<height * width).map { tensor[batch: image, channel: c, position: $0] } }
        let ranges = planes.map { plane -> (Float, Float) in
            let finite = plane.filter(\.isFinite)
            return (finite.min() ?? 0, finite.max() ?? 0)
        }
        let nonFinite = planes.map { $0.lazy.filter { !$0.isFinite }.count }
        let finiteRanges = ranges.indices.filter { nonFinite[$0] < planes[$0].count }.map { ranges[$0] }
        let shared = (finiteRanges.map(\.0).min() ?? 0, finiteRanges.map(\.1).max() ?? 0)
        let rangeLabels = ranges.indices.map { i in
            nonFinite[i] == planes[i].count ? "NO FINITE VALUE" : "\(format(ranges[i].0))…\(format(ranges[i].1))"
        }
        let nonFiniteLabels = nonFinite.map { $0 == 0 ? "" : "\($0) NAN/INF" }
        let zoom = max(1, min(96 / max(height, width), 16)), tileWidth = width * zoom, tileHeight = height * zoom
        let labelWidth = (rangeLabels + nonFiniteLabels + ["-0.000…-0.000"]).map { Canvas.textWidth($0) }.max()! + 4
        let cellWidth = max(tileWidth, labelWidth, Canvas.textWidth("CH 0000")) + 16
        let columnCount = max(1, min(columns ?? 8, channels.count))
        let rowCount = (channels.count + columnCount - 1) / columnCount
        let labelLines = nonFinite.contains { $0 > 0 } ? 3 : 2
        let labelHeight = labelLines * (Canvas.textHeight() + 4) + 2
        let cellHeight = labelHeight + tileHeight + 16
        let top = 16 + Canvas.textHeight() + 16
        let bar = scaling == .shared ? 16 + 12 + 6 + Canvas.textHeight() + 8 : 8
        let canvasWidth = max(columnCount * cellWidth + 16, Canvas.textWidth(title) + 32)
        let canvasHeight = top + rowCount * cellHeight + bar
        guard Canvas.fits(width: canvasWidth, height: canvasHeight) else { throw tooLarge }
        var canvas = Canvas(width: canvasWidth, height: canvasHeight)
        canvas.text(title, x: 16, y: 16)
        for (index, channel) in channels.enumerated() {
            let x = 16 + (index % columnCount) * cellWidth, y = top + (index / columnCount) * cellHeight
            let (low, high) = scaling == .shared ? shared : ranges[index]
            canvas.text("CH \(channel)", x: x, y: y)
            canvas.text(rangeLabels[index], x: x, y: y + Canvas.textHeight() + 4, color: (80, 80, 80))
            canvas.text(nonFiniteLabels[index], x: x, y: y + 2 * (Canvas.textHeight() + 4), color: nonFiniteColor)
            let span = high - low
            let normalized = planes[index].map { span > 0 ? ($0 - low) / span : 0.5 }
            canvas.matrix(normalized, rows: height, columns: width, x: x, y: y + labelHeight, cell: zoom, colormap: .viridis)
            for (position, value) in planes[index].enumerated() where !value.isFinite {
                canvas.fill(x: x + position % width * zoom, y: y + labelHeight + position / width * zoom,
                            width: zoom, height: zoom, color: nonFiniteColor)
            }
        }
        if scaling == .shared {
            let y = top + rowCount * cellHeight + 8, barWidth = min(canvasWidth - 32, 384)
            for i in 0..<barWidth {
                canvas.fill(x: 16 + i, y: y, width: 1, height: 12, color: Colormap.viridis.color(Float(i) / Float(barWidth - 1)))
            }
            canvas.text(format(shared.0), x: 16, y: y + 18)
            let right = format(shared.1)
            canvas.text(right, x: 16 + barWidth - Canvas.textWidth(right), y: y + 18)
        }
        return canvas
    }

    /// A short decimal for labels: `0.123`, `-12.3`, `1.2E+04`.
    static func format(_ value: Float) -> String {
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude >= 1e4 || magnitude < 1e-3) { return String(format: "%.1E", Double(value)) }
        return String(format: magnitude >= 100 ? "%.0f" : magnitude >= 10 ? "%.1f" : "%.3f", Double(value))
    }
}

import Foundation
