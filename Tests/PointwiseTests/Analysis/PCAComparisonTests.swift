import Testing
@testable import Pointwise

/// The PCA-vs-autoencoder comparison on a tiny case. PCA is the best reconstruction through any
/// K-dimensional affine subspace, and both autoencoders' outputs lie in one (their decoder is
/// linear), so neither may beat it; a converged linear autoencoder should come close to it.
@Suite struct PCAComparisonTests {
    @Test("linear autoencoder within 10% of PCA's error; neither autoencoder below PCA")
    func tinyCase() throws {
        let x = PCAFixtures.correlated([2, 4, 4, 4], latent: 3, seed: 21)
        let comparison = try PCAComparison(x, components: 2, steps: 3000, batchSize: 16, learningRate: 0.02, seed: 1,
                                           options: ExecutionOptions(threads: 1))
        #expect(comparison.rows.map(\.method) == PCAComparison.Method.allCases)
        let pca = comparison.reconstructionError(of: .pca)
        let linear = comparison.reconstructionError(of: .linearAutoencoder)
        let relu = comparison.reconstructionError(of: .reluAutoencoder)
        #expect(abs(pca - (try PCA(fitting: x).reconstructionError(of: x, components: 2))) <= 1e-12)
        #expect(linear <= 1.1 * pca, "linear autoencoder \(linear) vs PCA \(pca)")
        for (name, error) in [("linear", linear), ("ReLU", relu)] {
            #expect(error >= pca * (1 - 1e-4), "\(name) autoencoder \(error) beat PCA \(pca): impossible")
        }
    }

    @Test("settings out of range are typed errors")
    func badSettings() throws {
        let x = PCAFixtures.correlated([1, 3, 2, 2], latent: 1, seed: 2)
        #expect(throws: AnalysisError.setting(name: "steps", value: "0", expected: "≥ 1")) {
            try PCAComparison(x, components: 1, steps: 0)
        }
        #expect(throws: AnalysisError.componentCount(requested: 4, channels: 3)) { try PCAComparison(x, components: 4) }
        #expect(throws: AnalysisError.self) { try PCAComparison(x, components: 1, steps: 10, learningRate: 0) }
    }
}
