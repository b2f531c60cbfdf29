import Foundation
import Testing
@testable import Pointwise

/// The pictures: colours, text, grids and heatmaps, checked by looking at their pixels.
@Suite struct PictureTests {
    @Test("viridis and the diverging map hit their end colours, white in the middle of the diverging one")
    func colormaps() {
        #expect(Colormap.viridis.color(0) == (68, 1, 84) && Colormap.viridis.color(1) == (253, 231, 37))
        #expect(Colormap.viridis.color(-3) == Colormap.viridis.color(0) && Colormap.viridis.color(.nan) == (68, 1, 84))
        #expect(Colormap.blueWhiteRed.color(0.5) == (247, 247, 247))
        let (r, _, b) = Colormap.blueWhiteRed.color(0.1)
        #expect(b > r)   // negative: blue
        // Perceptual order: viridis gets brighter all the way.
        let luma = (0...16).map { i -> Double in
            let (r, g, b) = Colormap.viridis.color(Float(i) / 16)
            return 0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b)
        }
        #expect(zip(luma, luma.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("channel lists: ranges, singles, and errors for malformed or out-of-range channels")
    func channelLists() throws {
        #expect(try ChannelList.parse("0-4", count: 8) == [0, 1, 2, 3, 4])
        #expect(try ChannelList.parse("0,2,5-7", count: 8) == [0, 2, 5, 6, 7])
        #expect(throws: PictureError.channelOutOfRange(channel: 8, channels: 8)) { try ChannelList.parse("6-8", count: 8) }
        for bad in ["", "a", "4-2", "1-2-3", "1,,2", "-1"] {
            #expect(throws: PictureError.self, "\(bad)") { try ChannelList.parse(bad, count: 8) }
        }
        #expect(throws: PictureError.duplicateChannel(channel: 2, list: "0-3,2")) { try ChannelList.parse("0-3,2", count: 8) }
        #expect(throws: PictureError.duplicateChannel(channel: 5, list: "5,5")) { try ChannelList.parse("5,5", count: 8) }
    }

    @Test("text draws dark pixels exactly where the glyph has them")
    func text() {
        var canvas = Canvas(width: 20, height: 10)
        canvas.text("1", x: 0, y: 0, scale: 1)
        // '1' row 0 is 0x04: only the middle column set.
        #expect(canvas.color(x: 2, y: 0) == (0, 0, 0) && canvas.color(x: 0, y: 0) == (255, 255, 255))
        #expect(Canvas.textWidth("AB", scale: 2) == 22)
    }

