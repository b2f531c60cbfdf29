/// The squeeze-and-excitation block: Hu, Shen, Albanie, Sun and Wu, "Squeeze-and-Excitation Networks",
/// 2017, arXiv:1709.01507; as torchvision's `SqueezeExcitation` (keys `fc1`, `fc2`).
///
/// `y[n, c, …] = x[n, c, …] · s[n, c]` with `s = sigmoid(fc2(act(fc1(mean over H, W of x))))`: two 1×1
/// convolutions with bias squeeze C to `squeezeChannels` and back, giving each channel a gate in (0, 1).
///
/// ```swift
/// let se = try SqueezeExcitation(channels: 256, squeezeChannels: 16)   // SE-ResNet's reduction 16
/// let y = try se(x)                                                   // [N, 256, H, W] → same shape
/// ```
public struct SqueezeExcitation: Block {
    /// C.
    public let channels: Int
    /// The squeezed width.
    public let squeezeChannels: Int
    /// `fc1`: 1×1 with bias, C → squeezed, with the squeeze activation (ReLU, or SiLU in EfficientNet) fused.
    public var fc1: Conv1x1
    /// `fc2`: 1×1 with bias, squeezed → C, with the sigmoid fused.
    public var fc2: Conv1x1

    /// A block initialised deterministically from `seed` (PyTorch's default convolution initialisation).
    /// - Parameters:
    ///   - channels: C ≥ 1.
    ///   - squeezeChannels: ≥ 1.
    ///   - activation: after `fc1`: `.relu` (the paper) or `.silu` (EfficientNet).
    ///   - seed: seeds both convolutions.
    /// - Throws: `LayerError` for a channel count below 1.
    public init(channels: Int, squeezeChannels: Int, activation: Activation = .relu, seed: UInt64 = 0) throws(LayerError) {
        var random = SplitMix64(seed: seed)
        (self.channels, self.squeezeChannels) = (channels, squeezeChannels)
        fc1 = try convolving { () throws(ConvolutionError) in
            try Conv1x1(inputChannels: channels, outputChannels: squeezeChannels, activation: activation, seed: random.next())
        }
        fc2 = try convolving { () throws(ConvolutionError) in
            try Conv1x1(inputChannels: squeezeChannels, outputChannels: channels, activation: .sigmoid, seed: random.next())
        }
    }

    /// `fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias`.
    public var namedParameters: [NamedParameter] { fc1.namedParameters("fc1") + fc2.namedParameters("fc2") }

    /// The gates s, one per image and channel.
    /// - Parameters:
    ///   - input: `[N, C, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: `[N, C, 1, 1]` with values in (0, 1), in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, C, H, W]` with H, W ≥ 1.
    public func gates(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        try trace(input, options: options).gates
    }

    /// Scales each channel of `input` by its gate.
    /// - Parameters:
    ///   - input: `[N, C, H, W]`, either layout.
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: the input's shape and layout.
    /// - Throws: `LayerError` when the input is not `[N, C, H, W]` with H, W ≥ 1.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        input.scaledPerChannel(by: try gates(input, options: options))
    }

    private func trace(_ x: Tensor, options: ExecutionOptions) throws(LayerError) -> (pooled: Tensor, squeezed: Tensor, gates: Tensor) {
        // x: [N, C, H, W]  →  pooled: [N, C, 1, 1]  →  squeezed: [N, S, 1, 1]  →  gates: [N, C, 1, 1]
        try x.checkImage(channels: channels)
        let pooled = try GlobalAveragePool()(x)
        let squeezed = try convolving { () throws(ConvolutionError) in try fc1(pooled, options: options) }
        return (pooled, squeezed, try convolving { () throws(ConvolutionError) in try fc2(squeezed, options: options) })
    }

    // MARK: - Backward

    /// Back-propagates `outputGradient` through the gating: dx gets dy · s directly and, through the
    /// gate, `fc2`, `fc1` and the pooling, Σ over positions of dy · x.
    /// - Parameters:
    ///   - input: the forward input `[N, C, H, W]`.
    ///   - outputGradient: dL/dy, the input's shape (any layout).
    ///   - options: implementation and threads of the convolutions.
    /// - Returns: dL/dx and dL/d(`fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias`).
    /// - Throws: `LayerError` when a shape does not fit.
    public func gradients(
        input: Tensor, outputGradient: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) -> BlockGradients {
        let t = try trace(input, options: options)
        try outputGradient.check("output gradient", shape: input.shape)
        let dy = outputGradient.converted(to: input.layout)
        var inputGradient = dy.scaledPerChannel(by: t.gates)
        let gateGradient = try dy.channelDots(with: input)
        let g2 = try convolving { () throws(ConvolutionError) in
            try fc2.gradients(input: t.squeezed, outputGradient: gateGradient, options: options)
        }
        let g1 = try convolving { () throws(ConvolutionError) in
            try fc1.gradients(input: t.pooled, outputGradient: g2.input, options: options)
        }
        try GlobalAveragePool().accumulateInputGradient(input: input, outputGradient: g1.input, into: &inputGradient)
        return BlockGradients(input: inputGradient, parameters: g1.named("fc1") + g2.named("fc2"))
    }
}

extension Tensor {
    /// self[n, c, s] · scale[n, c], for `scale` shaped `[N, C, 1, 1]` (any layout).
    func scaledPerChannel(by scale: Tensor) -> Tensor {
        var output = self
        let y = output.mutablePointer()
        for n in 0..<batchSize {
            for c in 0..<channels {
                let factor = scale[batch: n, channel: c, position: 0]
                for s in 0..<pixelsPerImage { y[memoryIndex(batch: n, channel: c, position: s)] *= factor }
            }
        }
        return output
    }

    /// Σ over positions of self[n, c, s] · other[n, c, s] (the same shape and layout), as `[N, C, 1, 1]`
    /// in this layout.
    func channelDots(with other: Tensor) throws(LayerError) -> Tensor {
        var output = try Tensor.zeros(like: self, shape: [batchSize, channels, 1, 1])
        let y = output.mutablePointer(), a = pointer, b = other.pointer
        for n in 0..<batchSize {
            for c in 0..<channels {
                var sum: Float = 0
                for s in 0..<pixelsPerImage {
                    let i = memoryIndex(batch: n, channel: c, position: s)
                    sum += a[i] * b[i]
                }
                y[output.memoryIndex(batch: n, channel: c, position: 0)] = sum
            }
        }
        return output
    }
}
