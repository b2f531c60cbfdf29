/// EfficientNet-Lite, the mobile-friendly EfficientNet (no squeeze-excitation, ReLU6, fixed stem
/// and head), as an inference model built from a pretrained checkpoint: every batch norm folded
/// into the convolution before it, activations and residual additions fused into the
/// convolutions' epilogues.
///
/// The network, for a `[N, 3, 224, 224]` input:
/// ```
/// stem      3×3 stride-2 conv 3→32, ReLU6                                   [N, 32, 112, 112]
/// blocks    16 MBConv blocks: 1×1 expand ×6 (ReLU6) → k×k depthwise (ReLU6)
///           → 1×1 project (+ input when stride 1 and Cin = Cout)           [N, 320, 7, 7]
/// head      1×1 conv 320→1280, ReLU6                                       [N, 1280, 7, 7]
/// classify  global average pool → linear 1280→1000                         [N, 1000]
/// ```
/// Every convolution pads like TensorFlow's "SAME", as the original TensorFlow model does.
///
/// ```swift
/// let weights = try SafeTensorsFile(path: "efficientnet-lite0.safetensors")
/// let model = try EfficientNetLite(weights: weights.dictionary, name: weights.path)
/// let logits = try model.logits(input)            // [1, 1000]
/// ```
public struct EfficientNetLite: Sendable {
    /// One mobile inverted bottleneck (MBConv) with its batch norms folded in.
    public struct Block: Sendable {
        /// The 1×1 expansion Cin → t·Cin with ReLU6, absent when the expansion ratio t is 1.
        public internal(set) var expand: Conv1x1?
        /// The k×k depthwise convolution with ReLU6 (stride 1 or 2, "SAME" padding).
        public let depthwise: Conv2d
        /// The 1×1 linear projection t·Cin → Cout (no activation).
        public internal(set) var project: Conv1x1
        /// Whether the input is added to the projection (stride 1 and Cin = Cout).
        public let hasResidual: Bool
        /// In a low-rank compressed model, the first factor of the expansion (Cin → r); nil when
        /// the expansion is one convolution.
        public var expandFactor: Conv1x1? = nil
        /// In a low-rank compressed model, the first factor of the projection (t·Cin → r).
        public var projectFactor: Conv1x1? = nil
    }

    /// The stem: 3×3 stride-2 convolution 3 → 32 with ReLU6.
    public let stem: Conv2d
    /// The MBConv blocks, in order.
    public internal(set) var blocks: [Block]
    /// The head: 1×1 convolution to 1280 channels with ReLU6.
    public internal(set) var head: Conv1x1
    /// In a low-rank compressed model, the first factor of the head (320 → r).
    public var headFactor: Conv1x1? = nil
    /// The classifier `_fc` as a 1×1 convolution 1280 → classes: applied after global pooling it
    /// is the linear layer; applied at every location it gives a dense class-score map.
    public let classifier: Conv1x1

    /// Blocks whose output has fewer positions per image than this run channels-last; the stem
    /// and the blocks before them run channels-first. Small maps with many channels suit
    /// channels-last (the depthwise kernel vectorizes across channels, the 1×1 GEMM has no
    /// ragged pixel edge); large maps with few channels suit channels-first. The default, 28×28,
    /// was the fastest split on a Zen 3 core (`bench --model --layers` shows each layer). 0 keeps
    /// everything channels-first. The result is the same either way, up to float rounding.
    public var channelsLastBelow = 28 * 28

    /// The number of classes (1000 for ImageNet).
    public var classCount: Int { classifier.outputChannels }

    // MARK: - Inference

    /// The feature map before pooling: stem, blocks and head.
    /// - Parameters:
    ///   - input: `[N, 3, H, W]` (channels-first), preprocessed as the model was trained
    ///     (`ImagePreprocessing.efficientNetLite`).
    ///   - options: threads and implementation.
    /// - Returns: `[N, 1280, ⌈H/32⌉, ⌈W/32⌉]`, in the input's layout.
    /// - Throws: `LayerError` when the input is not a `[N, 3, H, W]` image batch.
    public func features(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        var workspace = Workspace()
        var timings: [LayerTime]? = nil
        return try features(input, options: options, workspace: &workspace, timings: &timings).converted(to: input.layout)
    }

    /// The class logits: features, global average pool, linear classifier.
    /// - Parameters:
    ///   - input: `[N, 3, H, W]`, preprocessed.
    ///   - options: threads and implementation.
    /// - Returns: `[N, classes]`.
    /// - Throws: `LayerError` when the input is not a `[N, 3, H, W]` image batch.
    public func logits(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        var workspace = Workspace()
        var timings: [LayerTime]? = nil
        return try logits(input, options: options, workspace: &workspace, timings: &timings)
    }

