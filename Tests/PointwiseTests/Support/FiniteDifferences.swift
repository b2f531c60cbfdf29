import Testing
@testable import Pointwise

/// Central finite differences: the independent truth every layer's backward is checked against.
extension TestSupport {
    /// Σ y ⊙ g in double precision: a loss whose gradient with respect to y is g (any layouts).
    static func dot(_ y: Tensor, _ g: Tensor) -> Double {
        zip(y.scalars, g.converted(to: y.layout).scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// (loss(v + h·eᵢ) − loss(v − h·eᵢ)) / 2h for every i.
    static func numericGradient(of values: [Float], step h: Float = 1e-3, _ loss: ([Float]) throws -> Double) rethrows -> [Double] {
        try values.indices.map { i in
            var up = values, down = values
            up[i] += h
            down[i] -= h
            return (try loss(up) - loss(down)) / Double(2 * h)
        }
    }

    /// The same over a tensor's elements, in memory order.
    static func numericGradient(of x: Tensor, step h: Float = 1e-3, _ loss: (Tensor) throws -> Double) throws -> [Double] {
        try numericGradient(of: x.scalars, step: h) { try loss(Tensor(shape: x.shape, layout: x.layout, values: $0)) }
    }

    /// Expects |analytic − numeric| ≤ tolerance · max(1, |numeric|) element by element.
    static func expectGradient(
        _ analytic: [Float], _ numeric: [Double], tolerance: Double = 2e-3, _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(analytic.count == numeric.count, "\(label): \(analytic.count) vs \(numeric.count) elements",
                sourceLocation: sourceLocation)
        for (i, (a, n)) in zip(analytic, numeric).enumerated() where abs(Double(a) - n) > tolerance * max(1, abs(n)) {
            Issue.record("\(label)[\(i)]: analytic \(a), numeric \(n), tolerance \(tolerance)", sourceLocation: sourceLocation)
        }
    }

    /// Checks a parameter-free layer's input gradient at `x` against finite differences, and that
    /// `accumulateInputGradient` adds to what a buffer holds.
    static func checkInputGradient(
        of layer: some ParameterFreeLayer, at x: Tensor, _ label: String, using random: inout SplitMix64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let y = try layer(x)
        let g = Self.random(y.shape, layout: y.layout, using: &random)
        let analytic = try layer.inputGradient(input: x, outputGradient: g)
        #expect(analytic.shape == x.shape && analytic.layout == x.layout, sourceLocation: sourceLocation)
        let numeric = try numericGradient(of: x) { try dot(layer($0), g) }
        expectGradient(analytic.scalars, numeric, label, sourceLocation: sourceLocation)
        var accumulated = try Tensor(shape: x.shape, layout: x.layout, values: Array(repeating: 1, count: x.count))
        try layer.accumulateInputGradient(input: x, outputGradient: g, into: &accumulated)
        let expected = try Tensor(shape: x.shape, layout: x.layout, values: analytic.scalars.map { $0 + 1 })
        #expect(withinTolerance(difference(accumulated, expected), relative: 1e-6), "\(label): accumulation",
                sourceLocation: sourceLocation)
    }
}
