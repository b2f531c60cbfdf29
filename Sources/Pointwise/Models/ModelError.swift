/// A weights file does not hold the model it is loaded as: the values name the file, the tensor
/// and what was expected.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file has no tensor called `key`.
    case missingWeight(file: String, key: String, expected: [Int])
    /// The tensor `key` has the wrong shape.
    case weightShape(file: String, key: String, expected: [Int], actual: [Int])
    /// The tensor `key` is not a floating-point tensor.
    case weightType(file: String, key: String, type: ElementType)
    /// The file holds tensors the model has no place for (another model's weights?).
    case unexpectedWeights(file: String, keys: [String])
    /// The file's structure does not match the model's configuration.
    case architecture(file: String, reason: String)
    /// A layer refused the loaded weights.
    case layer(file: String, error: LayerError)

    /// A sentence that starts with the file and says what is wrong.
    public var description: String {
        switch self {
        case .missingWeight(let file, let key, let expected):
            return "\(file): missing tensor '\(key)' (expected shape \(expected)); is this the right model's weights file?"
        case .weightShape(let file, let key, let expected, let actual):
            return "\(file): tensor '\(key)' has shape \(actual), expected \(expected)"
        case .weightType(let file, let key, let type):
            return "\(file): tensor '\(key)' holds \(type.rawValue) values, expected floating point"
        case .unexpectedWeights(let file, let keys):
            let shown = keys.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            return "\(file): \(keys.count) tensor(s) the model has no place for (\(shown)\(keys.count > 5 ? ", …" : "")); "
                + "is this the right model's weights file?"
        case .architecture(let file, let reason):
            return "\(file): \(reason)"
        case .layer(let file, let error):
            return "\(file): \(error.description)"
        }
    }
}
