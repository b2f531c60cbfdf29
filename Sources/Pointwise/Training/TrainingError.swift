/// Training could not start or go on: the values tell what was wrong and where.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tensor's shape does not fit (`role` names it, `expected` the form it needs).
    case shape(role: String, expected: String, actual: [Int])
    /// A class label is neither in `0..<classes` nor the ignore index.
    case label(position: Int, value: Int, classes: Int)
    /// A setting is out of its range.
    case setting(name: String, value: String, expected: String)
    /// The loss became NaN or infinite: training diverged (lower the learning rate).
    case nonFiniteLoss(epoch: Int, step: Int, value: Float)
    /// A layer of the network refused its settings or input.
    case convolution(ConvolutionError)
    /// A tensor could not be made.
    case tensor(TensorError)
    /// A saved model could not be written or read (`path` names the file or directory).
    case modelFile(path: String, problem: String)
    /// A parameter file could not be read or written.
    case npy(NPYError)

    /// A sentence that names the problem and the expected form.
    public var description: String {
        switch self {
        case .shape(let role, let expected, let actual):
            return "\(role) shape \(actual) does not fit: expected \(expected)"
        case .label(let position, let value, let classes):
            return "label \(value) at position \(position) is outside 0..<\(classes) (the number of classes)"
        case .setting(let name, let value, let expected):
            return "\(name) = \(value) is out of range: expected \(expected)"
        case .nonFiniteLoss(let epoch, let step, let value):
            return "the loss became \(value) at epoch \(epoch), step \(step): training diverged; "
                + "try a lower learning rate"
        case .convolution(let error):
            return error.description
        case .tensor(let error):
            return error.description
        case .modelFile(let path, let problem):
            return "\(path): \(problem)"
        case .npy(let error):
            return error.description
        }
    }
}
