import Testing
@testable import Pointwise

/// MaxPool2d, AvgPool2d and GlobalAveragePool: PyTorch's numbers by hand, gradients, errors.
@Suite struct PoolingTests {
    /// [1, 1, 4, 4] holding `sign` · 0, 1, …, 15 row by row.
    static func ramp(sign: Float = 1, layout: Layout = .channelsFirst) throws -> Tensor {
        try Tensor(shape: [1, 1, 4, 4], values: (0..<16).map { sign * Float($0) }).converted(to: layout)
    }

    /// Distinct values 0.05 apart, so a finite-difference step never changes which element is largest.
    static func separated(_ shape: [Int], layout: Layout, using random: inout SplitMix64) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try Tensor(shape: shape, layout: layout, values: Array(0..<count).shuffled(using: &random).map { Float($0) * 0.05 - 1 })
    }

    @Test("max pooling: PyTorch's outputs by hand, padding never wins, ties go to the first element")
    func maxPoolValues() throws {
        for layout in Layout.allCases {
            #expect(try MaxPool2d(kernelSize: 2)(Self.ramp(layout: layout)).scalars == [5, 7, 13, 15])
            // kernel 3, stride 2, padding 1 over −ramp: −1, −4, −5 where the padding's zeros would have won.
            let y = try MaxPool2d(kernelSize: 3, stride: 2, padding: 1)(Self.ramp(sign: -1, layout: layout))
            #expect(y.shape == [1, 1, 2, 2] && y.converted(to: .channelsFirst).scalars == [0, -1, -4, -5], "\(layout)")
        }
        let flat = try Tensor(shape: [1, 1, 2, 4], values: Array(repeating: 1, count: 8))
        let dx = try MaxPool2d(kernelSize: 2).inputGradient(input: flat, outputGradient: Tensor(shape: [1, 1, 1, 2], values: [3, 4]))
        #expect(dx.scalars == [3, 0, 4, 0, 0, 0, 0, 0])
    }

    @Test("average pooling: PyTorch's outputs by hand, with and without counting the padding")
    func avgPoolValues() throws {
        for layout in Layout.allCases {
            let x = try Self.ramp(layout: layout)
            #expect(try AvgPool2d(kernelSize: 2)(x).converted(to: .channelsFirst).scalars == [2.5, 4.5, 10.5, 12.5])
            // Windows of kernel 3, stride 2, padding 1 hold 0+1+4+5, 1+2+3+5+6+7, 4+5+8+9+12+13 and 5+…+15 (9 cells).
            let included = try AvgPool2d(kernelSize: 3, stride: 2, padding: 1)(x).converted(to: .channelsFirst)
            #expect(TestSupport.withinTolerance(TestSupport.difference(included.scalars, [10.0 / 9, 24.0 / 9, 51.0 / 9, 10]), relative: 1e-7))
            let excluded = try AvgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)(x).converted(to: .channelsFirst)
            #expect(excluded.scalars == [2.5, 4, 8.5, 10], "\(layout)")
        }
    }

    @Test("global average pooling gives [N, C, 1, …] means, 1-D to 3-D")
    func globalAverage() throws {
        let pool = GlobalAveragePool()
        for layout in Layout.allCases {
            let x = try Tensor(shape: [1, 2, 2, 2], values: [1, 2, 3, 4, -1, -1, 0, 6]).converted(to: layout)
            let y = try pool(x)
            #expect(y.shape == [1, 2, 1, 1] && y.layout == layout && y.scalars == [2.5, 1])
        }
        // Random values: the mean of every channel summed in order in Double, the same bits in both layouts.
        var random = SplitMix64(seed: 43)
        let shape = [3, 37, 5, 7], values = TestSupport.randomValues(shape.reduce(1, *), using: &random)
        let expected = (0..<3 * 37).map { plane in
            Float((0..<35).reduce(0.0) { $0 + Double(values[plane * 35 + $1]) } / 35)
        }
        for layout in Layout.allCases {
            let y = try pool(Tensor(shape: shape, values: values).converted(to: layout))
            #expect(y.converted(to: .channelsFirst).scalars.elementsEqual(expected), "\(layout)")
        }
        #expect(try pool(Tensor(zeros: [3, 4, 7])).shape == [3, 4, 1])
        #expect(try pool(Tensor(zeros: [3, 4, 2, 2, 2])).shape == [3, 4, 1, 1, 1])
    }

    @Test("backward equals finite differences, both layouts")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 41)
        let layers: [(String, any ParameterFreeLayer)] = [
            ("max 2", try MaxPool2d(kernelSize: 2)),
            ("max 3/2/1", try MaxPool2d(kernelSize: 3, stride: 2, padding: 1)),
            ("avg 3/1/1", try AvgPool2d(kernelSize: 3, stride: 1, padding: 1)),
            ("avg 3/2/1 excluding padding", try AvgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)),
            ("global average", GlobalAveragePool()),
        ]
        for layout in Layout.allCases {
            for (label, layer) in layers {
                let x = try Self.separated([2, 2, 5, 4], layout: layout, using: &random)
                try TestSupport.checkInputGradient(of: layer, at: x, "\(label) \(layout)", using: &random)
            }
        }
    }

    @Test("bad settings and shapes throw typed errors")
    func errors() throws {
        #expect(throws: LayerError.setting(name: "kernelSize", value: "0", expected: "≥ 1")) { try MaxPool2d(kernelSize: 0) }
        #expect(throws: LayerError.setting(name: "stride", value: "0", expected: "≥ 1")) { try AvgPool2d(kernelSize: 2, stride: 0) }
        #expect(throws: LayerError.setting(name: "padding", value: "2", expected: "0…1 (at most half the kernel)")) {
            try MaxPool2d(kernelSize: 3, padding: 2)
        }
        let pool = try MaxPool2d(kernelSize: 3)
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, H, W] with H, W ≥ 3", actual: [1, 2, 2, 5])) {
            try pool(Tensor(zeros: [1, 2, 2, 5]))
        }
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, H, W] with H, W ≥ 3", actual: [1, 2, 9])) {
            try pool(Tensor(zeros: [1, 2, 9]))
        }
        #expect(throws: LayerError.shape(role: "output gradient", expected: "[1, 2, 2, 2]", actual: [1, 2, 3, 3])) {
            try pool.inputGradient(input: Tensor(zeros: [1, 2, 6, 6]), outputGradient: Tensor(zeros: [1, 2, 3, 3]))
        }
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, *spatial] with 1 to 3 spatial dimensions, each ≥ 1",
                                         actual: [2, 3])) { try GlobalAveragePool()(Tensor(zeros: [2, 3])) }
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, *spatial] with 1 to 3 spatial dimensions, each ≥ 1",
                                         actual: [2, 3, 0, 4])) { try GlobalAveragePool()(Tensor(zeros: [2, 3, 0, 4])) }
    }
}