    /// A dense class-score map (the fully convolutional idea): the classifier applied as a 1×1
    /// convolution at every location of the feature map, before pooling. Because pooling and the
    /// classifier are both linear, the mean of the map over its locations equals `logits(_:)`.
    /// - Parameters:
    ///   - input: `[N, 3, H, W]`, preprocessed; larger pictures give larger maps.
    ///   - options: threads and implementation.
    /// - Returns: class logits at each location, `[N, classes, ⌈H/32⌉, ⌈W/32⌉]` in the input's
    ///   layout (one location per 32×32 input pixels).
    /// - Throws: `LayerError` when the input is not a `[N, 3, H, W]` image batch.
    public func denseLogits(_ input: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        var workspace = Workspace()
        var timings: [LayerTime]? = nil
        let features = try features(input, options: options, workspace: &workspace, timings: &timings)
        let scores = try convolving { () throws(ConvolutionError) in try classifier(features, options: options) }
        return scores.converted(to: input.layout)
    }

    /// The activations of one forward pass, kept between passes so that repeated inference
    /// writes into memory it has already touched instead of fresh pages (allocating ~20 MB of
    /// new activations per pass costs thousands of page faults).
    public struct Workspace: Sendable {
        /// One buffer per layer, in execution order.
        var buffers: [Tensor] = []

        /// An empty workspace; the first pass fills it.
        public init() {}
    }

    /// One layer's wall time in a timed pass.
    public struct LayerTime: Sendable {
        /// The layer, e.g. `blocks.3.expand 1×1 24→144 56×56`.
        public var name: String
        /// Its kind.
        public var kind: LayerKind
        /// Milliseconds.
        public var milliseconds: Double
    }

    /// The kinds of layer whose time `logits(_:options:workspace:timings:)` reports.
    public enum LayerKind: String, CaseIterable, Sendable {
        /// The 3×3 stride-2 stem convolution.
        case stem
        /// The 1×1 expansions and projections inside the blocks.
        case pointwise = "1x1"
        /// The depthwise convolutions.
        case depthwise
        /// The head's 1×1 convolution, the pooling and the classifier.
        case head
    }

    /// The class logits, reusing `workspace`'s buffers, and appending each layer's wall time to
    /// `timings` when it is not nil (the `bench --model` breakdown).
    /// - Throws: `LayerError` when the input is not a `[N, 3, H, W]` image batch.
    public func logits(
        _ input: Tensor, options: ExecutionOptions, workspace: inout Workspace, timings: inout [LayerTime]?
    ) throws(LayerError) -> Tensor {
        let features = try features(input, options: options, workspace: &workspace, timings: &timings)
        let start = timings == nil ? 0 : Self.now()
        let logits = try logits(features: features, options: options)
        if timings != nil {
            timings!.append(LayerTime(name: "pool + classifier 1280→\(classCount)", kind: .head,
                                      milliseconds: Self.now() - start))
        }
        return logits
    }

    /// The class logits of a feature map from `features(_:options:)`: global average pool, then
    /// the classifier.
    /// - Parameters:
    ///   - features: `[N, 1280, h, w]`, either layout.
    ///   - options: threads and implementation.
    /// - Returns: `[N, classes]`.
    /// - Throws: `LayerError` when the features do not have the head's channels.
    public func logits(features: Tensor, options: ExecutionOptions = ExecutionOptions()) throws(LayerError) -> Tensor {
        let pooled = try GlobalAveragePool()(features)
        let logits = try convolving { () throws(ConvolutionError) in try classifier(pooled, options: options) }
        do {
            return try Tensor(shape: [features.batchSize, classCount], values: logits.converted(to: .channelsFirst).scalars)
        } catch { throw .tensor(error) }
    }

    /// Runs the features and calls `observe` with the input of every 1×1 convolution of the blocks
    /// and the head, in execution order (either layout): the activations a data-aware
    /// compression needs.
    func observePointwiseInputs(_ input: Tensor, options: ExecutionOptions, _ observe: (Tensor) -> Void) throws(LayerError) {
        var workspace = Workspace()
        var timings: [LayerTime]? = nil
        try withoutActuallyEscaping(observe) { observe throws(LayerError) in
            _ = try features(input, options: options, workspace: &workspace, timings: &timings, observe: observe)
        }
    }

