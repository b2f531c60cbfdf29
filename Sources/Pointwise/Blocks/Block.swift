/// A block of layers with PyTorch's parameter names: what every block in `Blocks/` shares.
///
/// `namedParameters` lists the block's `state_dict` in PyTorch's order and with its keys
/// (`conv1.weight`, `bn1.running_mean`, `downsample.0.weight`), so a checkpoint maps onto it key by key;
/// `parameterCount` is PyTorch's `sum(p.numel() for p in block.parameters())` (buffers excluded).
public protocol Block: Sendable {
    /// Every parameter and buffer, in `state_dict` order, with PyTorch's keys and shapes.
    var namedParameters: [NamedParameter] { get }
}

extension Block {
    /// The number of trainable values: PyTorch's `sum(p.numel() for p in block.parameters())`.
    public var parameterCount: Int {
        namedParameters.filter { $0.kind == .parameter }.reduce(0) { $0 + $1.values.count }
    }

    /// The trainable entries of `namedParameters`: PyTorch's `named_parameters()`.
    public var parameters: [NamedParameter] { namedParameters.filter { $0.kind == .parameter } }
}

/// One `state_dict` entry of a block: a key, PyTorch's shape and the values in row-major order.
public struct NamedParameter: Sendable, Equatable {
    /// Whether an optimiser updates the entry (`nn.Parameter`) or the layer tracks it (a buffer).
    public enum Kind: Sendable, Equatable {
        /// A trainable weight or bias: listed by PyTorch's `parameters()`.
        case parameter
        /// A tracked statistic (`running_mean`, `running_var`, `num_batches_tracked`).
        case buffer
    }

    /// The `state_dict` key, e.g. `layer_blocks.0.0.weight`.
    public let name: String
    /// PyTorch's shape (`[Cout, Cin/groups, 1, 1]` for a 1×1 convolution's weight; `[]` for a scalar).
    public let shape: [Int]
    /// The values in row-major order of `shape`.
    public let values: [Float]
    /// Parameter or buffer.
    public let kind: Kind

    /// An entry.
    /// - Parameters:
    ///   - name: the `state_dict` key.
    ///   - shape: PyTorch's shape; its product is `values.count`.
    ///   - values: row-major.
    ///   - kind: parameter (the default) or buffer.
    public init(name: String, shape: [Int], values: [Float], kind: Kind = .parameter) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) does not hold \(values.count) values")
        self.name = name
        self.shape = shape
        self.values = values
        self.kind = kind
    }
}

/// The gradients of a loss with respect to a block's input and to each of its parameters.
public struct BlockGradients: Sendable {
    /// dL/dx, in the input's shape and layout.
    public var input: Tensor
    /// dL/dp for every trainable parameter, with the parameter's name and shape, in `parameters` order.
    public var parameters: [NamedParameter]

    /// The gradient of the parameter called `name`, or nil when there is none.
    public subscript(name: String) -> [Float]? { parameters.first { $0.name == name }?.values }
}

// MARK: - The layers' entries

extension Conv1x1 {
    /// `weight` as `[Cout, Cin/groups, 1, 1]` (a 2-D convolution's shape) and `bias`, under `prefix`.
    func namedParameters(_ prefix: String) -> [NamedParameter] {
        Self.entries(prefix, weightShape: weight.shape + [1, 1], weight: weight.scalars, bias: bias)
    }

    /// The entries of a convolution's weight and optional bias.
    static func entries(_ prefix: String, weightShape: [Int], weight: [Float], bias: [Float]?) -> [NamedParameter] {
        [NamedParameter(name: prefix + ".weight", shape: weightShape, values: weight)]
            + (bias.map { [NamedParameter(name: prefix + ".bias", shape: [$0.count], values: $0)] } ?? [])
    }
}

extension Conv2d {
    /// `weight` (`[Cout, Cin/groups, KH, KW]`) and `bias`, under `prefix`.
    func namedParameters(_ prefix: String) -> [NamedParameter] {
        Conv1x1.entries(prefix, weightShape: weight.shape, weight: weight.scalars, bias: bias)
    }
}

extension BatchNorm {
    /// `weight`, `bias`, `running_mean`, `running_var` and `num_batches_tracked`, under `prefix`.
    func namedParameters(_ prefix: String) -> [NamedParameter] {
        [NamedParameter(name: prefix + ".weight", shape: [channels], values: weight),
         NamedParameter(name: prefix + ".bias", shape: [channels], values: bias),
         NamedParameter(name: prefix + ".running_mean", shape: [channels], values: runningMean, kind: .buffer),
         NamedParameter(name: prefix + ".running_var", shape: [channels], values: runningVar, kind: .buffer),
         NamedParameter(name: prefix + ".num_batches_tracked", shape: [], values: [Float(numBatchesTracked)],
                        kind: .buffer)]
    }
}

// MARK: - Shared checks

extension Tensor {
    /// Throws unless this is `[N, channels, H, W]`, naming the block that needs it.
    func checkImage(channels: Int, role: String = "input") throws(LayerError) {
        guard shape.count == 4, shape[1] == channels else {
            throw .shape(role: role, expected: "[N, \(channels), H, W]", actual: shape)
        }
    }
}

/// Runs a `Conv1x1` call, reporting its error as a `LayerError`.
func convolving<T>(_ body: () throws(ConvolutionError) -> T) throws(LayerError) -> T {
    do { return try body() } catch { throw .convolution(error) }
}

// MARK: - The layers' gradient entries

extension Conv1x1.Gradients {
    /// dL/dweight (as `[Cout, Cin/groups, 1, 1]`) and dL/dbias, under `prefix`.
    func named(_ prefix: String) -> [NamedParameter] {
        Conv1x1.entries(prefix, weightShape: weight.shape + [1, 1], weight: weight.scalars, bias: bias)
    }
}

extension Conv2d.Gradients {
    /// dL/dweight and dL/dbias, under `prefix`.
    func named(_ prefix: String) -> [NamedParameter] {
        Conv1x1.entries(prefix, weightShape: weight.shape, weight: weight.scalars, bias: bias)
    }
}

extension BatchNorm.Gradients {
    /// dL/dweight and dL/dbias, under `prefix`.
    func named(_ prefix: String) -> [NamedParameter] {
        [NamedParameter(name: prefix + ".weight", shape: [weight.count], values: weight),
         NamedParameter(name: prefix + ".bias", shape: [bias.count], values: bias)]
    }
}

extension NamedParameter {
    /// The same entry under `prefix.` (a block's entries inside a larger block).
    func prefixed(_ prefix: String) -> NamedParameter {
        NamedParameter(name: prefix + "." + name, shape: shape, values: values, kind: kind)
    }
}
