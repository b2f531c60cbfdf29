/// A convolution was asked to do something its shapes or settings do not allow.
public enum ConvolutionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The weight is not `[Cout, Cin/groups]` (optionally followed by 1, 1×1 or 1×1×1).
    case weightShape([Int])
    /// `groups` is below 1, or does not divide the input or output channels.
    case groups(Int, inputChannels: Int, outputChannels: Int)
    /// `stride` is below 1.
    case stride(Int)
    /// The bias does not have one value per output channel.
    case biasCount(expected: Int, actual: Int)
    /// The input does not have the channels the weight expects.
    case inputChannels(expected: Int, actual: Int)
    /// A tensor that must match another's shape does not.
    case shapeMismatch(role: String, expected: [Int], actual: [Int])
    /// The thread count is below 1 or above `ExecutionOptions.maximumThreads`.
    case threads(Int)
    /// A tensor could not be made (its shape is invalid).
    case tensor(TensorError)

    /// A sentence that names the problem and the expected form.
    public var description: String {
        switch self {
        case .weightShape(let shape):
            return "weight shape \(shape) is not [Cout, Cin/groups] (or [Cout, Cin/groups, 1, 1], "
                + "[Cout, Cin/groups, 1], [Cout, Cin/groups, 1, 1, 1]) with Cout, Cin/groups ≥ 1"
        case .groups(let groups, let input, let output):
            return "groups = \(groups) must be ≥ 1 and divide both the input channels (\(input)) and "
                + "the output channels (\(output))"
        case .stride(let stride):
            return "stride = \(stride) must be ≥ 1"
        case .biasCount(let expected, let actual):
            return "bias has \(actual) values; expected one per output channel (\(expected))"
        case .inputChannels(let expected, let actual):
            return "input has \(actual) channels; the weight expects \(expected)"
        case .shapeMismatch(let role, let expected, let actual):
            return "\(role) shape \(actual) does not match the expected \(expected)"
        case .threads(let threads):
            return "thread count \(threads) must be in 1…\(ExecutionOptions.maximumThreads)"
        case .tensor(let error):
            return error.description
        }
    }
}
