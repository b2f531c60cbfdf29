import Foundation

/// Line plots (loss curves, explained variance) and bar charts (which input channels an output
/// channel uses), with axes, tick labels and titles in the built-in font.
public enum Charts {
    /// The plot area's size in pixels.
    static let plotWidth = 560, plotHeight = 300
    /// Margins: left (tick labels), top (title), right, bottom (tick and axis labels).
    static let left = 100, top = 68, right = 24, bottom = 64

    /// A colour per series, distinguishable in print and by colour-blind readers (Okabe–Ito).
    static let palette: [(UInt8, UInt8, UInt8)] = [
        (0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233),
    ]

    /// Draws one or more series against their index (epoch, component, …).
    /// - Parameters:
    ///   - series: name and values of each line (the same x for all: 0, 1, 2, …).
    ///   - title: above the plot.
    ///   - xLabel, yLabel: axis labels.
    ///   - logarithmic: a log₁₀ y axis (for losses spanning decades); needs positive values.
    /// - Throws: `PictureError.empty` without finite values to draw (or positive ones on a log axis).
    public static func lines(
        _ series: [(name: String, values: [Double])], title: String, xLabel: String, yLabel: String,
        logarithmic: Bool = false
    ) throws(PictureError) -> Canvas {
        let transform: (Double) -> Double = logarithmic ? { log10($0) } : { $0 }
        let usable = series.flatMap(\.values).filter { $0.isFinite && (!logarithmic || $0 > 0) }.map(transform)
        guard let low = usable.min(), let high = usable.max(), let count = series.map(\.values.count).max(), count >= 1 else {
            throw .empty(logarithmic ? "no positive finite values" : "no finite values")
        }
        var canvas = frame(title: title, xLabel: xLabel, yLabel: yLabel)
        let (yMin, yMax) = low == high ? (low - 1, high + 1) : (low, high)
        yTicks(&canvas, low: yMin, high: yMax, label: { FeatureGrid.format(Float(logarithmic ? pow(10, $0) : $0)) })
        let xMax = max(count - 1, 1)
        xTicks(&canvas, count: count)
        func point(_ index: Int, _ value: Double) -> (x: Int, y: Int) {
            (left + index * plotWidth / xMax, top + Int((1 - (transform(value) - yMin) / (yMax - yMin)) * Double(plotHeight)))
        }
        for (index, line) in series.enumerated() {
            let color = palette[index % palette.count]
            var previous: (x: Int, y: Int)? = nil
            for (i, value) in line.values.enumerated() where value.isFinite && (!logarithmic || value > 0) {
                let p = point(i, value)
                if let previous {
                    canvas.line(from: previous, to: p, color: color)
                    canvas.line(from: (previous.x, previous.y + 1), to: (p.x, p.y + 1), color: color)   // 2 px thick
                }
                canvas.fill(x: p.x - 2, y: p.y - 2, width: 5, height: 5, color: color)
                previous = p
            }
            if series.count > 1 {   // legend, top right
                let y = top + 8 + index * (Canvas.textHeight() + 6), x = left + plotWidth - 180
                canvas.fill(x: x, y: y + 5, width: 16, height: 4, color: color)
                canvas.text(line.name, x: x + 22, y: y, color: color)
            }
        }
        return canvas
    }

    /// Draws one bar per value, labelled underneath (e.g. the absolute weights an output channel
    /// gives each input band), zero-based; negative bars go below the axis.
    /// - Throws: `PictureError.empty` without values, `.shape` when labels and values differ in count.
    public static func bars(_ values: [Double], labels: [String], title: String, xLabel: String, yLabel: String)
        throws(PictureError) -> Canvas {
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { throw .empty("no values, or values that are not finite") }
        guard labels.count == values.count else {
            throw .shape(expected: "\(values.count) labels, one per bar", actual: [labels.count])
        }
        var canvas = frame(title: title, xLabel: xLabel, yLabel: yLabel)
        let (yMin, yMax) = (min(values.min()!, 0), max(values.max()!, 0) == min(values.min()!, 0) ? 1 : max(values.max()!, 0))
        yTicks(&canvas, low: yMin, high: yMax, label: { FeatureGrid.format(Float($0)) })
        let slot = plotWidth / values.count, barWidth = max(1, slot * 2 / 3)
        func y(_ value: Double) -> Int { top + Int((1 - (value - yMin) / (yMax - yMin)) * Double(plotHeight)) }
        let zero = y(0)
        let step = max(1, Int((Double(values.count) * Double(Canvas.textWidth("000")) / Double(plotWidth)).rounded(.up)))
        for (index, value) in values.enumerated() {
            let x = left + index * slot + (slot - barWidth) / 2, top = min(y(value), zero)
            canvas.fill(x: x, y: top, width: barWidth, height: max(abs(y(value) - zero), 1), color: palette[0])
            if index % step == 0 {
                let label = labels[index]
                canvas.text(label, x: x + barWidth / 2 - Canvas.textWidth(label) / 2, y: Self.top + plotHeight + 8)
            }
        }
        canvas.line(from: (left, zero), to: (left + plotWidth, zero), color: (0, 0, 0))
        return canvas
    }

    // MARK: - Frame, axes and ticks

    /// A canvas with the title, the axes and the axis labels.
    private static func frame(title: String, xLabel: String, yLabel: String) -> Canvas {
        var canvas = Canvas(width: max(left + plotWidth + right, Canvas.textWidth(title) + 32), height: top + plotHeight + bottom)
        canvas.text(title, x: 16, y: 14)
        canvas.line(from: (left, top), to: (left, top + plotHeight), color: (0, 0, 0))
        canvas.line(from: (left, top + plotHeight), to: (left + plotWidth, top + plotHeight), color: (0, 0, 0))
        canvas.text(xLabel, x: left + plotWidth / 2 - Canvas.textWidth(xLabel) / 2, y: top + plotHeight + 36, color: (60, 60, 60))
        canvas.text(yLabel, x: 16, y: top - 26, color: (60, 60, 60))
        return canvas
    }

    /// Five labelled ticks on the y axis, with light grid lines.
    private static func yTicks(_ canvas: inout Canvas, low: Double, high: Double, label: (Double) -> String) {
        for i in 0...4 {
            let value = low + (high - low) * Double(i) / 4, y = top + plotHeight - i * plotHeight / 4
            canvas.line(from: (left + 1, y), to: (left + plotWidth, y), color: (225, 225, 225))
            canvas.line(from: (left - 5, y), to: (left, y), color: (0, 0, 0))
            let text = label(value)
            canvas.text(text, x: left - 10 - Canvas.textWidth(text), y: y - Canvas.textHeight() / 2)
        }
    }

    /// Up to six labelled ticks on the x axis at whole indices.
    private static func xTicks(_ canvas: inout Canvas, count: Int) {
        let last = max(count - 1, 1), step = max(1, Int((Double(last) / 5).rounded(.up)))
        for index in stride(from: 0, through: count - 1, by: step) {
            let x = left + index * plotWidth / last
            canvas.line(from: (x, top + plotHeight), to: (x, top + plotHeight + 5), color: (0, 0, 0))
            canvas.text("\(index)", x: x - Canvas.textWidth("\(index)") / 2, y: top + plotHeight + 10)
        }
    }
}
