// Back-propagation through EfficientNet-Lite to its 1×1 convolutions, for fine-tuning a compressed
// model (`distilled(from:pictures:settings:progress:)`). The forward pass keeps every activation
// (channels-first throughout); the backward pass runs the layers' own gradients in reverse. ReLU6's
// derivative is read from the kept outputs: y = clamp(z, 0, 6) lies strictly between 0 and 6
// exactly where z does, which is where the derivative is 1.

/// A 1×1 convolution of an `EfficientNetLite`, by position.
enum PointwiseSlot: Hashable, Sendable {
    case expandFactor(Int), expand(Int), projectFactor(Int), project(Int), headFactor, head
}

extension EfficientNetLite {
    /// The activations of one forward pass that the backward pass reads.
    struct Trace {
        /// One block's input, the outputs of its layers in order (a layer that is absent passes its
        /// input on), and its output.
        struct BlockActivations {
            var input: Tensor, source: Tensor, hidden: Tensor, filtered: Tensor, reduced: Tensor, output: Tensor
        }
        var blocks: [BlockActivations] = []
        /// The head's input (after its factor, when it has one).
        var headInput: Tensor = .empty
        /// The feature map: the head's output, `[N, 1280, h, w]`.
        var features: Tensor = .empty
    }

    /// Every 1×1 convolution present, in execution order.
    var pointwiseSlots: [PointwiseSlot] {
        var slots: [PointwiseSlot] = []
        for (index, block) in blocks.enumerated() {
            if block.expandFactor != nil { slots.append(.expandFactor(index)) }
            if block.expand != nil { slots.append(.expand(index)) }
            if block.projectFactor != nil { slots.append(.projectFactor(index)) }
            slots.append(.project(index))
        }
        if headFactor != nil { slots.append(.headFactor) }
        slots.append(.head)
        return slots
    }

    /// The convolution at `slot`, nil when the model has none there.
    func convolution(at slot: PointwiseSlot) -> Conv1x1? {
        switch slot {
        case .expandFactor(let i): blocks[i].expandFactor
        case .expand(let i): blocks[i].expand
        case .projectFactor(let i): blocks[i].projectFactor
        case .project(let i): blocks[i].project
        case .headFactor: headFactor
        case .head: head
        }
    }

    /// Puts `conv` at `slot`.
    mutating func replace(_ slot: PointwiseSlot, with conv: Conv1x1) {
        switch slot {
        case .expandFactor(let i): blocks[i].expandFactor = conv
        case .expand(let i): blocks[i].expand = conv
        case .projectFactor(let i): blocks[i].projectFactor = conv
        case .project(let i): blocks[i].project = conv
        case .headFactor: headFactor = conv
        case .head: head = conv
        }
    }

    /// The forward pass of `features(_:options:)`, channels-first, keeping every activation.
    func traced(_ input: Tensor, options: ExecutionOptions) throws(AnalysisError) -> Trace {
        do throws(LayerError) {
            try input.checkImage(channels: stem.inputChannels)
            var trace = Trace()
            func run(_ conv: Conv1x1?, _ x: Tensor, residual: Tensor? = nil) throws(LayerError) -> Tensor {
                guard let conv else { return x }
                return try convolving { () throws(ConvolutionError) in try conv(x, residual: residual, options: options) }
            }
            var current = try stem(input.converted(to: .channelsFirst), options: options)
            for block in blocks {
                let source = try run(block.expandFactor, current)
                let hidden = try run(block.expand, source)
                let filtered = try block.depthwise(hidden, options: options)
                let reduced = try run(block.projectFactor, filtered)
                let output = try run(block.project, reduced, residual: block.hasResidual ? current : nil)
                trace.blocks.append(.init(input: current, source: source, hidden: hidden, filtered: filtered,
                                          reduced: reduced, output: output))
                current = output
            }
            trace.headInput = try run(headFactor, current)
            trace.features = try run(head, trace.headInput)
            return trace
        } catch { throw .setting(name: "input", value: "\(input.shape)", expected: error.description) }
    }

    /// dL/d(features) from dL/d(logits) `[N, classes]` (row-major): back through the classifier and
    /// the global average pool (each location receives 1/locations of its channel's gradient).
    func featureGradient(logitGradient: [Float], features: Tensor) throws(AnalysisError) -> Tensor {
        let features = features.converted(to: .channelsFirst)
        let (images, channels) = (features.batchSize, features.channels)
        do {
            let pooled = try GlobalAveragePool()(features)
            let dLogits = try Tensor(shape: [images, classCount], values: logitGradient)
            let flat = try Tensor(shape: [images, channels], values: pooled.scalars)
            let pooledGradient = try classifier.gradients(input: flat, outputGradient: dLogits).input
            var gradient = Tensor.zeros(like: features)
            try GlobalAveragePool().accumulateInputGradient(
                input: features, outputGradient: try Tensor(shape: [images, channels, 1, 1], values: pooledGradient.scalars),
                into: &gradient)
            return gradient
        } catch let error as ConvolutionError {
            throw .convolution(error)
        } catch let error as TensorError {
            throw .tensor(error)
        } catch {
            throw .setting(name: "features", value: "\(features.shape)", expected: "\(error)")
        }
    }

