import Foundation

extension Tour {
    /// The pretrained EfficientNet-Lite0 on a photo, and its dense class map (when the weights are there).
    func classifier() throws -> Step {
        let title = "A real network of 1×1 blocks: EfficientNet-Lite0 classifies a photo, and maps it"
        let demonstrates = "EfficientNet-Lite0 (83% of its multiply-adds in 1×1 convolutions) runs on a CPU in milliseconds; "
            + "with its classifier turned into a 1×1 convolution it takes a picture of any size and gives a class per 32×32 pixels."
        guard let weights, let photo else {
            return Step(title: title, demonstrates: demonstrates, figures: [
                "skipped: " + (weights == nil ? "no weights — run `pointwise models fetch efficientnet-lite0`"
                                              : "no photo — pass `--photo PICTURE.png`"),
            ], pictures: [])
        }
        let model = try EfficientNetLite(weights: TensorArchive.dictionary(path: weights), name: weights)
        let image = try PNG.read(path: photo)
        let options = ExecutionOptions(threads: threads)
        let input = try ImagePreprocessing()(image)
        var workspace = EfficientNetLite.Workspace()
        var noTimings: [EfficientNetLite.LayerTime]? = nil
        var logits = try model.logits(input, options: options, workspace: &workspace, timings: &noTimings)
        let ms = try time { logits = try model.logits(input, options: options, workspace: &workspace, timings: &noTimings) }
        let top = Classification.top(3, of: logits.scalars, names: ImageNetClasses.names)
        let dense = try ImagePreprocessing(resizeShorterSide: quick ? 224 : 448, cropSize: nil)(image)
        let map = DenseClassMap(logits: try model.denseLogits(dense, options: options))
        let picture = try save(Self.drawMap(map, over: dense), as: "classifier-dense-map.png")
        let name = URL(fileURLWithPath: photo).lastPathComponent
        return Step(title: title, demonstrates: demonstrates, figures: [
            "\(name): " + top.map { String(format: "%@ %.1f%%", $0.name, Double($0.probability) * 100) }.joined(separator: "; "),
            String(format: "batch-1 224×224 latency %.1f ms on %d thread(s)", ms, threads),
            "dense map: \(map.height)×\(map.width) locations; most common: "
                + (map.classesByLocations.first.map { ImageNetClasses.names[$0.index] } ?? "-"),
        ], pictures: [picture])
    }

    /// The picture (undoing the preprocessing) beside its class map, each class a colour, with a legend.
    static func drawMap(_ map: DenseClassMap, over input: Tensor) -> Canvas {
        let (height, width) = (input.shape[2], input.shape[3])
        let winners = map.classesByLocations.prefix(6), ranked = winners.map(\.index)
        let legend = 28 + ranked.count * (Canvas.textHeight() + 8)
        var canvas = Canvas(width: 2 * width + 48, height: height + 32 + legend)
        for y in 0..<height {
            for x in 0..<width {
                func value(_ c: Int) -> UInt8 { UInt8(max(0, min(255, input[batch: 0, channel: c, position: y * width + x] * 128 + 127))) }
                canvas.set(x: 16 + x, y: 16 + y, color: (value(0), value(1), value(2)))
            }
        }
        let cellHeight = height / max(map.height, 1), cellWidth = width / max(map.width, 1)
        for row in 0..<map.height {
            for column in 0..<map.width {
                let c = map.topClass[row * map.width + column]
                let color = ranked.firstIndex(of: c).map { Charts.palette[$0] } ?? (200, 200, 200)
                canvas.fill(x: 32 + width + column * cellWidth, y: 16 + row * cellHeight, width: cellWidth - 1,
                            height: cellHeight - 1, color: color)
            }
        }
        for (index, (c, locations)) in winners.enumerated() {
            let y = height + 32 + index * (Canvas.textHeight() + 8)
            canvas.fill(x: 16, y: y, width: 14, height: 14, color: Charts.palette[index])
            let name = ImageNetClasses.names[c].split(separator: ",").first.map(String.init) ?? ""
            canvas.text("\(name) (\(locations))", x: 38, y: y)
        }
        return canvas
    }
}
