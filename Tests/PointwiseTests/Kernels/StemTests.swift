import Testing
@testable import Pointwise

/// The stem kernel (dense convolutions with ≤ 4 input channels, either layout) against the
/// reference loops, over kernel sizes, strides, paddings and widths across the vector edges.
@Suite struct StemTests {
    @Test("stems match the reference and are bit-identical for any thread count", arguments: 0..<60)
    func matchesReference(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &+ 900)
        func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        let k = pick(1...5), stride = pick(1...3)
        let padding: Conv2d.Padding = [.same, .symmetric(pick(0...2)),
                                       .explicit(top: pick(0...2), bottom: pick(0...2), left: pick(0...2), right: pick(0...2))][pick(0...2)]
        let (cin, cout) = (pick(1...4), pick(1...40))
        let conv = try Conv2d(inputChannels: cin, outputChannels: cout, kernelSize: k, stride: stride, padding: padding,
                              bias: pick(0...1) == 1, activation: [.identity, .relu, .relu6, .sigmoid, .tanh, .silu, .hardSwish][pick(0...6)], seed: random.next())
        #expect(!conv.stemWeights.isEmpty)
        let x = TestSupport.random([pick(1...2), cin, k + pick(0...9), k + pick(0...60)], using: &random)
        let label = "stem \(cin)→\(cout) \(k)×\(k)/\(stride) \(padding) on \(x.shape)"
        let expected = try conv(x, options: ExecutionOptions(threads: 1, algorithm: .reference))
        let one = try conv(x, options: ExecutionOptions(threads: 1))
        TestSupport.expectClose(one, expected, label)
        #expect(try conv(x, options: ExecutionOptions(threads: 3)).scalars == one.scalars, "\(label): threads")
        TestSupport.expectClose(try conv(x, options: ExecutionOptions(threads: 1, kernels: .portable)), expected,
                                "\(label): portable kernels")
        // Channels-last swaps which operand is the vector, not the order of any sum: the same bits.
        let last = try conv(x.converted(to: .channelsLast), options: ExecutionOptions(threads: 2))
        #expect(last.layout == .channelsLast)
        #expect(last.converted(to: .channelsFirst).scalars == one.scalars, "\(label): channels-last")
    }

    /// Channels-last output reads copied input rows with a stride (2 from a channels-first
    /// picture at stride 2, 6 from a channels-last RGB one) where other geometries split rows into
    /// phases; channels-first output splits them too, except in the AVX-512 family (whose
    /// channels-first blocks are the channels-last ones, transposed), so the phase rows run on the
    /// AVX2 family where the CPU has it. The two must agree bit for bit.
    @Test("the strided direct path (channels-last output) gives the phase rows' bits, from either input layout")
    func directPathMatchesPhases() throws {
        var random = SplitMix64(seed: 4242)
        let cases: [(cin: Int, k: Int, stride: Int, padding: Conv2d.Padding, h: Int, w: Int)] = [
            (3, 3, 2, .same, 14, 22),          // EfficientNet's; a last block of 5 pixels
            (3, 3, 2, .symmetric(1), 9, 23),   // PyTorch's padding 1: a column of left padding
            (3, 7, 2, .symmetric(3), 13, 29),  // ResNet's 7×7 stem
            (3, 5, 2, .explicit(top: 0, bottom: 2, left: 2, right: 0), 11, 12),
            (1, 3, 2, .valid, 7, 40),          // grayscale: 2 apart from either layout
            (2, 1, 3, .symmetric(0), 5, 19),   // 2 channels at stride 3: 6 apart channels-last
            (2, 4, 1, .same, 6, 9),            // 2 channels at stride 1: 2 apart channels-last
            (3, 3, 2, .same, 3, 3),            // one output pixel
        ]
        for c in cases {
            let conv = try Conv2d(inputChannels: c.cin, outputChannels: 21, kernelSize: c.k, stride: c.stride,
                                  padding: c.padding, bias: true, activation: .relu6, seed: random.next())
            let x = TestSupport.random([2, c.cin, c.h, c.w], using: &random)
            let phases = try conv(x, options: ExecutionOptions(threads: 1, kernels: KernelConfig.avx2 ?? .best))
            TestSupport.expectClose(phases, try conv(x, options: ExecutionOptions(threads: 1, algorithm: .reference)),
                                    "\(c): phase rows")
            for input in [x, x.converted(to: .channelsLast)] {
                var direct = Tensor.empty
                try conv.forward(input, into: &direct, layout: .channelsLast, options: ExecutionOptions(threads: 2))
                let differing = TestSupport.differingBits(direct.converted(to: .channelsFirst).scalars, phases.scalars)
                #expect(differing == 0, "\(c) from \(input.layout): \(differing) outputs differ")
            }
        }
    }

    @Test("the stem kernel gives the same bits in every FMA kernel family, each output layout from each input layout")
    func stemFamiliesAgree() throws {
        // The AVX-512 family runs 32 output channels per register block and, for channels-first
        // output, transposes 8 pixels × 32 channels in registers; AVX2 runs 16 and 6 × 16. Channel
        // counts around 16 and 32 (the blocks' tails), output widths 15 and 17 (an 8-pixel block's
        // rest), the direct path (RGB at stride 2) and phase rows (1 and 4 channels, stride 1).
        let families = TestSupport.fmaFamilies
        guard families.count > 1 else { return }
        var random = SplitMix64(seed: 57)
        for (cin, cout, k, stride, bias, activation) in [
            (3, 32, 3, 2, true, Activation.relu6), (3, 40, 3, 2, false, .identity), (3, 19, 3, 2, true, .silu),
            (1, 5, 5, 1, true, .relu), (4, 64, 3, 1, true, .hardSwish), (3, 7, 7, 2, false, .relu6),
        ] {
            let conv = try Conv2d(inputChannels: cin, outputChannels: cout, kernelSize: k, stride: stride,
                                  padding: .same, bias: bias, activation: activation, seed: random.next())
            for inputLayout in Layout.allCases {
                let shape = [2, cin, 9 + stride * 3, stride == 2 ? 29 : 17]
                let x = TestSupport.random(shape, layout: inputLayout, using: &random)
                for layout in Layout.allCases {
                    let outputs = try families.map { kernels in
                        var output = Tensor.empty
                        let options = ExecutionOptions(threads: 2, kernels: kernels)
                        try conv.forward(x, into: &output, layout: layout, options: options)
                        return output.scalars
                    }
                    let differing = TestSupport.differingBits(outputs[0], outputs[1])
                    #expect(differing == 0,
                            "\(cin) → \(cout) \(k)×\(k) s\(stride) \(inputLayout) → \(layout): \(differing) differ")
                }
            }
        }
    }

    @Test("EfficientNet's stem, 3×3 stride 2 3→32 SAME on 224×224, matches the reference")
    func efficientNetStem() throws {
        var random = SplitMix64(seed: 77)
        let conv = try Conv2d(inputChannels: 3, outputChannels: 32, kernelSize: 3, stride: 2, padding: .same,
                              activation: .relu6, seed: 5)
        // Inputs up to ±12, so that ReLU6's upper bound clamps many outputs as well as its lower.
        let x = try Tensor(shape: [1, 3, 224, 224], values: TestSupport.randomValues(3 * 224 * 224, using: &random)
                               .map { 12 * $0 })
        let expected = try conv(x, options: ExecutionOptions(threads: 1, algorithm: .reference))
        #expect(expected.scalars.filter { $0 == 6 }.count > 1000 && expected.scalars.filter { $0 == 0 }.count > 1000)
        for layout in Layout.allCases {
            var output = Tensor.empty
            try conv.forward(x, into: &output, layout: layout)
            TestSupport.expectClose(output.converted(to: .channelsFirst), expected, "stem, \(layout) output")
        }
    }
}