    private func features(
        _ input: Tensor, options: ExecutionOptions, workspace: inout Workspace, timings: inout [LayerTime]?,
        observe: ((Tensor) -> Void)? = nil
    ) throws(LayerError) -> Tensor {
        // x: [N, 3, H, W]  →  [N, 32, H/2, W/2]  →  …  →  [N, 320, H/32, W/32]  →  [N, 1280, H/32, W/32]
        try input.checkImage(channels: stem.inputChannels)
        let x = input.converted(to: .channelsFirst)
        let layerCount = 2 + (headFactor == nil ? 0 : 1)
            + blocks.reduce(0) { $0 + ($1.expand == nil ? 2 : 3) + ($1.expandFactor == nil ? 0 : 1) + ($1.projectFactor == nil ? 0 : 1) }
        if workspace.buffers.count != layerCount { workspace.buffers = Array(repeating: .empty, count: layerCount) }
        var clock = timings == nil ? 0 : Self.now()
        func lap(_ kind: LayerKind, _ name: @autoclosure () -> String) {
            guard timings != nil else { return }
            let now = Self.now()
            timings!.append(LayerTime(name: name(), kind: kind, milliseconds: now - clock))
            clock = now
        }
        func size(_ t: Tensor) -> String { "\(t.channels)×\(t.shape[2])×\(t.shape[3])" }
        var slot = 0
        /// Moves buffer `slot` out of the workspace for a layer to write (so it is uniquely referenced).
        func takeBuffer() -> Tensor {
            defer { slot += 1 }
            return replacing(&workspace.buffers[slot], .empty)
        }
        /// `factor(x)` into the next buffer when there is a factor (a low-rank layer's first half), else x.
        func factored(_ x: Tensor, by factor: Conv1x1?, name: @autoclosure () -> String) throws(LayerError) -> Tensor {
            guard let factor else { return x }
            var reduced = takeBuffer()
            try convolving { () throws(ConvolutionError) in try factor.forward(x, into: &reduced, options: options) }
            workspace.buffers[slot - 1] = reduced
            lap(.pointwise, "\(name()) 1×1 → \(size(reduced))")
            return reduced
        }
        var current = takeBuffer()
        try stem.forward(x, into: &current, options: options)
        workspace.buffers[slot - 1] = current
        lap(.stem, "stem 3×3/2 → \(size(current))")
        for (index, block) in blocks.enumerated() {
            let outputPositions = ((current.shape[2] - 1) / block.depthwise.stride + 1)
                * ((current.shape[3] - 1) / block.depthwise.stride + 1)
            if current.layout == .channelsFirst, outputPositions < channelsLastBelow {
                current = current.converted(to: .channelsLast)
                lap(.pointwise, "to channels-last \(size(current))")
            }
            var hidden = current
            if let expand = block.expand {
                observe?(current)
                let source = try factored(current, by: block.expandFactor, name: "blocks.\(index) expand factor")
                hidden = takeBuffer()
                try convolving { () throws(ConvolutionError) in try expand.forward(source, into: &hidden, options: options) }
                workspace.buffers[slot - 1] = hidden
                lap(.pointwise, "blocks.\(index) expand 1×1 → \(size(hidden))")
            }
            var filtered = takeBuffer()
            try block.depthwise.forward(hidden, into: &filtered, options: options)
            workspace.buffers[slot - 1] = filtered
            lap(.depthwise, "blocks.\(index) depthwise \(block.depthwise.kernelHeight)×\(block.depthwise.kernelWidth)/\(block.depthwise.stride) → \(size(filtered))")
            observe?(filtered)
            let reduced = try factored(filtered, by: block.projectFactor, name: "blocks.\(index) project factor")
            var projected = takeBuffer()
            let residual = block.hasResidual ? current : nil
            try convolving { () throws(ConvolutionError) in
                try block.project.forward(reduced, residual: residual, into: &projected, options: options)
            }
            workspace.buffers[slot - 1] = projected
            current = projected
            lap(.pointwise, "blocks.\(index) project 1×1 → \(size(projected))")
        }
        observe?(current)
        let headInput = try factored(current, by: headFactor, name: "head factor")
        var output = takeBuffer()
        try convolving { () throws(ConvolutionError) in try head.forward(headInput, into: &output, options: options) }
        workspace.buffers[slot - 1] = output
        lap(.head, "head 1×1 → \(size(output))")
        return output
    }

    /// Milliseconds on a monotonic clock.
    static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e6
    }
}

import Dispatch

/// Puts `value` in `place` and returns what was there (so the caller holds the only reference).
private func replacing(_ place: inout Tensor, _ value: Tensor) -> Tensor {
    let old = place
    place = value
    return old
}
