/// A trainable tensor with its gradient beside it, named as in a PyTorch `state_dict`.
///
/// A class, so a network, its optimizer and a file writer all see the same values: the network's
/// backward pass adds into `gradient`, the optimizer updates `value` in place.
public final class Parameter {
    /// The PyTorch name, e.g. `0.weight` or `0.bias`.
    public let name: String
    /// The PyTorch shape: `[Cout, Cin]` for a weight, `[Cout]` for a bias.
    public let shape: [Int]
    /// The values, as a 2-D tensor (`[Cout, Cin]`, or `[Cout, 1]` for a bias).
    public var value: Tensor
    /// dL/dvalue, shaped like `value`; the backward pass adds into it.
    public var gradient: Tensor

    /// A parameter holding `values`.
    /// - Parameters:
    ///   - name: the PyTorch name.
    ///   - shape: `[rows, columns]` or `[rows]`, whose product is `values.count`.
    ///   - values: the elements in row-major order.
    /// - Throws: `TensorError` when the shape and the values do not fit.
    public init(name: String, shape: [Int], values: [Float]) throws(TensorError) {
        guard (1...2).contains(shape.count) else { throw .unsupportedRank(shape: shape) }
        self.name = name
        self.shape = shape
        let matrix = shape.count == 2 ? shape : shape + [1]
        value = try Tensor(shape: matrix, values: values)
        gradient = try Tensor(zeros: matrix)
    }

    /// The number of scalars.
    public var count: Int { value.count }

    /// Sets the gradient to zero (backward passes add into it; this is the separate, explicit step).
    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
