import Testing
@testable import Pointwise

/// Conv2d forward: PyTorch's and TensorFlow's numbers by hand, output shapes, the fast paths
/// against the reference loops, thread-count bit-identity and typed errors.
@Suite struct Conv2dTests {
    static let reference = ExecutionOptions(algorithm: .reference)

    /// A convolution from literal weights.
    static func conv(
        _ weight: [Float], _ shape: [Int], bias: [Float]? = nil, stride: Int = 1, padding: Conv2d.Padding = .valid,
        dilation: Int = 1, groups: Int = 1, activation: Activation = .identity
    ) throws -> Conv2d {
        try Conv2d(weight: Tensor(shape: shape, values: weight), bias: bias, stride: stride, padding: padding,
                   dilation: dilation, groups: groups, activation: activation)
    }

    /// [1, 1, 4, 4] holding 0, 1, …, 15 row by row.
    static func ramp(_ layout: Layout) throws -> Tensor {
        try Tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init)).converted(to: layout)
    }

    /// Both algorithms' outputs, channels-first.
    static func outputs(_ conv: Conv2d, _ x: Tensor) throws -> [[Float]] {
        try [ExecutionOptions(threads: 2), reference].map { try conv(x, options: $0).converted(to: .channelsFirst).scalars }
    }

    @Test("small cases by hand: valid, padded, SAME asymmetric at stride 2, dilation, groups, bias and ReLU")
    func handComputed() throws {
        for layout in Layout.allCases {
            let x = try Self.ramp(layout)
            // 2×2 ones over the ramp: each output sums a 2×2 block.
            for y in try Self.outputs(Self.conv([1, 1, 1, 1], [1, 1, 2, 2]), x) {
                #expect(y == [10, 14, 18, 26, 30, 34, 42, 46, 50], "\(layout)")
            }
            // 3×3 ones, stride 2, PyTorch padding 1: windows centred on (0,0), (0,2), (2,0), (2,2):
            // 0+1+4+5, 1+2+3+5+6+7, 4+5+8+9+12+13 and 5+…+15 without 12 and 3.
            let ones = [Float](repeating: 1, count: 9)
            for y in try Self.outputs(Self.conv(ones, [1, 1, 3, 3], stride: 2, padding: .symmetric(1)), x) {
                #expect(y == [10, 24, 51, 90], "\(layout)")
            }
            // TensorFlow SAME, stride 2 on 4: total padding 1, all of it after (bottom, right):
            // windows at rows/columns 0…2 and 2…4.
            for y in try Self.outputs(Self.conv(ones, [1, 1, 3, 3], stride: 2, padding: .same), x) {
                #expect(y == [45, 39, 66, 50], "\(layout)")
            }
            // Explicit (top 1, bottom 0, left 0, right 2) with a 1×3 kernel [1, 0, −1], dilation 1:
            // five output rows, row −1 all zeros, then x[r, c] − x[r, c + 2].
            let edge = try Self.conv([1, 0, -1], [1, 1, 1, 3], padding: .explicit(top: 1, bottom: 0, left: 0, right: 2))
            for y in try Self.outputs(edge, x) {
                #expect(y == [0, 0, 0, 0, -2, -2, 2, 3, -2, -2, 6, 7, -2, -2, 10, 11, -2, -2, 14, 15], "\(layout)")
            }
            // Dilation 2: the taps (0,0), (0,2), (2,0), (2,2) of the ramp, 0 + 2 + 8 + 10.
            for y in try Self.outputs(Self.conv([1, 1, 1, 1], [1, 1, 2, 2], dilation: 2), x) {
                #expect(y == [20, 24, 36, 40], "\(layout)")
            }
            // Two groups (depthwise), bias and ReLU: channel 0 ×1 + 1, channel 1 ×(−1) − 1 → ReLU 0.
            let two = try Tensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4]).converted(to: layout)
            let depthwise = try Self.conv([1, -1], [2, 1, 1, 1], bias: [1, -1], groups: 2, activation: .relu)
            for y in try Self.outputs(depthwise, two) { #expect(y == [2, 3, 0, 0], "\(layout)") }
        }
    }

    @Test("output shapes follow PyTorch's formula and TensorFlow's SAME")
    func outputShapes() throws {
        func shape(_ k: Int, _ s: Int, _ p: Conv2d.Padding, dilation: Int = 1, cout: Int = 32, _ input: [Int]) throws -> [Int] {
            try Conv2d(inputChannels: input[1], outputChannels: cout, kernelSize: k, stride: s, padding: p,
                       dilation: dilation).outputShape(forInput: input)
        }
        // MobileNetV2 stem (torch: Conv2d(3, 32, 3, 2, 1) on 224 → 112).
        #expect(try shape(3, 2, .symmetric(1), [1, 3, 224, 224]) == [1, 32, 112, 112])
        // ResNet-50 stem (Conv2d(3, 64, 7, 2, 3): 224 → 112).
        #expect(try shape(7, 2, .symmetric(3), cout: 64, [1, 3, 224, 224]) == [1, 64, 112, 112])
        // Unpadded 3×3 stride 2 on 225 → 112; SAME on 225 → ⌈225/2⌉ = 113; SAME on 224 → 112.
        #expect(try shape(3, 2, .valid, [1, 3, 225, 225]) == [1, 32, 112, 112])
        #expect(try shape(3, 2, .same, [1, 3, 225, 225]) == [1, 32, 113, 113])
        #expect(try shape(3, 2, .same, [1, 3, 224, 224]) == [1, 32, 112, 112])
        // DeepLab's dilated 3×3 (dilation 2, padding 2) keeps 56; 5×5 stride 2 padding 2 on 14 → 7.
        #expect(try shape(3, 1, .symmetric(2), dilation: 2, [2, 8, 56, 56]) == [2, 32, 56, 56])
        #expect(try shape(5, 2, .symmetric(2), [1, 672, 14, 14]) == [1, 32, 7, 7])
        // (7 + 1 − 2)/3 + 1 = 3 rows, (5 + 2 − 2)/3 + 1 = 2 columns.
        #expect(try shape(2, 3, .explicit(top: 0, bottom: 1, left: 2, right: 0), [1, 1, 7, 5]) == [1, 32, 3, 2])
    }

    @Test("fast paths equal the reference loops over random configurations")
    func fastMatchesReference() throws {
        var random = SplitMix64(seed: 2024)
        for index in 0..<300 {
            let config = Conv2dConfiguration.random(depthwise: index % 3 == 0, using: &random)
            let x = TestSupport.random(config.inputShape, layout: config.layout, using: &random)
            let kernels = TestSupport.kernels(forCase: index + 3, portableEvery: 4)
            let fast = try config.conv(x, options: ExecutionOptions(threads: 1 + index % 3, kernels: kernels))
            let expected = try config.conv(x, options: Self.reference)
            #expect(fast.shape == expected.shape && fast.layout == x.layout)
            TestSupport.expectClose(fast, expected, "\(config) \(kernels.name)")
        }
    }

    @Test("forward into a reused buffer, and any thread count, give the same bits")
    func threadsAndReuse() throws {
        var random = SplitMix64(seed: 7)
        let convs = [
            try Conv2d(inputChannels: 24, outputChannels: 24, kernelSize: 3, stride: 1, padding: .symmetric(1), groups: 24),
            try Conv2d(inputChannels: 24, outputChannels: 24, kernelSize: 5, stride: 2, padding: .same, groups: 24,
                       activation: .relu6),
            try Conv2d(inputChannels: 6, outputChannels: 10, kernelSize: 3, stride: 2, padding: .symmetric(1),
                       activation: .silu),
        ]
        for conv in convs {
            for layout in Layout.allCases {
                let x = TestSupport.random([3, conv.inputChannels, 13, 18], layout: layout, using: &random)
                let one = try conv(x, options: ExecutionOptions(threads: 1))
                var reused = try Tensor(zeros: one.shape, layout: layout)
                for threads in [2, 3, 5] {
                    try conv.forward(x, into: &reused, options: ExecutionOptions(threads: threads))
                    #expect(reused.scalars == one.scalars, "\(threads) threads, \(layout)")
                }
            }
        }
    }

    @Test("an output layout other than the input's: the stem kernel writes it directly, bit for bit the converted result")
    func outputLayout() throws {
        var random = SplitMix64(seed: 31)
        let convs = [
            // The stem kernel (3 → 32, 3×3 stride 2, SAME padding on odd sizes), then 1 and 4 input channels.
            try Conv2d(inputChannels: 3, outputChannels: 32, kernelSize: 3, stride: 2, padding: .same, activation: .relu6),
            try Conv2d(inputChannels: 1, outputChannels: 5, kernelSize: 5, stride: 1, padding: .symmetric(2), activation: .silu),
            try Conv2d(inputChannels: 4, outputChannels: 19, kernelSize: 3, stride: 2, padding: .symmetric(1)),
            // Not the stem kernel: im2col + GEMM and the depthwise kernel compute, then convert.
            try Conv2d(inputChannels: 6, outputChannels: 10, kernelSize: 3, stride: 1, padding: .symmetric(1)),
            try Conv2d(inputChannels: 8, outputChannels: 8, kernelSize: 3, stride: 2, padding: .same, groups: 8),
        ]
        for conv in convs {
            for inputLayout in Layout.allCases {
                let x = TestSupport.random([2, conv.inputChannels, 23, 30], layout: inputLayout, using: &random)
                for options in [ExecutionOptions(threads: 1), ExecutionOptions(threads: 3), Self.reference] {
                    let same = try conv(x, options: options)
                    for layout in Layout.allCases {
                        var output = Tensor.empty
                        try conv.forward(x, into: &output, layout: layout, options: options)
                        #expect(output.layout == layout && output.shape == same.shape)
                        #expect(output.converted(to: inputLayout).scalars == same.scalars,
                                "\(conv.inputChannels) → \(conv.outputChannels), \(inputLayout) → \(layout), \(options.algorithm)")
                    }
                }
            }
        }
    }

    @Test("bad settings and inputs throw typed errors")
    func errors() throws {
        #expect(throws: LayerError.setting(name: "stride", value: "0", expected: "≥ 1")) {
            try Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, stride: 0)
        }
        #expect(throws: LayerError.setting(name: "dilation", value: "0", expected: "≥ 1")) {
            try Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, dilation: 0)
        }
        #expect(throws: LayerError.setting(name: "groups", value: "2", expected: "≥ 1 and dividing Cin = 3 and Cout = 4")) {
            try Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, groups: 2)
        }
        #expect(throws: LayerError.setting(name: "padding", value: "-1", expected: "every side ≥ 0")) {
            try Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: .symmetric(-1))
        }
        #expect(throws: LayerError.self) { try Conv2d(weight: Tensor(zeros: [2, 2, 3]), bias: nil) }
        #expect(throws: LayerError.self) { try Conv2d(weight: Tensor(zeros: [2, 1, 3, 3]), bias: [1]) }
        let conv = try Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: .symmetric(1))
        #expect(throws: LayerError.shape(role: "input", expected: "[N, 2, H, W]", actual: [1, 2, 5])) {
            try conv(Tensor(zeros: [1, 2, 5]))
        }
        #expect(throws: LayerError.shape(role: "input", expected: "[N, 2, H, W]", actual: [1, 3, 5, 5])) {
            try conv(Tensor(zeros: [1, 3, 5, 5]))
        }
        // A 5×5 kernel needs 5 rows; 2 rows + 2 of padding are too few.
        let large = try Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 5, padding: .symmetric(1))
        #expect(throws: LayerError.self) { try large(Tensor(zeros: [1, 1, 2, 9])) }
        #expect(throws: LayerError.convolution(.threads(0))) { try conv(Tensor(zeros: [1, 2, 4, 4]), options: ExecutionOptions(threads: 0)) }
        let error = LayerError.setting(name: "stride", value: "0", expected: "≥ 1")
        #expect(error.description.contains("stride = 0"))
    }
}
