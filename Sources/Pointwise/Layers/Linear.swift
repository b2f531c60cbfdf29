/// A fully connected layer with the semantics of PyTorch's `nn.Linear(in, out, bias)`:
/// `y[n, o] = bias[o] + Σ_i weight[o, i] · x[n, i]`.
///
/// It is a 1×1 convolution on a tensor with no spatial dimensions, and runs as one: the same GEMM
/// problems as `Conv1x1` with the same weight, so the two give bit-identical outputs and gradients
/// (`Linear+Conversion.swift` turns one into the other).
///
/// ```swift
/// let fc = try Linear(inputFeatures: 1280, outputFeatures: 1000)
/// let logits = try fc(features)        // [N, 1280] → [N, 1000]
/// ```
public struct Linear: Sendable {
    /// The 1×1 convolution that does the work (groups 1, stride 1, no activation).
    let convolution: Conv1x1

    /// The input features ("in").
    public var inputFeatures: Int { convolution.inputChannels }
    /// The output features ("out").
    public var outputFeatures: Int { convolution.outputChannels }
    /// `weight`, shaped `[out, in]` as in PyTorch.
    public var weight: Tensor { convolution.weight }
    /// `bias`, one value per output feature, or nil.
    public var bias: [Float]? { convolution.bias }

    /// A layer with the given parameters.
    /// - Parameters:
    ///   - weight: `[out, in]`, out and in ≥ 1.
    ///   - bias: `out` values, or nil.
    /// - Throws: `LayerError` when the weight is not two-dimensional or the bias count is wrong.
    public init(weight: Tensor, bias: [Float]? = nil) throws(LayerError) {
        guard weight.shape.count == 2, weight.shape.allSatisfy({ $0 >= 1 }) else {
            throw .shape(role: "weight", expected: "[out, in] with out, in ≥ 1", actual: weight.shape)
        }
        do { convolution = try Conv1x1(weight: weight, bias: bias) } catch { throw .convolution(error) }
    }

    /// A layer initialised like PyTorch's: weight and bias uniform in ±1/√in (the same values as
    /// `Conv1x1(inputChannels: in, outputChannels: out, bias:, seed:)`).
    /// - Parameters:
    ///   - inputFeatures: in, ≥ 1.
    ///   - outputFeatures: out, ≥ 1.
    ///   - bias: whether there is a bias.
    ///   - seed: seeds the random initialisation, so it is reproducible.
    /// - Throws: `LayerError` when a feature count is below 1.
    public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true, seed: UInt64 = 0) throws(LayerError) {
        guard inputFeatures >= 1, outputFeatures >= 1 else {
            throw .setting(name: "features", value: "\(inputFeatures) → \(outputFeatures)", expected: "≥ 1 each")
        }
        do {
            convolution = try Conv1x1(
                inputChannels: inputFeatures, outputChannels: outputFeatures, bias: bias, seed: seed)
        } catch { throw .convolution(error) }
    }

    /// Applies the layer.
    /// - Parameters:
    ///   - input: `[N, in]` (either layout: with no spatial dimensions both are the same memory).
    ///   - options: implementation and threads.
    /// - Returns: `[N, out]`, in the input's layout.
    /// - Throws: `LayerError` when the input is not `[N, in]` or the options are invalid.
    public func callAsFunction(
        _ input: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) -> Tensor {
        // x: [N, in]  w: [out, in]  →  y: [N, out]
        try checkInput(input)
        do { return try convolution(input, options: options) } catch { throw .convolution(error) }
    }

    // MARK: - Backward

    /// Gradients of a loss with respect to input, weight and bias: a convolution's, whose
    /// `residual` is always nil here.
    public typealias Gradients = Conv1x1.Gradients

    /// Back-propagates `outputGradient`: fresh dL/dx `[N, in]`, dL/dweight `[out, in]`, dL/dbias.
    /// - Parameters:
    ///   - input: the forward input `[N, in]`.
    ///   - outputGradient: dL/dy, `[N, out]`.
    ///   - options: implementation and threads.
    /// - Throws: `LayerError` when a shape does not fit.
    public func gradients(
        input: Tensor, outputGradient: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) -> Gradients {
        // x: [N, in]  dy: [N, out]  →  dx: [N, in]  dW: [out, in]  db: [out]
        try checkInput(input)
        do {
            return try convolution.gradients(input: input, outputGradient: outputGradient, options: options)
        } catch { throw .convolution(error) }
    }

    /// Like `gradients(…)`, but adds into existing buffers (zeroing them is a separate step).
    /// - Throws: `LayerError` when a tensor's or buffer's shape does not fit.
    public func accumulateGradients(
        input: Tensor, outputGradient: Tensor, into gradients: inout Gradients,
        options: ExecutionOptions = ExecutionOptions()
    ) throws(LayerError) {
        // x: [N, in]  dy: [N, out]  →  dx += dy·W,  dW += dyᵀ·x,  db += Σ_n dy
        try checkInput(input)
        do {
            try convolution.accumulateGradients(
                input: input, outputGradient: outputGradient, into: &gradients, options: options)
        } catch { throw .convolution(error) }
    }

    private func checkInput(_ input: Tensor) throws(LayerError) {
        guard input.shape.count == 2, input.channels == inputFeatures else {
            throw .shape(role: "input", expected: "[N, \(inputFeatures)]", actual: input.shape)
        }
    }
}
