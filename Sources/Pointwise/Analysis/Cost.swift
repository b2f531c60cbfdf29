/// What a layer (or a sequence of layers) costs: parameters, multiply-adds, the bytes it must move
/// and the resulting arithmetic intensity, with the roofline time that follows on a machine.
///
/// Counting conventions (the usual ones, so the numbers match papers and hand calculation):
/// - `parameters`: weights plus biases.
/// - `multiplyAdds`: one per weight use, `Cout · Cin/groups · KH · KW · H' · W'` per image; a
///   FLOP count is twice that.
/// - `bytesMoved`: Float32 input, output and parameters each read or written once — the least
///   any implementation must move when nothing is cached between layers.
public struct LayerCost: Sendable, Equatable, CustomStringConvertible {
    /// What the cost is of, e.g. `3×3 conv 512→512 @28×28`.
    public var name: String
    /// Learnable parameters (weights and biases).
    public var parameters: Int
    /// Multiply-adds for one forward pass.
    public var multiplyAdds: Int
    /// Bytes read and written: input, output and parameters once each (Float32).
    public var bytesMoved: Int

    /// A cost from its parts.
    public init(name: String, parameters: Int, multiplyAdds: Int, bytesMoved: Int) {
        (self.name, self.parameters, self.multiplyAdds, self.bytesMoved) = (name, parameters, multiplyAdds, bytesMoved)
    }

    /// Floating-point operations: 2 per multiply-add.
    public var flops: Int { 2 * multiplyAdds }

    /// FLOPs per byte moved; a layer whose intensity is below the machine's ridge point
    /// (peak FLOP/s ÷ bandwidth) is memory-bound.
    public var arithmeticIntensity: Double { bytesMoved == 0 ? 0 : Double(flops) / Double(bytesMoved) }

    /// The roofline lower bound of the layer's time on a machine: the larger of the compute
    /// time at peak and the memory time at full bandwidth.
    /// - Parameters:
    ///   - peakGflops: the FMA peak in GFLOP/s.
    ///   - bandwidthGBps: the memory bandwidth in GB/s.
    /// - Returns: milliseconds.
    public func rooflineMilliseconds(peakGflops: Double, bandwidthGBps: Double) -> Double {
        max(Double(flops) / (peakGflops * 1e6), Double(bytesMoved) / (bandwidthGBps * 1e6))
    }

    /// Whether the roofline puts the layer under the memory roof on that machine.
    public func isMemoryBound(peakGflops: Double, bandwidthGBps: Double) -> Bool {
        arithmeticIntensity < peakGflops / bandwidthGBps
    }

    /// The sum of several layers run one after another (each moving its own data).
    public static func sequence(_ name: String, _ layers: [LayerCost]) -> LayerCost {
        LayerCost(name: name, parameters: layers.reduce(0) { $0 + $1.parameters },
                  multiplyAdds: layers.reduce(0) { $0 + $1.multiplyAdds },
                  bytesMoved: layers.reduce(0) { $0 + $1.bytesMoved })
    }

    /// `name: P params, M MACs, B bytes, I FLOP/byte`.
    public var description: String {
        "\(name): \(parameters) parameters, \(multiplyAdds) multiply-adds, \(bytesMoved) bytes, "
            + "\(String(format: "%.1f", arithmeticIntensity)) FLOP/byte"
    }
}

extension LayerCost {
    /// The cost of a 2-D convolution (a 1×1 convolution is `kernel: 1`).
    /// - Parameters:
    ///   - inputChannels: Cin.
    ///   - outputChannels: Cout.
    ///   - kernel: K (square K×K kernel).
    ///   - stride: the stride; the output is `⌈H/stride⌉ × ⌈W/stride⌉` ("same" padding).
    ///   - groups: channel groups (Cin for depthwise).
    ///   - height: H of the input.
    ///   - width: W of the input.
    ///   - batch: N.
    ///   - bias: whether there is a bias.
    ///   - name: a label; by default `K×K conv Cin→Cout @H×W` (or `depthwise`).
    public static func convolution(
        inputChannels: Int, outputChannels: Int, kernel: Int = 1, stride: Int = 1, groups: Int = 1, height: Int,
        width: Int, batch: Int = 1, bias: Bool = false, name: String? = nil
    ) -> LayerCost {
        let (outHeight, outWidth) = ((height + stride - 1) / stride, (width + stride - 1) / stride)
        let weights = outputChannels * (inputChannels / groups) * kernel * kernel
        let parameters = weights + (bias ? outputChannels : 0)
        let multiplyAdds = batch * weights * outHeight * outWidth
        let elements = batch * (inputChannels * height * width + outputChannels * outHeight * outWidth)
        let label = name ?? (groups == inputChannels && groups == outputChannels && groups > 1
            ? "\(kernel)×\(kernel) depthwise \(inputChannels) @\(height)×\(width)"
            : "\(kernel)×\(kernel) conv \(inputChannels)→\(outputChannels) @\(height)×\(width)")
        return LayerCost(name: label, parameters: parameters, multiplyAdds: multiplyAdds,
                         bytesMoved: 4 * (elements + parameters))
    }
}

