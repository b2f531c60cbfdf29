import Testing
@testable import Pointwise

/// Layers that move values without arithmetic on them (Upsample, Concat, Flatten) or only add
/// (Add): PyTorch's layouts by hand, gradients, errors.
@Suite struct ShapeLayerTests {
    @Test("nearest upsampling ×2 by hand: each pixel becomes a 2×2 block; backward sums the block")
    func upsample() throws {
        let up = try Upsample()
        for layout in Layout.allCases {
            let x = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]).converted(to: layout)
            let y = try up(x)
            #expect(y.shape == [1, 1, 4, 4] && y.layout == layout)
            #expect(y.converted(to: .channelsFirst).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
            let dy = try Tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init))
            let blockSums: [Float] = [0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]
            #expect(try up.inputGradient(input: x, outputGradient: dy).converted(to: .channelsFirst).scalars == blockSums)
        }
        #expect(try Upsample(scaleFactor: 3)(Tensor(zeros: [2, 3, 1, 2])).shape == [2, 3, 3, 6])
    }

    @Test("concatenation stacks channels in order, mixing layouts; backward hands each input its slice")
    func concat() throws {
        let a = try Tensor(shape: [2, 1, 2], values: [1, 2, 3, 4])
        let b = try Tensor(shape: [2, 2, 2], values: [5, 6, 7, 8, 9, 10, 11, 12]).converted(to: .channelsLast)
        for (first, second) in [(a, b), (a.converted(to: .channelsLast), b)] {
            let y = try Concat()([first, second])
            #expect(y.shape == [2, 3, 2] && y.layout == first.layout)
            #expect(y.converted(to: .channelsFirst).scalars == [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
            let dy = try Tensor(shape: [2, 3, 2], values: (0..<12).map(Float.init)).converted(to: y.layout)
            let grads = try Concat().inputGradients(inputs: [first, second], outputGradient: dy)
            #expect(grads[0].layout == first.layout && grads[1].layout == .channelsLast)
            #expect(grads[0].converted(to: .channelsFirst).scalars == [0, 1, 6, 7])
            #expect(grads[1].converted(to: .channelsFirst).scalars == [2, 3, 4, 5, 8, 9, 10, 11])
        }
    }

    @Test("add: elementwise, any layouts; backward passes dL/dy to both operands")
    func add() throws {
        let a = try Tensor(shape: [1, 2, 2], values: [1, 2, 3, 4]), b = try Tensor(shape: [1, 2, 2], values: [10, 20, 30, 40])
        let y = try Add()(a, b.converted(to: .channelsLast))
        #expect(y.layout == .channelsFirst && y.scalars == [11, 22, 33, 44] && a.scalars == [1, 2, 3, 4])
        var da = try Tensor(shape: [1, 2, 2], values: [1, 1, 1, 1]), db = try Tensor(zeros: [1, 2, 2], layout: .channelsLast)
        try Add().accumulateInputGradients(outputGradient: a, into: &da, &db)
        #expect(da.scalars == [2, 3, 4, 5] && db.converted(to: .channelsFirst).scalars == [1, 2, 3, 4])
    }

    @Test("flatten follows PyTorch's NCHW order in both layouts, without copying channels-first input")
    func flatten() throws {
        // x[n, c, h, w] = 1000n + 100c + 10h + w for [2, 3, 2, 2].
        var values: [Float] = []
        for n in 0..<2 {
            for c in 0..<3 {
                for s in 0..<4 { values.append(Float(1000 * n + 100 * c + 10 * (s / 2) + s % 2)) }
            }
        }
        let x = try Tensor(shape: [2, 3, 2, 2], values: values)
        for input in [x, x.converted(to: .channelsLast)] {
            let y = Flatten()(input)
            #expect(y.shape == [2, 12] && y.scalars == values, "\(input.layout)")
            let dx = try Flatten().inputGradient(input: input, outputGradient: y)
            #expect(dx.layout == input.layout && dx.scalars == input.scalars)
        }
        #expect(Flatten()(x).storage === x.storage)
        // A flattened trunk feeds a Linear head.
        let head = try Linear(inputFeatures: 12, outputFeatures: 3)
        #expect(try head(Flatten()(x.converted(to: .channelsLast))).shape == [2, 3])
    }

    @Test("backward equals finite differences, both layouts")
    func finiteDifferences() throws {
        var random = SplitMix64(seed: 51)
        for layout in Layout.allCases {
            let image = TestSupport.random([2, 2, 3, 2], layout: layout, using: &random)
            try TestSupport.checkInputGradient(of: Upsample(), at: image, "upsample \(layout)", using: &random)
            try TestSupport.checkInputGradient(of: Flatten(), at: image, "flatten \(layout)", using: &random)
            let other = TestSupport.random([2, 3, 3, 2], layout: .channelsLast, using: &random)
            let g = TestSupport.random([2, 5, 3, 2], layout: layout, using: &random)
            let grads = try Concat().inputGradients(inputs: [image, other], outputGradient: g)
            TestSupport.expectGradient(grads[0].scalars, try TestSupport.numericGradient(of: image) {
                TestSupport.dot(try Concat()([$0, other]), g)
            }, "concat first \(layout)")
            TestSupport.expectGradient(grads[1].scalars, try TestSupport.numericGradient(of: other) {
                TestSupport.dot(try Concat()([image, $0]), g)
            }, "concat second \(layout)")
            let addend = TestSupport.random([2, 2, 3, 2], using: &random)
            let h = TestSupport.random([2, 2, 3, 2], layout: layout, using: &random)
            var da = Tensor.zeros(like: image), db = Tensor.zeros(like: addend)
            try Add().accumulateInputGradients(outputGradient: h, into: &da, &db)
            TestSupport.expectGradient(da.scalars, try TestSupport.numericGradient(of: image) {
                TestSupport.dot(try Add()($0, addend), h)
            }, "add first \(layout)")
            TestSupport.expectGradient(db.scalars, try TestSupport.numericGradient(of: addend) {
                TestSupport.dot(try Add()(image, $0), h)
            }, "add second \(layout)")
        }
    }

    @Test("mismatched shapes throw typed errors")
    func errors() throws {
        #expect(throws: LayerError.setting(name: "scaleFactor", value: "0", expected: "≥ 1")) { try Upsample(scaleFactor: 0) }
        #expect(throws: LayerError.shape(role: "input", expected: "[N, C, H, W]", actual: [1, 2, 3])) {
            try Upsample()(Tensor(zeros: [1, 2, 3]))
        }
        #expect(throws: LayerError.shape(role: "inputs", expected: "at least one tensor", actual: [])) { try Concat()([]) }
        #expect(throws: LayerError.shape(role: "input", expected: "[2, C] + [3] like the first input", actual: [2, 4, 2])) {
            try Concat()([Tensor(zeros: [2, 1, 3]), Tensor(zeros: [2, 4, 2])])
        }
        #expect(throws: LayerError.shape(role: "input", expected: "[2, C] + [3] like the first input", actual: [1, 4, 3])) {
            try Concat()([Tensor(zeros: [2, 1, 3]), Tensor(zeros: [1, 4, 3])])
        }
        var buffers = [try Tensor(zeros: [2, 1, 3]), try Tensor(zeros: [2, 2, 3])]
        #expect(throws: LayerError.shape(role: "output gradient", expected: "[2, 3, 3]", actual: [2, 4, 3])) {
            try Concat().accumulateInputGradients(outputGradient: Tensor(zeros: [2, 4, 3]), into: &buffers)
        }
        #expect(throws: LayerError.shape(role: "right operand", expected: "[1, 2, 3]", actual: [1, 3, 2])) {
            try Add()(Tensor(zeros: [1, 2, 3]), Tensor(zeros: [1, 3, 2]))
        }
        #expect(throws: LayerError.shape(role: "output gradient", expected: "[2, 6]", actual: [2, 5])) {
            try Flatten().inputGradient(input: Tensor(zeros: [2, 3, 2]), outputGradient: Tensor(zeros: [2, 5]))
        }
    }
}
