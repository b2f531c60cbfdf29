// FCN's "convolutionalization": a fully connected layer is a 1×1 convolution applied at one pixel,
// so the same weight [out, in] classifies every pixel of a feature map. Both conversions keep the
// parameters exactly.

extension Conv1x1 {
    /// The 1×1 convolution that applies `linear` at every pixel: weight `[out, in]` (PyTorch's
    /// `[out, in, 1, 1]`) and bias unchanged, groups 1, stride 1, no activation.
    public init(_ linear: Linear) {
        self = linear.convolution
    }
}

extension Linear {
    /// The fully connected layer a 1×1 convolution applies at each pixel, with the same weight and bias.
    /// - Parameter convolution: groups 1, stride 1 and no activation (a linear layer has none of these).
    /// - Throws: `LayerError.conversion` naming the setting that has no linear-layer equivalent.
    public init(_ convolution: Conv1x1) throws(LayerError) {
        guard convolution.groups == 1 else {
            throw .conversion("the convolution has \(convolution.groups) groups; Linear needs 1")
        }
        guard convolution.stride == 1 else {
            throw .conversion("the convolution has stride \(convolution.stride); Linear needs 1")
        }
        guard convolution.activation == .identity else {
            throw .conversion("the convolution applies \(convolution.activation); Linear has no activation")
        }
        self.convolution = convolution
    }
}
