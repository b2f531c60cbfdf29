/// Per-location class probabilities from a convolutionalized classifier
/// (`EfficientNetLite.denseLogits`): which class each part of a picture looks like.
public struct DenseClassMap: Sendable {
    /// Rows of locations.
    public let height: Int
    /// Columns of locations.
    public let width: Int
    /// Classes per location.
    public let classCount: Int
    /// Softmax probabilities `[classes, height, width]` (channels-first, the first image's).
    public let probabilities: [Float]
    /// The most probable class at each location, row-major `[height, width]`.
    public let topClass: [Int]

    /// The map of the first image of `logits`, `[N, classes, h, w]`.
    public init(logits: Tensor) {
        let x = logits.converted(to: .channelsFirst)
        let (classes, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let positions = height * width
        let values = x.scalars
        var probabilities = [Float](repeating: 0, count: classes * positions)
        var topClass = [Int](repeating: 0, count: positions)
        for position in 0..<positions {
            let column = (0..<classes).map { values[$0 * positions + position] }
            let softmax = Classification.softmax(column)
            for c in 0..<classes { probabilities[c * positions + position] = softmax[c] }
            topClass[position] = column.indices.max { column[$0] < column[$1] } ?? 0
        }
        (self.height, self.width, self.classCount) = (height, width, classes)
        self.probabilities = probabilities
        self.topClass = topClass
    }

    /// The probability of class `index` at each location, row-major `[height, width]`.
    public func probabilities(ofClass index: Int) -> ArraySlice<Float> {
        probabilities[index * height * width..<(index + 1) * height * width]
    }

    /// Every class that is the most probable one somewhere, with the number of locations it
    /// wins, most locations first (ties: lower class index first).
    public var classesByLocations: [(index: Int, locations: Int)] {
        var counts: [Int: Int] = [:]
        for c in topClass { counts[c, default: 0] += 1 }
        return counts.map { (index: $0.key, locations: $0.value) }
            .sorted { $0.locations != $1.locations ? $0.locations > $1.locations : $0.index < $1.index }
    }

    /// A text picture of the map: one letter per location naming its most probable class
    /// (lower case when that probability is below 50%; `·` for classes outside the 12 most
    /// frequent), then a legend of the letters, most frequent class first.
    /// - Parameter names: class names by index.
    public func rendering(names: [String]) -> String {
        let winners = classesByLocations
        let ranked = winners.map(\.index)
        let counts = Dictionary(uniqueKeysWithValues: winners.map { ($0.index, $0.locations) })
        let letters = Array("ABCDEFGHIJKL")
        var letter: [Int: Character] = [:]
        for (rank, c) in ranked.enumerated() { letter[c] = rank < letters.count ? letters[rank] : "·" }
        var lines: [String] = []
        for row in 0..<height {
            let cells = (0..<width).map { column -> String in
                let position = row * width + column, c = topClass[position]
                let symbol = letter[c] ?? "·"
                return probabilities[c * height * width + position] >= 0.5 ? String(symbol) : symbol.lowercased()
            }
            lines.append("  " + cells.joined(separator: " "))
        }
        for c in ranked.prefix(letters.count) {
            let name = c < names.count ? names[c] : "class \(c)"
            lines.append("  \(letter[c]!) = \(name) (\(c)): \(counts[c]!) location(s)")
        }
        if ranked.count > letters.count {
            let rest = ranked.dropFirst(letters.count).reduce(0) { $0 + counts[$1]! }
            lines.append("  · = \(ranked.count - letters.count) other classes: \(rest) location(s)")
        }
        return lines.joined(separator: "\n")
    }
}
