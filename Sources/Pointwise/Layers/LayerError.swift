/// A layer was given tensors or settings it cannot work with: the values tell what was wrong.
public enum LayerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tensor's shape does not fit the layer (`role` names the tensor, `expected` the form it needs).
    case shape(role: String, expected: String, actual: [Int])
    /// A setting or parameter is out of its range.
    case setting(name: String, value: String, expected: String)
    /// A layer cannot be converted or folded as asked (the text says which setting prevents it).
    case conversion(String)
    /// The convolution inside the layer refused its settings or input.
    case convolution(ConvolutionError)
    /// A tensor could not be made (its shape is invalid).
    case tensor(TensorError)

    /// A sentence that names the problem and the expected form.
    public var description: String {
        switch self {
        case .shape(let role, let expected, let actual):
            return "\(role) shape \(actual) does not fit: expected \(expected)"
        case .setting(let name, let value, let expected):
            return "\(name) = \(value) is out of range: expected \(expected)"
        case .conversion(let reason):
            return "cannot convert: \(reason)"
        case .convolution(let error):
            return error.description
        case .tensor(let error):
            return error.description
        }
    }
}

extension Tensor {
    /// Throws unless this tensor has exactly `shape` (any layout).
    func check(_ role: String, shape: [Int]) throws(LayerError) {
        guard self.shape == shape else { throw .shape(role: role, expected: "\(shape)", actual: self.shape) }
    }

    /// A zero tensor of `shape` in `other`'s layout, for a layer's output.
    /// - Throws: `LayerError.tensor` when the shape is invalid (e.g. more elements than a tensor holds).
    static func zeros(like other: Tensor, shape: [Int]) throws(LayerError) -> Tensor {
        do { return try Tensor(zeros: shape, layout: other.layout) } catch { throw .tensor(error) }
    }

    /// Throws unless this gradient buffer has `input`'s shape and layout.
    func checkGradientBuffer(for input: Tensor) throws(LayerError) {
        guard shape == input.shape, layout == input.layout else {
            throw .shape(role: "input gradient", expected: "\(input.shape) in \(input.layout)", actual: shape)
        }
    }
}
