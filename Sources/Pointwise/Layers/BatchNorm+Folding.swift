// Conv → BN at inference is one convolution: with s = γ / √(running_var + eps) per output channel,
// s · (W·x + b − running_mean) + β = (s·W)·x + s·(b − running_mean) + β.

extension BatchNorm {
    /// The convolution equal to `convolution` followed by this layer with running statistics
    /// (inference): weight row o scaled by s_o = weight_o / √(running_var_o + eps), bias
    /// s_o · (bias_o − running_mean_o) + bias_BN,o; stride and groups kept. Set its `activation`
    /// afterwards for a Conv → BN → activation block.
    ///
    /// A residual given to the folded convolution is added after the normalisation, not before.
    /// - Parameter convolution: a convolution with `channels` outputs and no activation.
    /// - Returns: a new convolution; neither layer changes.
    /// - Throws: `LayerError.conversion` when the channels differ or the convolution has an activation.
    public func folded(into convolution: Conv1x1) throws(LayerError) -> Conv1x1 {
        // w: [Cout, Cin/G]  b: [Cout]  →  w': [Cout, Cin/G]  b': [Cout]
        try checkFoldable(outputChannels: convolution.outputChannels, activation: convolution.activation)
        let (foldedWeight, foldedBias) = foldedParameters(
            weight: convolution.weight.scalars, bias: convolution.bias)
        let weightTensor: Tensor
        do {
            weightTensor = try Tensor(shape: convolution.weight.shape, values: foldedWeight)
        } catch { throw .tensor(error) }
        do {
            return try Conv1x1(
                weight: weightTensor, bias: foldedBias, stride: convolution.stride, groups: convolution.groups)
        } catch { throw .convolution(error) }
    }

    /// The convolution equal to `convolution` followed by this layer with running statistics
    /// (inference), as for `Conv1x1`: each output channel's `[Cin/G, KH, KW]` weights scaled by
    /// s_o = weight_o / √(running_var_o + eps), bias s_o · (bias_o − running_mean_o) + bias_BN,o;
    /// stride, padding, dilation and groups kept.
    /// - Parameter convolution: a convolution with `channels` outputs and no activation.
    /// - Returns: a new convolution; neither layer changes.
    /// - Throws: `LayerError.conversion` when the channels differ or the convolution has an activation.
    public func folded(into convolution: Conv2d) throws(LayerError) -> Conv2d {
        // w: [Cout, Cin/G, KH, KW]  b: [Cout]  →  w': [Cout, Cin/G, KH, KW]  b': [Cout]
        try checkFoldable(outputChannels: convolution.outputChannels, activation: convolution.activation)
        let (foldedWeight, foldedBias) = foldedParameters(
            weight: convolution.weight.converted(to: .channelsFirst).scalars, bias: convolution.bias)
        let weightTensor: Tensor
        do {
            weightTensor = try Tensor(shape: convolution.weight.shape, values: foldedWeight)
        } catch { throw .tensor(error) }
        return try Conv2d(weight: weightTensor, bias: foldedBias, stride: convolution.stride,
                          padding: convolution.padding, dilation: convolution.dilation, groups: convolution.groups)
    }

    /// Throws unless a convolution with these outputs and activation can take this layer in.
    private func checkFoldable(outputChannels: Int, activation: Activation) throws(LayerError) {
        guard outputChannels == channels else {
            throw .conversion("the convolution has \(outputChannels) output channels; the batch norm has \(channels)")
        }
        guard activation == .identity else {
            throw .conversion("the convolution applies \(activation) before the batch norm; "
                              + "only a convolution without activation folds")
        }
    }

    /// Scales each of the `channels` equal rows of `weight` by s_o and folds the statistics into the bias.
    private func foldedParameters(weight: [Float], bias: [Float]?) -> (weight: [Float], bias: [Float]) {
        let rowLength = weight.count / channels
        let scale = (0..<channels).map { Double(self.weight[$0]) / (Double(runningVar[$0]) + Double(eps)).squareRoot() }
        let foldedWeight = weight.indices.map { Float(Double(weight[$0]) * scale[$0 / rowLength]) }
        let foldedBias = (0..<channels).map { o in
            Float(scale[o] * (Double(bias?[o] ?? 0) - Double(runningMean[o])) + Double(self.bias[o]))
        }
        return (foldedWeight, foldedBias)
    }
}
