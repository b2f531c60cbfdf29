/// A per-pixel network: 1×1 convolutions stacked with an activation between them and none after
/// the last, Network-in-Network's "mlpconv" (an MLP applied at every pixel).
///
/// Built from widths `[Cin, h1, …, Cout]`, layer `i` maps `widths[i]` to `widths[i + 1]` channels;
/// its parameters are named `i.weight` (`[out, in]`) and `i.bias` (`[out]`). Inference runs on
/// `[N, C, *spatial]` tensors in either layout; training runs on a batch of pixels `[B, Cin]`,
/// where every layer is one GEMM with B rows.
///
/// ```swift
/// let net = try PixelNetwork(widths: [8, 32, 16, 4])
/// let logits = try net(image)                          // [1, 8, H, W] → [1, 4, H, W]
/// ```
public final class PixelNetwork {
    /// `[Cin, hidden…, Cout]`.
    public let widths: [Int]
    /// The activation after every layer but the last.
    public let activation: Activation
    /// The convolutions, with the activation fused into all but the last.
    public private(set) var layers: [Conv1x1]
    /// `0.weight`, `0.bias`, `1.weight`, … in layer order: what optimizers update and files hold.
    public let parameters: [Parameter]

    /// A network initialised like PyTorch's `Conv2d` layers (uniform in ±1/√fan-in).
    /// - Parameters:
    ///   - widths: `[Cin, hidden…, Cout]`, at least two, each ≥ 1.
    ///   - activation: between layers (ReLU for mlpconv; `.identity` makes the whole stack linear).
    ///   - seed: seeds the initialisation; layer i uses `seed + i`.
    /// - Throws: `TrainingError.setting` for fewer than two widths or a width below 1.
    public convenience init(widths: [Int], activation: Activation = .relu, seed: UInt64 = 0) throws(TrainingError) {
        guard widths.count >= 2, widths.allSatisfy({ $0 >= 1 }) else {
            throw .setting(name: "widths", value: "\(widths)", expected: "[Cin, hidden…, Cout], at least two, each ≥ 1")
        }
        var layers: [Conv1x1] = []
        for i in 0..<widths.count - 1 {
            do {
                layers.append(try Conv1x1(inputChannels: widths[i], outputChannels: widths[i + 1],
                                          seed: seed &+ UInt64(i)))
            } catch { throw .convolution(error) }
        }
        try self.init(layers: layers, activation: activation)
    }

    /// A network of the given convolutions (their own activations are replaced: `activation`
    /// between layers, none after the last).
    /// - Parameters:
    ///   - layers: at least one; each with bias, stride 1, groups 1, and input channels equal to
    ///     the previous layer's output channels.
    ///   - activation: between layers.
    /// - Throws: `TrainingError.setting` when the layers do not chain or are strided or grouped.
    public init(layers: [Conv1x1], activation: Activation = .relu) throws(TrainingError) {
        guard !layers.isEmpty else { throw .setting(name: "layers", value: "[]", expected: "at least one") }
        for (i, layer) in layers.enumerated() {
            guard layer.bias != nil, layer.stride == 1, layer.groups == 1 else {
                throw .setting(name: "layer \(i)", value: "stride \(layer.stride), groups \(layer.groups)",
                               expected: "stride 1, groups 1, with bias")
            }
            if i > 0, layer.inputChannels != layers[i - 1].outputChannels {
                throw .setting(name: "layer \(i) input channels", value: "\(layer.inputChannels)",
                               expected: "\(layers[i - 1].outputChannels), the previous layer's outputs")
            }
        }
        widths = [layers[0].inputChannels] + layers.map(\.outputChannels)
        self.activation = activation
        self.layers = layers.enumerated().map { i, layer in
            var layer = layer
            layer.activation = i == layers.count - 1 ? .identity : activation
            return layer
        }
        var parameters: [Parameter] = []
        do {
            for (i, layer) in layers.enumerated() {
                parameters.append(try Parameter(name: "\(i).weight", shape: layer.weight.shape, values: layer.weight.scalars))
                parameters.append(try Parameter(name: "\(i).bias", shape: [layer.outputChannels], values: layer.bias!))
            }
        } catch { throw .tensor(error) }
        self.parameters = parameters
    }