    @Test("a feature grid: one tile per channel, each showing its own pattern, written and read back as PNG")
    func featureGrid() throws {
        var random = SplitMix64(seed: 3)
        let x = TestSupport.random([2, 6, 12, 20], using: &random)
        let canvas = try FeatureGrid.render(x, image: 1, channels: [0, 2, 5], scaling: .perChannel, title: "test")
        // Tiles are zoomed to ≥ 96 px: 20 wide × 4 = 80 < 96 → zoom 4 (96 / 20), so tiles are 80×48.
        #expect(canvas.height > 48 && canvas.width >= 3 * 80)
        let image = canvas.image
        let data = PNG.encode(image)
        let decoded = try PNG.decode(data, name: "grid")
        #expect(decoded == image)
        // Non-constant content: many distinct colours, including both ends of viridis.
        var colours = Set<[UInt8]>()
        for y in 0..<canvas.height { for x in 0..<canvas.width { let c = canvas.color(x: x, y: y); colours.insert([c.0, c.1, c.2]) } }
        #expect(colours.count > 50)
        #expect(colours.contains([68, 1, 84]) && colours.contains([253, 231, 37]))   // each tile spans min…max
        #expect(throws: PictureError.channelOutOfRange(channel: 6, channels: 6)) {
            try FeatureGrid.render(x, channels: [6], title: "t")
        }
        #expect(throws: PictureError.self) { try FeatureGrid.render(x, image: 2, channels: [0], title: "t") }
    }

    @Test("a constant channel draws as one colour, with no division by zero")
    func constantChannel() throws {
        let x = try Tensor(shape: [1, 1, 4, 4], values: Array(repeating: 3, count: 16))
        let canvas = try FeatureGrid.render(x, channels: [0], title: "flat")
        #expect(canvas.width > 0)
    }

    @Test("NaN and ∞ are drawn magenta and left out of the ranges; a channel with no finite value is labelled so")
    func nonFiniteValues() throws {
        var values = (0..<32).map { Float($0) }
        values[0] = .nan
        values[1] = .infinity
        for i in 16..<32 { values[i] = .nan }   // channel 1: nothing finite
        let x = try Tensor(shape: [1, 2, 4, 4], values: values)
        let grid = try FeatureGrid.render(x, channels: [0, 1], title: "NAN")
        // Two non-finite pixels in channel 0 and sixteen in channel 1, each a zoom² square, plus the labels' text.
        let zoom = 16   // 96 / 4 = 24, capped at 16
        #expect(count(FeatureGrid.nonFiniteColor, in: grid) >= 18 * zoom * zoom)
        // Channel 0's finite values 2…15 still span viridis from end to end.
        #expect(count((68, 1, 84), in: grid) >= zoom * zoom && count((253, 231, 37), in: grid) >= zoom * zoom)
        let finite = try FeatureGrid.render(try Tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init)),
                                            channels: [0], title: "NAN")
        #expect(count(FeatureGrid.nonFiniteColor, in: finite) == 0)
    }

    @Test("a weight heatmap: red for the largest positive weight, blue for the most negative")
    func heatmap() throws {
        let weight: [Float] = [1, -1, 0, 0.5, 0, 0]
        let canvas = try WeightHeatmap.render(weight, shape: [2, 3, 1, 1], title: "W")
        var reds = 0, blues = 0
        for y in 0..<canvas.height {
            for x in 0..<canvas.width {
                let c = canvas.color(x: x, y: y)
                if c == (103, 0, 31) { reds += 1 }
                if c == (5, 48, 97) { blues += 1 }
            }
        }
        #expect(reds > 100 && blues > 100)   // whole cells (plus the colour bar's ends)
        #expect(throws: PictureError.self) { try WeightHeatmap.render([1, 2, 3], shape: [3, 1, 3, 3], title: "W") }
        // A shape whose product overflows, and a matrix too wide for a picture: errors, not traps.
        #expect(throws: PictureError.self) { try WeightHeatmap.render([1], shape: [1 << 40, 1 << 40], title: "W") }
        let wide = [Float](repeating: 1, count: 1 << 22)
        #expect(throws: PictureError.matrixTooLarge(rows: 1, columns: 1 << 22)) {
            try WeightHeatmap.render(wide, shape: [1, 1 << 22], title: "W")
        }
    }

    /// How many pixels of `canvas` have exactly `color`.
    func count(_ color: (UInt8, UInt8, UInt8), in canvas: Canvas) -> Int {
        var n = 0
        for y in 0..<canvas.height { for x in 0..<canvas.width where canvas.color(x: x, y: y) == color { n += 1 } }
        return n
    }

    @Test("line plots draw every series in its own colour; empty or non-positive log data is refused")
    func lines() throws {
        let canvas = try Charts.lines([("a", [1, 0.5, 0.25, 0.1]), ("b", [2, 1.5, 1.2, 1])], title: "LOSS",
                                      xLabel: "EPOCH", yLabel: "LOSS", logarithmic: true)
        #expect(count(Charts.palette[0], in: canvas) > 100 && count(Charts.palette[1], in: canvas) > 100)
        #expect(throws: PictureError.self) { try Charts.lines([("a", [0, -1])], title: "", xLabel: "", yLabel: "", logarithmic: true) }
        #expect(throws: PictureError.self) { try Charts.lines([("a", [])], title: "", xLabel: "", yLabel: "") }
        _ = try Charts.lines([("flat", [3, 3, 3])], title: "", xLabel: "", yLabel: "")   // a constant series is fine
    }

    @Test("bar charts: a bar per value, above and below the axis; labels must match")
    func bars() throws {
        let canvas = try Charts.bars([1, -1, 0.5], labels: ["0", "1", "2"], title: "W", xLabel: "IN", yLabel: "W")
        #expect(count(Charts.palette[0], in: canvas) > 3 * 100)
        #expect(throws: PictureError.self) { try Charts.bars([1, 2], labels: ["0"], title: "", xLabel: "", yLabel: "") }
        #expect(throws: PictureError.self) { try Charts.bars([.nan], labels: ["0"], title: "", xLabel: "", yLabel: "") }
    }
}
