import Testing
@testable import Pointwise

/// Checks shared by the block tests.
extension TestSupport {
    /// Expects `block` to give `expected` for `x` in both layouts, in the layout of its input.
    static func expectBothLayouts(
        _ block: (Tensor) throws -> Tensor, at x: Tensor, equal expected: Tensor, _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for layout in Layout.allCases {
            let y = try block(x.converted(to: layout))
            #expect(y.layout == layout, sourceLocation: sourceLocation)
            expectClose(y, expected, relative: 1e-5, "\(label) \(layout)", sourceLocation: sourceLocation)
        }
    }

    /// A batch norm that zeroes its input (weight and bias 0).
    static func zeroNorm(_ channels: Int) throws -> BatchNorm {
        try BatchNorm(weight: Array(repeating: 0, count: channels), bias: Array(repeating: 0, count: channels),
                      runningMean: Array(repeating: 0, count: channels), runningVar: Array(repeating: 1, count: channels))
    }
}
