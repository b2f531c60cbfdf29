import Foundation
import Testing
@testable import Pointwise

/// PCA against scikit-learn and NumPy's SVD (fixtures), and against its own definitions:
/// streaming, layouts, constant channels and bad data.
@Suite struct PCATests {
    @Test("matches scikit-learn: mean, components with svd_flip's signs, explained variance and ratio")
    func matchesScikitLearn() throws {
        let pca = try PCA(fitting: PCAFixtures.x())
        #expect(pca.sampleCount == 256 && pca.channels == 6)
        let checks: [(String, [Double], [Double], Double)] = [
            ("mean", pca.mean, try PCAFixtures.reference("mean"), 1e-12),
            ("components", pca.components, try PCAFixtures.reference("components"), 1e-8),
            ("explained_variance", pca.explainedVariance, try PCAFixtures.reference("explained_variance"), 1e-10),
            ("explained_variance_ratio", pca.explainedVarianceRatio,
             try PCAFixtures.reference("explained_variance_ratio"), 1e-10),
        ]
        for (name, observed, expected, tolerance) in checks {
            let difference = PCAFixtures.relativeDifference(observed, expected)
            #expect(difference <= tolerance,
                    "\(name): relative difference \(difference) > \(tolerance); observed \(observed), expected \(expected)")
        }
    }

    @Test("the exported Conv1x1 pair reconstructs with NumPy's SVD error (K = 3) within 1e-4 relative")
    func reconstructionMatchesNumPy() throws {
        let x = try PCAFixtures.x(), pca = try PCA(fitting: x)
        let expected = try PCAFixtures.reference("reconstruction_mse_k3")[0]
        for layout in Layout.allCases {
            let observed = try pca.reconstructionError(of: x.converted(to: layout), components: 3)
            #expect(abs(observed - expected) <= 1e-4 * expected,
                    "\(layout): observed \(observed), expected \(expected), tolerance 1e-4 relative")
        }
        let predicted = try pca.expectedReconstructionError(components: 3)
        #expect(abs(predicted - expected) <= 1e-9 * expected, "from the eigenvalues: \(predicted) vs \(expected)")
    }

    @Test("encoder is [K, C] with bias −W·mean, decoder its transpose with bias mean; K = C reconstructs x")
    func convolutions() throws {
        let x = try PCAFixtures.x(), pca = try PCA(fitting: x)
        let encoder = try pca.encoder(components: 2), decoder = try pca.decoder(components: 2)
        #expect(encoder.weight.shape == [2, 6] && decoder.weight.shape == [6, 2])
        let w = encoder.weight.scalars, wt = decoder.weight.scalars
        for k in 0..<2 {
            for c in 0..<6 { #expect(w[k * 6 + c] == wt[c * 2 + k] && w[k * 6 + c] == Float(pca.component(k)[c])) }
            let bias = -zip(pca.component(k), pca.mean).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(Double(encoder.bias![k]) - bias) <= 1e-6 * max(abs(bias), 1))
        }
        #expect(decoder.bias! == pca.mean.map(Float.init))
        let full = try pca.decoder(components: 6)(pca.encoder(components: 6)(x))
        let difference = TestSupport.difference(full, x)
        #expect(TestSupport.withinTolerance(difference), "K = C: max error \(difference.maxError), scale \(difference.scale)")
    }

    @Test("streaming: chunks of 1, 7 or all pixels, and statistics merged image by image, give the same PCA")
    func streaming() throws {
        let x = try PCAFixtures.x(), whole = try PCA(fitting: x, chunkSize: 1 << 20)
        var merged = try ChannelStatistics(channels: 6)
        for n in 0..<x.batchSize {
            var statistics = try ChannelStatistics(channels: 6)
            try statistics.add(x.batch(n), chunkSize: 5)
            try merged.merge(statistics)
        }
        for (label, pca) in [("chunk 1", try PCA(fitting: x, chunkSize: 1)), ("chunk 7", try PCA(fitting: x, chunkSize: 7)),
                             ("merged", try PCA(statistics: merged))] {
            #expect(pca.sampleCount == whole.sampleCount)
            for (name, a, b) in [("mean", pca.mean, whole.mean), ("components", pca.components, whole.components),
                                 ("variance", pca.explainedVariance, whole.explainedVariance)] {
                let difference = PCAFixtures.relativeDifference(a, b)
                #expect(difference <= 1e-10, "\(label) \(name): relative difference \(difference)")
            }
        }
    }

    @Test("NHWC input gives the same PCA, bit for bit")
    func layouts() throws {
        let x = PCAFixtures.correlated([2, 5, 3, 7], latent: 2, seed: 11)
        let first = try PCA(fitting: x), last = try PCA(fitting: x.converted(to: .channelsLast))
        #expect(first.mean == last.mean && first.components == last.components
                && first.explainedVariance == last.explainedVariance)
    }

    @Test("a mean 10⁴ times the spread: the variance matches a two-pass Float64 computation")
    func largeOffset() throws {
        var random = SplitMix64(seed: 3)
        let values = (0..<2 * 300).map { i in Float(10_000 + 5 * (i % 2)) + random.nextFloat(in: -1...1) }
        let x = try Tensor(shape: [300, 2], layout: .channelsLast, values: values)
        let statistics = try { var s = try ChannelStatistics(channels: 2); try s.add(x, chunkSize: 64); return s }()
        let covariance = try statistics.covariance()
        for i in 0..<2 {
            for j in 0..<2 {
                let mi = (0..<300).reduce(0.0) { $0 + Double(values[$1 * 2 + i]) } / 300
                let mj = (0..<300).reduce(0.0) { $0 + Double(values[$1 * 2 + j]) } / 300
                let expected = (0..<300).reduce(0.0) { $0 + (Double(values[$1 * 2 + i]) - mi) * (Double(values[$1 * 2 + j]) - mj) } / 299
                #expect(abs(covariance[i * 2 + j] - expected) <= 1e-9 * max(abs(expected), 1e-3),
                        "cov[\(i), \(j)]: observed \(covariance[i * 2 + j]), expected \(expected)")
            }
        }
    }

    @Test("constant channels: eigenvalue 0, no NaN anywhere; all constant: ratios 0")
    func constantChannels() throws {
        var random = SplitMix64(seed: 9)
        let varying = TestSupport.randomValues(64 * 2, using: &random)
        let values = (0..<64).flatMap { p in [varying[2 * p], 5, varying[2 * p + 1], 0] as [Float] }
        let x = try Tensor(shape: [1, 4, 8, 8], layout: .channelsLast, values: values)
        let pca = try PCA(fitting: x)
        #expect(pca.explainedVariance[2...].allSatisfy { $0 <= 1e-15 }, "\(pca.explainedVariance)")
        #expect(pca.explainedVariance[..<2].allSatisfy { $0 > 0.1 }, "\(pca.explainedVariance)")
        #expect(!(pca.components + pca.explainedVarianceRatio + pca.mean).contains { $0.isNaN })
        // The kept components never touch the constant channels, so K = 2 reconstructs exactly.
        #expect(try pca.reconstructionError(of: x, components: 2) <= 1e-12)
        let constant = try PCA(fitting: Tensor(shape: [3, 2], values: [1, 2, 1, 2, 1, 2]))
        #expect(constant.explainedVariance == [0, 0] && constant.explainedVarianceRatio == [0, 0])
        #expect(constant.components.allSatisfy { $0.isFinite } && constant.mean == [1, 2])
        #expect(try constant.reconstructionError(of: Tensor(shape: [3, 2], values: [1, 2, 1, 2, 1, 2]), components: 1) == 0)
    }

    @Test("bad data: no samples, one sample, K outside 1…C, NaN or infinity, mismatched channels")
    func badData() throws {
        #expect(throws: AnalysisError.tooFewSamples(count: 0)) { try PCA(fitting: Tensor(zeros: [0, 3, 4, 4])) }
        #expect(throws: AnalysisError.tooFewSamples(count: 1)) { try PCA(fitting: Tensor(zeros: [1, 3, 1, 1])) }
        let x = PCAFixtures.correlated([1, 3, 2, 2], latent: 1, seed: 1)
        let pca = try PCA(fitting: x)
        for k in [0, 4] {
            #expect(throws: AnalysisError.componentCount(requested: k, channels: 3)) { try pca.encoder(components: k) }
            #expect(throws: AnalysisError.componentCount(requested: k, channels: 3)) { try pca.decoder(components: k) }
        }
        for (bad, layout) in [(Float.nan, Layout.channelsFirst), (.infinity, .channelsLast)] {
            let arranged = x.converted(to: layout)
            var values = arranged.scalars
            values[arranged.memoryIndex(batch: 0, channel: 2, position: 3)] = bad
            let poisoned = try Tensor(shape: x.shape, layout: layout, values: values)
            #expect {
                try PCA(fitting: poisoned)
            } throws: { error in
                guard case .nonFinite(let n, let c, let s, _) = error as? AnalysisError else { return false }
                return (n, c, s) == (0, 2, 3)
            }
        }
        var statistics = try ChannelStatistics(channels: 4)
        #expect(throws: AnalysisError.self) { try statistics.add(x) }
        #expect(throws: AnalysisError.self) { try statistics.merge(ChannelStatistics(channels: 3)) }
        #expect(throws: AnalysisError.self) { try pca.reconstructionError(of: Tensor(zeros: [1, 4, 2, 2]), components: 1) }
        #expect(statistics.count == 0)
    }
}