// MARK: - Layers and blocks

extension Conv1x1 {
    /// The cost of running this layer on an input of shape `[N, Cin, *spatial]`.
    /// - Throws: `ConvolutionError.tensor` when `shape` is not a tensor's shape.
    public func cost(forInput shape: [Int]) throws(ConvolutionError) -> LayerCost {
        let output = try outputShape(forInput: shape)
        let positions = output.dropFirst(2).reduce(1, *), inputPositions = shape.dropFirst(2).reduce(1, *)
        let weights = outputChannels * inputChannels / groups, parameters = weights + (bias == nil ? 0 : outputChannels)
        let elements = shape[0] * (inputChannels * inputPositions + outputChannels * positions)
        return LayerCost(name: "1×1 conv \(inputChannels)→\(outputChannels) @\(shape.dropFirst(2).map(String.init).joined(separator: "×"))",
                         parameters: parameters, multiplyAdds: shape[0] * weights * positions,
                         bytesMoved: 4 * (elements + parameters))
    }
}

extension Conv2d {
    /// The cost of running this layer on an input of shape `[N, Cin, H, W]`.
    /// - Throws: `LayerError` when the input does not fit the layer.
    public func cost(forInput shape: [Int]) throws(LayerError) -> LayerCost {
        let output = try outputShape(forInput: shape)
        let weights = outputChannels * inputChannels / groups * kernelHeight * kernelWidth
        let parameters = weights + (bias == nil ? 0 : outputChannels)
        let elements = shape.reduce(1, *) + output.reduce(1, *)
        let kind = isDepthwise ? "depthwise \(inputChannels)" : "conv \(inputChannels)→\(outputChannels)"
        return LayerCost(name: "\(kernelHeight)×\(kernelWidth) \(kind) @\(shape[2])×\(shape[3])",
                         parameters: parameters, multiplyAdds: shape[0] * weights * output[2] * output[3],
                         bytesMoved: 4 * (elements + parameters))
    }
}

extension EfficientNetLite {
    /// The cost of every convolution of one forward pass, in order (batch norms are folded, so
    /// they cost nothing; pooling is left out).
    /// - Parameter shape: the input `[N, 3, H, W]`.
    /// - Throws: `LayerError` when the input does not fit.
    public func costs(forInput shape: [Int]) throws(LayerError) -> [(kind: LayerKind, cost: LayerCost)] {
        var result: [(LayerKind, LayerCost)] = [(.stem, try stem.cost(forInput: shape))]
        var current = try stem.outputShape(forInput: shape)
        /// A 1×1 convolution, after its low-rank first factor when it has one.
        func pointwise(_ conv: Conv1x1, factor: Conv1x1?, input: [Int], kind: LayerKind) throws(LayerError) -> [Int] {
            try convolving { () throws(ConvolutionError) in
                var shape = input
                if let factor {
                    result.append((kind, try factor.cost(forInput: shape)))
                    shape = try factor.outputShape(forInput: shape)
                }
                result.append((kind, try conv.cost(forInput: shape)))
                return try conv.outputShape(forInput: shape)
            }
        }
        for block in blocks {
            var hidden = current
            if let expand = block.expand {
                hidden = try pointwise(expand, factor: block.expandFactor, input: current, kind: .pointwise)
            }
            result.append((.depthwise, try block.depthwise.cost(forInput: hidden)))
            let filtered = try block.depthwise.outputShape(forInput: hidden)
            current = try pointwise(block.project, factor: block.projectFactor, input: filtered, kind: .pointwise)
        }
        _ = try pointwise(head, factor: headFactor, input: current, kind: .head)
        let classifierInput = [shape[0], head.outputChannels, 1, 1]
        result.append((.head, try convolving { () throws(ConvolutionError) in try classifier.cost(forInput: classifierInput) }))
        return result
    }
}

extension Int {
    /// The number with thousands separators, as the cost tables print it: `102400` → `102,400`.
    public var grouped: String {
        let digits = Array(String(magnitude))
        var out: [Character] = []
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return (self < 0 ? "-" : "") + String(out)
    }
}
