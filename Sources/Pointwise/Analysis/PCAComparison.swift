/// The articles' "PCA vs learned" comparison, measured: on the same data, the reconstruction error
/// of PCA with K components against 1×1 autoencoders C→K→C trained by backpropagation.
///
/// PCA is the best rank-K linear reconstruction (Eckart–Young), so a linear autoencoder can at
/// best match it; a ReLU between the two layers makes the code non-negative and the map
/// non-linear, which at this size usually costs more than it gains.
///
/// ```swift
/// let comparison = try PCAComparison(x, components: 3)
/// for row in comparison.rows { print(row.method, row.reconstructionError) }
/// ```
public struct PCAComparison: Sendable {
    /// One way of reducing C channels to K and back.
    public enum Method: String, CaseIterable, Sendable {
        /// The PCA encoder and decoder.
        case pca = "PCA"
        /// `PixelNetwork(widths: [C, K, C], activation: .identity)` trained with Adam on the MSE.
        case linearAutoencoder = "linear autoencoder"
        /// The same with a ReLU after the first layer.
        case reluAutoencoder = "ReLU autoencoder"
    }

    /// One method's result.
    public struct Row: Sendable {
        /// Which method.
        public var method: Method
        /// `mean((x − x̂)²)` over every element of the data.
        public var reconstructionError: Double
    }

    /// The most steps an autoencoder may be asked to train for (each step's loss is kept).
    public static let maximumSteps = 100_000_000

    /// K, the channels of the code.
    public let components: Int
    /// PCA, the linear autoencoder, the ReLU autoencoder, in that order.
    public let rows: [Row]

    /// Fits PCA and trains both autoencoders on `x`, then measures every reconstruction on `x`.
    ///
    /// The autoencoders see every pixel as a sample (minibatches of `batchSize` pixels, shuffled
    /// with `seed`), train for at least `steps` steps (whole epochs, so however many pixels there
    /// are), learn with Adam and a cosine-annealed learning rate (so the last epochs settle instead
    /// of hovering around the optimum), and start from PyTorch's initialisation seeded with `seed`:
    /// the whole comparison is reproducible.
    /// - Parameters:
    ///   - x: `[N, C, *spatial]` in either layout, at least two pixels, finite.
    ///   - components: K, in `1…C`.
    ///   - steps: the fewest optimizer steps for each autoencoder, 1…`maximumSteps`.
    ///   - batchSize: pixels per step, ≥ 1.
    ///   - learningRate: Adam's initial rate, > 0.
    ///   - seed: seeds initialisation and shuffling.
    ///   - options: threads and implementation.
    /// - Throws: `AnalysisError` for data PCA cannot fit or K out of range, `.training` for
    ///   settings the trainer rejects or a diverging run.
    public init(
        _ x: Tensor, components: Int, steps: Int = 10_000, batchSize: Int = 32, learningRate: Float = 0.02,
        seed: UInt64 = 0, options: ExecutionOptions = ExecutionOptions()
    ) throws(AnalysisError) {
        let pca = try PCA(fitting: x)
        let pcaError = try pca.reconstructionError(of: x, components: components, options: options)
        guard steps >= 1 else { throw .setting(name: "steps", value: "\(steps)", expected: "≥ 1") }
        guard steps <= Self.maximumSteps else {
            throw .setting(name: "steps", value: "\(steps)", expected: "at most \(Self.maximumSteps)")
        }
        guard batchSize >= 1 else { throw .setting(name: "batchSize", value: "\(batchSize)", expected: "≥ 1") }
        // Ceilings that cannot overflow, for any batch size and pixel count (PCA saw at least two pixels).
        let pixels = x.batchSize * x.pixelsPerImage
        let stepsPerEpoch = pixels / batchSize + (pixels % batchSize == 0 ? 0 : 1)
        let epochs = steps / stepsPerEpoch + (steps % stepsPerEpoch == 0 ? 0 : 1)
        let trainer = Trainer(epochs: epochs, batchSize: batchSize, seed: seed, schedule: .cosine(epochs: epochs),
                              options: options)
        var rows = [Row(method: .pca, reconstructionError: pcaError)]
        for (method, activation) in [(Method.linearAutoencoder, Activation.identity), (.reluAutoencoder, .relu)] {
            do {
                let network = try PixelNetwork(widths: [x.channels, components, x.channels], activation: activation,
                                               seed: seed)
                var adam = try Adam(learningRate: learningRate)
                _ = try trainer.train(network, inputs: x, targets: .values(x), optimizer: &adam)
                let error = try Loss.meanSquaredError(prediction: network(x, options: options), target: x).value
                rows.append(Row(method: method, reconstructionError: Double(error)))
            } catch {
                throw .training(error)
            }
        }
        self.components = components
        self.rows = rows
    }

    /// The reconstruction error of `method`.
    public func reconstructionError(of method: Method) -> Double {
        rows.first { $0.method == method }!.reconstructionError
    }
}
