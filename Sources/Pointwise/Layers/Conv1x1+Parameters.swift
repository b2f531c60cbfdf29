extension Conv1x1 {
    /// Replaces the weight and bias in place (an optimizer's update), keeping stride, groups and
    /// activation. The packed copies of the old weights are dropped and re-made on first use.
    /// - Parameters:
    ///   - weight: `[Cout, Cin/groups]` (or PyTorch's shape with trailing ones), the current shape.
    ///   - bias: `Cout` values; nil only for a convolution without bias.
    /// - Throws: `ConvolutionError` when a shape differs from the current one.
    public mutating func setParameters(weight: Tensor, bias: [Float]?) throws(ConvolutionError) {
        let shape = Array(weight.shape.prefix(2))
        guard shape == self.weight.shape, weight.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw .shapeMismatch(role: "weight", expected: self.weight.shape, actual: weight.shape)
        }
        guard (bias == nil) == (self.bias == nil) else {
            throw .biasCount(expected: self.bias?.count ?? 0, actual: bias?.count ?? 0)
        }
        self = try Conv1x1(weight: weight, bias: bias, stride: stride, groups: groups, activation: activation)
    }
}
