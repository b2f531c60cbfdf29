/// One class of a classifier's answer: its index, name and softmax probability.
public struct ClassScore: Sendable, Equatable {
    /// The class index (the logit's position).
    public let index: Int
    /// The class name.
    public let name: String
    /// The softmax probability, 0…1.
    public let probability: Float
}

/// Turning logits into answers.
public enum Classification {
    /// The softmax of `logits`, computed in double precision after subtracting the maximum (no
    /// overflow for any finite logits).
    public static func softmax(_ logits: [Float]) -> [Float] {
        guard let maximum = logits.max() else { return [] }
        let exponentials = logits.map { Foundation.exp(Double($0 - maximum)) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { Float($0 / sum) }
    }

    /// The `count` most probable classes, most probable first (ties: lower index first).
    /// - Parameters:
    ///   - logits: one score per class.
    ///   - count: how many to return (at most `logits.count`).
    ///   - names: class names by index (e.g. `ImageNetClasses.names`); missing names read "class i".
    public static func top(_ count: Int, of logits: [Float], names: [String]) -> [ClassScore] {
        let probabilities = softmax(logits)
        let order = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        return order.prefix(max(count, 0)).map { index in
            ClassScore(index: index, name: index < names.count ? names[index] : "class \(index)",
                       probability: probabilities[index])
        }
    }
}

import Foundation
