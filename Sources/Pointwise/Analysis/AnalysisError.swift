/// An analysis (PCA, its comparison with autoencoders) could not be done: the values say what
/// was wrong with the data or the settings.
public enum AnalysisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than two samples (pixels): with one the variance is undefined (n − 1 = 0), with none
    /// there is nothing to fit.
    case tooFewSamples(count: Int)
    /// A tensor's shape does not fit (`role` names it, `expected` the form it needs).
    case shape(role: String, expected: String, actual: [Int])
    /// A value of the input is NaN or infinite (logical position: image, channel, linear spatial index).
    case nonFinite(image: Int, channel: Int, position: Int, value: Float)
    /// The number of components asked for is outside `1…channels`.
    case componentCount(requested: Int, channels: Int)
    /// A setting is out of its range.
    case setting(name: String, value: String, expected: String)
    /// Making or running an exported convolution failed.
    case convolution(ConvolutionError)
    /// Training an autoencoder for the comparison failed.
    case training(TrainingError)
    /// A tensor could not be made or sliced.
    case tensor(TensorError)

    /// A sentence that names the problem and the expected form.
    public var description: String {
        switch self {
        case .tooFewSamples(let count):
            return "PCA needs at least 2 samples (pixels) to estimate a variance (denominator n − 1); got \(count)"
        case .shape(let role, let expected, let actual):
            return "\(role) shape \(actual) does not fit: expected \(expected)"
        case .nonFinite(let image, let channel, let position, let value):
            return "value \(value) at image \(image), channel \(channel), position \(position) is not finite"
        case .componentCount(let requested, let channels):
            return "\(requested) components requested: expected 1…\(channels) (the number of channels)"
        case .setting(let name, let value, let expected):
            return "\(name) = \(value) is out of range: expected \(expected)"
        case .convolution(let error):
            return error.description
        case .training(let error):
            return error.description
        case .tensor(let error):
            return error.description
        }
    }
}
