import Foundation

// The tour's compression steps: a 1×1 convolution that keeps what matters of 64 channels in 16,
// built by PCA, and PCA against 1×1 autoencoders trained by backprop.
extension Tour {
    /// Compressing 64 channels to 16 with a 1×1 convolution (PCA's), with pictures.
    func compression() throws -> Step {
        var random = SplitMix64(seed: 11)
        let x = try TourData.redundantFeatures(random: &random)
        let pca = try PCA(fitting: x)
        let options = ExecutionOptions(threads: threads)
        let encoder = try pca.encoder(components: 16)
        let code = try encoder(x, options: options)
        let error = try pca.reconstructionError(of: x, components: 16, options: options)
        let variance = pca.explainedVariance.reduce(0, +) / Double(pca.channels)
        let kept = pca.explainedVarianceRatio.prefix(16).reduce(0, +)
        let input = try save(FeatureGrid.render(x, channels: Array(0..<8), title: "INPUT: 8 OF 64 CHANNELS"),
                             as: "compression-input.png")
        let output = try save(FeatureGrid.render(code, channels: Array(0..<8), title: "1X1 CONV 64→16: CHANNELS 0-7"),
                              as: "compression-output.png")
        let curve = try save(Charts.lines([("cumulative", pca.explainedVarianceRatio.indices.map {
            pca.explainedVarianceRatio[0...$0].reduce(0, +)
        })], title: "EXPLAINED VARIANCE, CUMULATIVE", xLabel: "COMPONENT", yLabel: "RATIO"), as: "compression-variance.png")
        return Step(
            title: "Compressing 64 channels to 16 with one 1×1 convolution",
            demonstrates: "A 1×1 convolution 64→16 keeps the information of every pixel's 64-channel vector when the "
                + "channels are redundant; PCA gives its weights (the top 16 components) and bias (−W·mean).",
            figures: [
                String(format: "%@ → %@: 16 components keep %.2f%% of the variance", "\(x.shape)", "\(code.shape)", kept * 100),
                String(format: "reconstruction MSE %.2e against a per-channel variance of %.3f (%.3f%%)",
                       error, variance, 100 * error / variance),
                "weights: \(encoder.parameterSummary)",
            ],
            pictures: [input, output, curve])
    }

    /// PCA against linear and ReLU 1×1 autoencoders trained by backprop on the same pixels.
    func pcaVersusLearned() throws -> Step {
        var random = SplitMix64(seed: 11)
        let x = try TourData.redundantFeatures(random: &random)
        let comparison = try PCAComparison(x, components: 16, steps: quick ? 400 : 6_000, batchSize: 64,
                                           options: ExecutionOptions(threads: 1))
        let pca = comparison.reconstructionError(of: .pca)
        let bars = try save(Charts.bars(comparison.rows.map(\.reconstructionError), labels: ["PCA", "LINEAR AE", "RELU AE"],
                                        title: "RECONSTRUCTION MSE, 64 → 16 → 64", xLabel: "METHOD", yLabel: "MSE"),
                            as: "pca-vs-learned.png")
        return Step(
            title: "PCA versus a learned 1×1 compression",
            demonstrates: "PCA is the best linear compression; a linear 1×1 autoencoder trained by backprop converges to the "
                + "same error, and a ReLU in the code does not help data that is linear to begin with.",
            figures: comparison.rows.map {
                String(format: "%@: MSE %.3e (%.2f× PCA)", $0.method.rawValue, $0.reconstructionError, $0.reconstructionError / pca)
            },
            pictures: [bars])
    }
}

extension Conv1x1 {
    /// `[Cout, Cin] + bias [Cout]`, as the tour prints a layer.
    var parameterSummary: String { "\(weight.shape) + bias [\(outputChannels)]" }
}