    /// Runs the network (inference).
    /// - Parameters:
    ///   - input: `[N, Cin, *spatial]` in either layout, or a batch of pixels `[B, Cin]`.
    ///   - options: threads and implementation.
    /// - Returns: `[N, Cout, *spatial]` in the input's layout.
    /// - Throws: `TrainingError.convolution` when the input's channels are not `widths[0]`.
    public func callAsFunction(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(TrainingError) -> Tensor {
        // x: [N, Cin, *S]  →  y: [N, Cout, *S]
        var x = input
        do {
            for layer in layers { x = try layer(x, options: options) }
        } catch { throw .convolution(error) }
        return x
    }

    // MARK: - Training

    /// What the training forward pass keeps for the backward pass: each layer's input and
    /// pre-activation, so that backward recomputes nothing.
    public struct Trace: Sendable {
        /// The input of each layer (the network's input first).
        public var inputs: [Tensor]
        /// z = W·x + b of each layer, before the activation.
        public var preActivations: [Tensor]
    }

    /// The training forward pass.
    /// - Parameters:
    ///   - input: a batch of pixels `[B, Cin]` (the fast case: one GEMM per layer), or any
    ///     `[N, Cin, *spatial]` tensor in either layout.
    ///   - options: threads and implementation.
    /// - Returns: the output (as `callAsFunction` gives it) and the trace for `backward`.
    /// - Throws: `TrainingError.convolution` when the input's channels are not `widths[0]`.
    public func trainingForward(
        _ input: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(TrainingError) -> (output: Tensor, trace: Trace) {
        // x: [B, Cin]  →  y: [B, Cout], trace: inputs [B, widths[i]], pre-activations [B, widths[i+1]]
        var trace = Trace(inputs: [], preActivations: [])
        var x = input
        for layer in layers {
            trace.inputs.append(x)
            let z: Tensor
            do {
                z = try layer.forward(x, residual: nil, activation: .identity, options: options)
            } catch { throw .convolution(error) }
            trace.preActivations.append(z)
            x = layer.activation == .identity ? z : layer.activation(z)
        }
        return (x, trace)
    }

    /// The backward pass: adds dL/dW and dL/db into the parameters' gradients (zero them first
    /// with `zeroGradients()` unless summing over micro-batches) and returns dL/dinput.
    /// - Parameters:
    ///   - trace: what `trainingForward` kept.
    ///   - outputGradient: dL/doutput, shaped like the output.
    ///   - options: threads and implementation.
    /// - Returns: dL/dinput, in the input's shape and layout.
    /// - Throws: `TrainingError.convolution` when `outputGradient`'s shape does not fit.
    @discardableResult
    public func backward(
        _ trace: Trace, outputGradient: Tensor, options: ExecutionOptions = ExecutionOptions()
    ) throws(TrainingError) -> Tensor {
        // dy: [B, Cout]  →  dW_i += dz_iᵀ·x_i,  db_i += Σ dz_i,  dx_i = dz_i·W_i, back to dx: [B, Cin]
        var dy = outputGradient
        for i in layers.indices.reversed() {
            let weight = parameters[2 * i], bias = parameters[2 * i + 1]
            var gradients = Conv1x1.Gradients(
                input: Tensor.zeros(like: trace.inputs[i]), weight: weight.gradient,
                bias: bias.gradient.scalars, residual: nil)
            weight.gradient = Tensor.empty  // moved out, so the GEMMs add into it without a copy
            defer { weight.gradient = gradients.weight }
            do {
                try layers[i].accumulateGradients(
                    input: trace.inputs[i], outputGradient: dy, preActivation: trace.preActivations[i],
                    into: &gradients, options: options)
            } catch { throw .convolution(error) }
            bias.gradient.withUnsafeMutableBufferPointer { _ = $0.update(from: gradients.bias!) }
            dy = gradients.input
        }
        return dy
    }

    /// Sets every parameter's gradient to zero.
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }

    /// Updates every parameter with `optimizer` from its gradient, then the layers from the
    /// parameters.
    /// - Throws: `TrainingError.convolution` if a parameter's shape was changed.
    public func step(_ optimizer: inout some Optimizer) throws(TrainingError) {
        for parameter in parameters { optimizer.update(parameter) }
        try parametersDidChange()
    }

    /// Re-makes the layers from the parameters' values, after they were changed in place.
    /// - Throws: `TrainingError.convolution` if a parameter's shape no longer fits its layer.
    public func parametersDidChange() throws(TrainingError) {
        for i in layers.indices {
            do {
                try layers[i].setParameters(weight: parameters[2 * i].value, bias: parameters[2 * i + 1].value.scalars)
            } catch { throw .convolution(error) }
        }
    }
}
