/// Dropout with the semantics of PyTorch's `nn.Dropout(p)`: in training each element is zeroed with
/// probability p and the rest scaled by 1/(1 − p); in inference it is the identity.
///
/// The mask comes from a generator seeded at initialisation, so a run is reproducible; each
/// training call draws a new mask. For a given seed the mask is the same in both layouts.
public struct Dropout: Sendable {
    /// p, the probability that an element is zeroed.
    public let probability: Float
    private var generator: SplitMix64

    /// A dropout layer.
    /// - Parameters:
    ///   - probability: p in 0…1.
    ///   - seed: seeds the masks.
    /// - Throws: `LayerError.setting` when p is outside 0…1.
    public init(probability: Float = 0.5, seed: UInt64 = 0) throws(LayerError) {
        guard (0...1).contains(probability) else {
            throw .setting(name: "probability", value: "\(probability)", expected: "0…1")
        }
        self.probability = probability
        generator = SplitMix64(seed: seed)
    }

    /// The inference forward pass: `input` unchanged.
    public func callAsFunction(_ input: Tensor) -> Tensor { input }

    /// The training forward pass.
    /// - Parameter input: any shape, either layout.
    /// - Returns: `output = input ⊙ mask` and the mask (0 or 1/(1 − p) per element, in the input's
    ///   shape and layout), which the backward pass needs.
    public mutating func trainingForward(_ input: Tensor) -> (output: Tensor, mask: Tensor) {
        // x: [N, C, *S]  →  y: [N, C, *S], mask: [N, C, *S]
        var mask = Tensor.zeros(like: input), output = input
        let scale = probability < 1 ? 1 / (1 - probability) : 0
        let m = mask.mutablePointer(), y = output.mutablePointer()
        // Drawn in logical order, so the mask does not depend on the layout.
        for n in 0..<input.batchSize {
            for c in 0..<input.channels {
                for s in 0..<input.pixelsPerImage {
                    let i = input.memoryIndex(batch: n, channel: c, position: s)
                    m[i] = generator.nextFloat(in: 0...1) < probability ? 0 : scale
                    y[i] *= m[i]
                }
            }
        }
        return (output, mask)
    }

    // MARK: - Backward

    /// Adds dL/dx = dL/dy ⊙ mask into `inputGradient` (dL/dy itself in inference, `mask` nil).
    /// - Parameters:
    ///   - mask: the training pass's mask, or nil for the inference pass.
    ///   - outputGradient: dL/dy, the input's shape.
    ///   - inputGradient: dL/dx, dL/dy's shape; with a mask, also the mask's layout.
    /// - Throws: `LayerError.shape` when a shape or layout does not fit.
    public func accumulateInputGradient(
        mask: Tensor?, outputGradient: Tensor, into inputGradient: inout Tensor
    ) throws(LayerError) {
        // dy: [N, C, *S]  mask: [N, C, *S]  →  dx += dy ⊙ mask
        if let mask { try outputGradient.check("output gradient", shape: mask.shape) }
        try inputGradient.check("input gradient", shape: outputGradient.shape)
        var dy = outputGradient.converted(to: inputGradient.layout)
        if let mask {
            try inputGradient.checkGradientBuffer(for: mask)
            let g = dy.mutablePointer(), m = mask.pointer
            for i in 0..<dy.count { g[i] *= m[i] }
        }
        inputGradient.add(dy)
    }

    /// dL/dx = dL/dy ⊙ mask (dL/dy itself in inference, `mask` nil), in dL/dy's shape and layout.
    /// - Throws: `LayerError.shape` when dL/dy's shape differs from the mask's.
    public func inputGradient(mask: Tensor?, outputGradient: Tensor) throws(LayerError) -> Tensor {
        var gradient = Tensor.zeros(like: mask ?? outputGradient)
        try accumulateInputGradient(mask: mask, outputGradient: outputGradient, into: &gradient)
        return gradient
    }
}
