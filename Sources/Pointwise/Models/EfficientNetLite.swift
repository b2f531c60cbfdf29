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

    /// Blocks whose output has fewer positions per image than this run channels-last; the
    /// blocks before them run channels-first, and the stem writes the first block's layout
    /// (from a picture in either). Channels-last suits the depthwise kernels, which vectorize
    /// across channels, and lets the widest expansion be fused with its depthwise convolution
    /// (`fusedExpansionBytes`); channels-first suits the 1×1 GEMM on large maps with few
    /// channels. The default, `Int.max`, runs every layer channels-last: on a Zen 3 core it
    /// measured faster than splitting at 28×28 (`bench --model --layers` shows each layer).
    /// 0 keeps everything channels-first. The result is the same either way, up to float rounding.
    public var channelsLastBelow = Int.max

    /// Blocks whose expansion takes at least this many bytes per image (2 MiB: the 96 × 112 × 112
    /// expansion of a 224×224 picture) compute it and their depthwise convolution together, a band
    /// of rows at a time, when they run channels-last (`ExpandDepthwise`): that expansion then
    /// never goes through memory. Smaller expansions mostly stay in cache anyway, and the
    /// 1.8 MB ones at 56×56 measured no faster fused. `Int.max` runs every layer on its own.
    /// The result is the same bits either way.
    public var fusedExpansionBytes = 2 << 20

    /// Whether the stem and the first block's depthwise convolution run together, a band of rows
    /// at a time, when the stem writes channels-last and the first block has no expansion
    /// (`StemDepthwise`): the stem's map (32 × 112 × 112, 1.6 MB for a 224×224 picture) then
    /// never goes through memory. The result is the same bits either way.
    public var fusesStem = true

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

    /// The activation buffers of a forward pass, kept between passes so that repeated inference
    /// writes into memory it has already touched instead of fresh pages (allocating the ~27 MB of
    /// activations of a 224×224 pass anew costs thousands of page faults). Layers share buffers by
    /// role rather than each having its own, so that such a pass touches about 9 MB of them, and
    /// more of what a layer writes is still in cache when the next one reads it.
    public struct Workspace: Sendable {
        /// One buffer per `Role`, each as large as the largest activation of its role so far.
        var buffers = [Tensor](repeating: .empty, count: Role.allCases.count)

        /// An empty workspace; the first pass fills it.
        public init() {}
    }

    /// Which workspace buffer a layer writes. A block reads its input from one of the two block
    /// buffers (and again as the residual) and writes its output to the other; inside it, each
    /// layer's input is still alive when the layer writes, so each has a buffer of its own.
    enum Role: Int, CaseIterable {
        case blockEven, blockOdd, expanded, filtered, expandFactor, projectFactor, head
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
        // The stem reads the picture in either layout and writes the first block's layout.
        let stemShape = try stem.outputShape(forInput: input.shape)
        let firstChannelsLast = blocks.first.map { runsChannelsLast($0, on: stemShape) } ?? false
        let stemLayout: Layout = firstChannelsLast ? .channelsLast : .channelsFirst
        if workspace.buffers.count != Role.allCases.count {
            workspace.buffers = [Tensor](repeating: .empty, count: Role.allCases.count)
        }
        var clock = timings == nil ? 0 : Self.now()
        func lap(_ kind: LayerKind, _ name: @autoclosure () -> String) {
            guard timings != nil else { return }
            let now = Self.now()
            timings!.append(LayerTime(name: name(), kind: kind, milliseconds: now - clock))
            clock = now
        }
        /// `lap` for the first layer of a fused pair: `share` of the pair's time so far, as its
        /// first worker measured the split; the second layer's `lap` takes the rest.
        func lapShare(_ share: Double, _ kind: LayerKind, _ name: @autoclosure () -> String) {
            guard timings != nil else { return }
            let first = share * (Self.now() - clock)
            timings!.append(LayerTime(name: name(), kind: kind, milliseconds: first))
            clock += first
        }
        func size(_ t: Tensor) -> String { "\(t.channels)×\(t.shape[2])×\(t.shape[3])" }
        /// Runs `layer` into the buffer of `role`, puts the result back and returns it. The buffer
        /// is moved out of the workspace meanwhile, so that the layer finds it uniquely referenced
        /// (unless the caller still holds a result of an earlier pass) and writes it in place.
        func run(_ role: Role, _ layer: (inout Tensor) throws(LayerError) -> Void) throws(LayerError) -> Tensor {
            var output = replacing(&workspace.buffers[role.rawValue], .empty)
            try layer(&output)
            workspace.buffers[role.rawValue] = output
            return output
        }
        /// `factor(x)` in the buffer of `role` when there is a factor (a low-rank layer's first half), else x.
        func factored(_ x: Tensor, by factor: Conv1x1?, role: Role, name: @autoclosure () -> String) throws(LayerError) -> Tensor {
            guard let factor else { return x }
            let reduced = try run(role) { (out: inout Tensor) throws(LayerError) in
                try convolving { () throws(ConvolutionError) in try factor.forward(x, into: &out, options: options) }
            }
            lap(.pointwise, "\(name()) 1×1 → \(size(reduced))")
            return reduced
        }
        let stemFused = fusedStem(layout: stemLayout, options: options)
        var current = Tensor.empty  // the block's input; the first block's is never made when the stem is fused
        if stemFused == nil {
            current = try run(.blockEven) { (out: inout Tensor) throws(LayerError) in
                try stem.forward(input, into: &out, layout: stemLayout, options: options)
            }
            lap(.stem, "stem 3×3/2 → \(size(current))")
        }
        for (index, block) in blocks.enumerated() {
            if index > 0 || stemFused == nil, current.layout == .channelsFirst, runsChannelsLast(block, on: current.shape) {
                current = current.converted(to: .channelsLast)
                lap(.pointwise, "to channels-last \(size(current))")
            }
            let filtered: Tensor
            if index == 0, let fused = stemFused {
                var share = 0.0
                filtered = try run(.filtered) { (out: inout Tensor) throws(LayerError) in
                    share = try fused.forward(input, into: &out, options: options, measuresShare: timings != nil)
                }
                lapShare(share, .stem, "stem 3×3/2 → \(stemShape[1])×\(stemShape[2])×\(stemShape[3]) (fused)")
            } else if let fused = fusedExpansion(block, input: current, options: options) {
                observe?(current)
                var share = 0.0
                filtered = try run(.filtered) { (out: inout Tensor) throws(LayerError) in
                    share = try fused.forward(current, into: &out, options: options, measuresShare: timings != nil)
                }
                lapShare(share, .pointwise,
                         "blocks.\(index) expand 1×1 → \(fused.expand.outputChannels)×\(current.shape[2])×\(current.shape[3]) (fused)")
            } else {
                var hidden = current
                if let expand = block.expand {
                    observe?(current)
                    let source = try factored(current, by: block.expandFactor, role: .expandFactor, name: "blocks.\(index) expand factor")
                    hidden = try run(.expanded) { (out: inout Tensor) throws(LayerError) in
                        try convolving { () throws(ConvolutionError) in try expand.forward(source, into: &out, options: options) }
                    }
                    lap(.pointwise, "blocks.\(index) expand 1×1 → \(size(hidden))")
                }
                filtered = try run(.filtered) { (out: inout Tensor) throws(LayerError) in
                    try block.depthwise.forward(hidden, into: &out, options: options)
                }
            }
            lap(.depthwise, "blocks.\(index) depthwise \(block.depthwise.kernelHeight)×\(block.depthwise.kernelWidth)/\(block.depthwise.stride) → \(size(filtered))")
            observe?(filtered)
            let reduced = try factored(filtered, by: block.projectFactor, role: .projectFactor, name: "blocks.\(index) project factor")
            let residual = block.hasResidual ? current : nil
            current = try run(index % 2 == 0 ? .blockOdd : .blockEven) { (out: inout Tensor) throws(LayerError) in
                try convolving { () throws(ConvolutionError) in
                    try block.project.forward(reduced, residual: residual, into: &out, options: options)
                }
            }
            lap(.pointwise, "blocks.\(index) project 1×1 → \(size(current))")
        }
        observe?(current)
        let headInput = try factored(current, by: headFactor, role: .expandFactor, name: "head factor")
        let output = try run(.head) { (out: inout Tensor) throws(LayerError) in
            try convolving { () throws(ConvolutionError) in try head.forward(headInput, into: &out, options: options) }
        }
        lap(.head, "head 1×1 → \(size(output))")
        return output
    }

    /// Whether `block`, given a map shaped `shape` ([N, C, H, W]), runs channels-last: whether its
    /// output has fewer positions per image than `channelsLastBelow`.
    private func runsChannelsLast(_ block: Block, on shape: [Int]) -> Bool {
        let stride = block.depthwise.stride
        return ((shape[2] - 1) / stride + 1) * ((shape[3] - 1) / stride + 1) < channelsLastBelow
    }

    /// The stem and the first block's depthwise convolution as one banded pass (`StemDepthwise`),
    /// when the stem writes channels-last on the fast kernels and the first block is a plain
    /// depthwise-separable one (no expansion, no residual, which would need the stem's map).
    private func fusedStem(layout: Layout, options: ExecutionOptions) -> StemDepthwise? {
        guard fusesStem, layout == .channelsLast, options.algorithm == .fast, let first = blocks.first, first.expand == nil,
              first.expandFactor == nil, !first.hasResidual
        else { return nil }
        return StemDepthwise(stem: stem, depthwise: first.depthwise)
    }

    /// The block's expansion and depthwise convolution as one banded pass (`ExpandDepthwise`),
    /// when the block has a plain expansion, runs channels-last on the fast kernels and its
    /// expansion is large: at least `fusedExpansionBytes` per image.
    private func fusedExpansion(_ block: Block, input: Tensor, options: ExecutionOptions) -> ExpandDepthwise? {
        guard let expand = block.expand, block.expandFactor == nil, input.layout == .channelsLast,
              options.algorithm == .fast,
              expand.outputChannels * input.pixelsPerImage * MemoryLayout<Float>.stride >= fusedExpansionBytes
        else { return nil }
        return ExpandDepthwise(expand: expand, depthwise: block.depthwise)
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
