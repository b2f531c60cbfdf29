import Foundation
import Testing
@testable import Pointwise

/// The PCA fixtures written by scripts/make_pca_fixtures.py (scikit-learn and NumPy's SVD on a
/// correlated X [4, 6, 8, 8]), and small data sets made in the tests.
enum PCAFixtures {
    /// X [4, 6, 8, 8], float32.
    static func x() throws -> Tensor {
        let array = try NPY.read(contentsOf: URL(fileURLWithPath: FormatFixtures.path("pca/x.npy")))
        return try Tensor(shape: array.shape, values: array.values)
    }

    /// A float64 reference array, every element exact.
    static func reference(_ name: String) throws -> [Double] {
        let data = try FormatFixtures.data("pca/\(name).npy")
        return FormatFixtures.values(try NPY.decodeArray(data, name: name))
    }

    /// Pixels `z·A + offset + noise` with `latent` factors of decreasing scale: a feature map whose
    /// channels are correlated, `[N, C, H, W]` channels-first.
    static func correlated(_ shape: [Int], latent: Int, seed: UInt64) -> Tensor {
        var random = SplitMix64(seed: seed)
        let channels = shape[1], pixels = shape[0] * shape[2...].reduce(1, *)
        let mixing = TestSupport.randomValues(latent * channels, using: &random)
        var rows = [Float](repeating: 0, count: pixels * channels)
        for p in 0..<pixels {
            let z = (0..<latent).map { Float(latent - $0) * random.nextFloat(in: -1...1) }
            for c in 0..<channels {
                rows[p * channels + c] = Float(c) - 2 + 0.05 * random.nextFloat(in: -1...1)
                    + (0..<latent).reduce(0) { $0 + z[$1] * mixing[$1 * channels + c] }
            }
        }
        let nhwc = try! Tensor(shape: shape, layout: .channelsLast, values: rows)
        return nhwc.converted(to: .channelsFirst)
    }

    /// max |a − b| / max |b|.
    static func relativeDifference(_ a: some Collection<Double>, _ b: some Collection<Double>) -> Double {
        precondition(a.count == b.count)
        let error = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        return error / max(b.map(abs).max() ?? 0, .leastNormalMagnitude)
    }
}
