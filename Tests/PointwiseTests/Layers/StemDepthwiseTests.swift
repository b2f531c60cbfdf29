import Testing
@testable import Pointwise

/// The banded stem + depthwise pair against the two layers run one after the other.
@Suite struct StemDepthwiseTests {
    /// A stem 3 → c (K×K stride 2, ReLU6, bias) and a depthwise convolution of c channels.
    static func pair(
        c: Int, stemKernel: Int, stemPadding: Conv2d.Padding, kernel: Int, stride: Int, padding: Conv2d.Padding
    ) throws -> StemDepthwise {
        let stem = try Conv2d(inputChannels: 3, outputChannels: c, kernelSize: stemKernel, stride: 2,
                              padding: stemPadding, activation: .relu6, seed: 3)
        let depthwise = try Conv2d(inputChannels: c, outputChannels: c, kernelSize: kernel, stride: stride,
                                   padding: padding, groups: c, activation: .relu6, seed: 4)
        return try #require(StemDepthwise(stem: stem, depthwise: depthwise))
    }

    @Test("bit for bit the two layers, from either layout, for any band height and thread count, at every edge")
    func matchesTheTwoLayers() throws {
        var random = SplitMix64(seed: 43)
        let cases: [(c: Int, stemKernel: Int, stemPadding: Conv2d.Padding, kernel: Int, stride: Int,
                     padding: Conv2d.Padding, h: Int, w: Int)] = [
            (32, 3, .same, 3, 1, .symmetric(1), 30, 26),   // EfficientNet's stem and block 0, smaller
            (16, 3, .same, 3, 1, .symmetric(1), 23, 17),   // SAME on odd sizes: asymmetric padding
            (21, 3, .symmetric(1), 5, 2, .same, 28, 19),   // a channel tail, a strided 5×5
            (8, 5, .valid, 3, 1, .valid, 20, 15),          // no padding: bands start inside the map
        ]
        for c in cases {
            let fused = try Self.pair(c: c.c, stemKernel: c.stemKernel, stemPadding: c.stemPadding, kernel: c.kernel,
                                      stride: c.stride, padding: c.padding)
            for layout in Layout.allCases {
                let x = TestSupport.random([2, 3, c.h, c.w], layout: layout, using: &random)
                let options = ExecutionOptions(threads: 1)
                var stemmed = Tensor.empty
                try fused.stem.forward(x, into: &stemmed, layout: .channelsLast, options: options)
                let expected = try fused.depthwise(stemmed, options: options)
                for band in [1, 2, 3, 100] {
                    for threads in [1, 2, 3] {
                        var output = Tensor.empty
                        try fused.forward(x, into: &output, options: ExecutionOptions(threads: threads), bandRows: band)
                        #expect(output.shape == expected.shape && output.layout == .channelsLast)
                        let differing = TestSupport.differingBits(output.scalars, expected.scalars)
                        #expect(differing == 0, "\(c), \(layout), bands of \(band), \(threads) threads: \(differing) differ")
                    }
                }
                var output = Tensor.empty
                let share = try fused.forward(x, into: &output, options: options, measuresShare: true)
                #expect(output.scalars == expected.scalars && share > 0 && share < 1)
            }
        }
    }

    @Test("it applies only to a stem-kernel convolution and a kernel-backed depthwise layer, and refuses bad input")
    func applicabilityAndErrors() throws {
        let stem = try Conv2d(inputChannels: 3, outputChannels: 16, kernelSize: 3, stride: 2, padding: .same)
        let depthwise = try Conv2d(inputChannels: 16, outputChannels: 16, kernelSize: 3, padding: .symmetric(1), groups: 16)
        #expect(StemDepthwise(stem: stem, depthwise: depthwise) != nil)
        let wide = try Conv2d(inputChannels: 8, outputChannels: 16, kernelSize: 3, stride: 2, padding: .same)
        #expect(StemDepthwise(stem: wide, depthwise: depthwise) == nil)   // 8 input channels: no stem kernel
        let mismatched = try Conv2d(inputChannels: 3, outputChannels: 24, kernelSize: 3, stride: 2, padding: .same)
        #expect(StemDepthwise(stem: mismatched, depthwise: depthwise) == nil)
        let dense = try Conv2d(inputChannels: 16, outputChannels: 16, kernelSize: 3, padding: .symmetric(1))
        #expect(StemDepthwise(stem: stem, depthwise: dense) == nil)
        let fused = try #require(StemDepthwise(stem: stem, depthwise: depthwise))
        var output = Tensor.empty
        #expect(throws: LayerError.self) { try fused.forward(Tensor(zeros: [1, 4, 16, 16]), into: &output, options: ExecutionOptions()) }
        #expect(throws: LayerError.self) { try fused.forward(Tensor(zeros: [1, 3, 16]), into: &output, options: ExecutionOptions()) }
        #expect(throws: LayerError.self) {
            try fused.forward(Tensor(zeros: [1, 3, 16, 16]), into: &output, options: ExecutionOptions(threads: 0))
        }
    }
}
