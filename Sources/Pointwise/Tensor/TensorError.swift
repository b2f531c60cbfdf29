/// A tensor could not be made or used as asked: the values tell what was wrong.
public enum TensorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The shape has fewer than 2 or more than 5 dimensions.
    case unsupportedRank(shape: [Int])
    /// A dimension is negative, or the element count overflows `Int`.
    case invalidShape(shape: [Int])
    /// The number of values given does not match the shape.
    case valueCountMismatch(shape: [Int], expected: Int, actual: Int)
    /// A batch index or range lies outside `0..<N`.
    case batchOutOfRange(requested: String, batchSize: Int)

    /// A sentence that names the problem and the expected form.
    public var description: String {
        switch self {
        case .unsupportedRank(let shape):
            return "shape \(shape) has \(shape.count) dimensions; expected [N, C] plus 0 to 3 spatial "
                + "dimensions (2 to 5 in all)"
        case .invalidShape(let shape):
            return "shape \(shape) is invalid: dimensions must be non-negative and their product must "
                + "fit in memory"
        case .valueCountMismatch(let shape, let expected, let actual):
            return "shape \(shape) needs \(expected) values, got \(actual)"
        case .batchOutOfRange(let requested, let batchSize):
            return "batch \(requested) is outside 0..<\(batchSize)"
        }
    }
}