    /// Back-propagates `featureGradient` (dL/d`trace.features`, channels-first) to the 1×1
    /// convolutions at `trainable`, returning their gradients. `blockGradients`, when not empty,
    /// holds one more gradient per block (dL/d its output from a loss on it, or nil) that joins
    /// the back-propagated one there. Gradients stop at the first block's input: the stem is not trained.
    func backward(
        _ trace: Trace, featureGradient: Tensor, blockGradients: [Tensor?] = [], trainable: Set<PointwiseSlot>,
        options: ExecutionOptions
    ) throws(AnalysisError) -> [PointwiseSlot: Conv1x1.Gradients] {
        var result: [PointwiseSlot: Conv1x1.Gradients] = [:]
        /// dL/dx of the convolution at `slot` (x its input, y its output), recording its gradients when trained.
        func back(_ slot: PointwiseSlot, input x: Tensor, output y: Tensor, residual: Tensor? = nil,
                  gradient dy: Tensor) throws(AnalysisError) -> Tensor {
            guard let conv = convolution(at: slot) else { return dy }
            do {
                let gradients = try conv.gradients(input: x, residual: residual, outputGradient: dy,
                                                   preActivation: conv.activation == .identity ? nil : y, options: options)
                if trainable.contains(slot) { result[slot] = gradients }
                return gradients.input
            } catch { throw .convolution(error) }
        }
        // The earliest block with a trained convolution: the pass stops there.
        let earliest = trainable.map { slot -> Int in
            switch slot {
            case .expandFactor(let i), .expand(let i), .projectFactor(let i), .project(let i): i
            case .headFactor, .head: blocks.count
            }
        }.min() ?? blocks.count
        let last = trace.blocks.last!.output
        guard !trainable.isEmpty else { return result }
        var gradient = try back(.head, input: trace.headInput, output: trace.features, gradient: featureGradient)
        gradient = try back(.headFactor, input: last, output: trace.headInput, gradient: gradient)
        if earliest == blocks.count { return result }
        for index in blocks.indices.reversed() {
            let (block, a) = (blocks[index], trace.blocks[index])
            if index < blockGradients.count, let extra = blockGradients[index] { gradient.add(extra) }
            let outputGradient = gradient
            gradient = try back(.project(index), input: a.reduced, output: a.output,
                                residual: block.hasResidual ? a.input : nil, gradient: gradient)
            gradient = try back(.projectFactor(index), input: a.filtered, output: a.reduced, gradient: gradient)
            if index == earliest, !trainable.contains(.expand(index)), !trainable.contains(.expandFactor(index)) { break }
            do {
                gradient = try block.depthwise.gradients(input: a.hidden, outputGradient: gradient,
                                                         preActivation: a.filtered, options: options).input
            } catch { throw .setting(name: "depthwise", value: "blocks.\(index)", expected: error.description) }
            gradient = try back(.expand(index), input: a.source, output: a.hidden, gradient: gradient)
            gradient = try back(.expandFactor(index), input: a.input, output: a.source, gradient: gradient)
            if index == earliest { break }
            if block.hasResidual { gradient.add(outputGradient) }
        }
        return result
    }
}

/// Adam over the trained 1×1 convolutions of a model: their weights and biases as `Parameter`s.
struct PointwiseTrainer {
    /// The convolutions trained.
    let slots: Set<PointwiseSlot>
    var optimizer: Adam
    private var parameters: [PointwiseSlot: (weight: Parameter, bias: Parameter?)] = [:]

    /// Trains the factored pairs of `model`, or with `all` every 1×1 convolution of its blocks and head.
    init(model: EfficientNetLite, all: Bool) throws(AnalysisError) {
        var chosen = Set<PointwiseSlot>()
        for slot in model.pointwiseSlots {
            switch slot {
            case .expandFactor(let i): chosen.formUnion([slot, .expand(i)])
            case .projectFactor(let i): chosen.formUnion([slot, .project(i)])
            case .headFactor: chosen.formUnion([slot, .head])
            default: if all { chosen.insert(slot) }
            }
        }
        slots = chosen
        do { optimizer = try Adam(learningRate: 1e-4) } catch { throw .training(error) }
        for slot in chosen {
            let conv = model.convolution(at: slot)!
            do {
                let weight = try Parameter(name: "\(slot).weight", shape: conv.weight.shape, values: conv.weight.scalars)
                let bias = try conv.bias.map { b throws(TensorError) in try Parameter(name: "\(slot).bias", shape: [b.count], values: b) }
                parameters[slot] = (weight, bias)
            } catch { throw .tensor(error) }
        }
    }

    /// One Adam step with `gradients`, returning `model` with the updated convolutions.
    mutating func step(
        _ model: EfficientNetLite, gradients: [PointwiseSlot: Conv1x1.Gradients]
    ) throws(AnalysisError) -> EfficientNetLite {
        var model = model
        for (slot, gradient) in gradients {
            guard let (weight, bias) = parameters[slot], let conv = model.convolution(at: slot) else { continue }
            weight.gradient = gradient.weight
            optimizer.update(weight)
            if let bias, let values = gradient.bias {
                do { bias.gradient = try Tensor(shape: [values.count, 1], values: values) } catch { throw .tensor(error) }
                optimizer.update(bias)
            }
            do {
                model.replace(slot, with: try Conv1x1(weight: weight.value, bias: bias?.value.scalars,
                                                      activation: conv.activation))
            } catch { throw .convolution(error) }
        }
        return model
    }
}
