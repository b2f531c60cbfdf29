import Testing
@testable import Pointwise

/// The depthwise kernels (3×3 and 5×5, stride 1 and 2, both layouts, both kernel families) against
/// the reference loops, across the vector and channel tails and every padding.
@Suite struct DepthwiseTests {
    @Test("every kernel size, stride and padding matches the reference, both kernel families",
          arguments: [KernelConfig.best, .portable])
    func sweep(kernels: KernelConfig) throws {
        var random = SplitMix64(seed: 3)
        let paddings: [Conv2d.Padding] = [.valid, .symmetric(1), .symmetric(2), .same,
                                          .explicit(top: 0, bottom: 2, left: 1, right: 0)]
        for k in [3, 5] {
            for stride in [1, 2] {
                for padding in paddings {
                    // Widths around the 8-wide vectors, channels around the 8-channel vectors; 40 and 37
                    // channels reach the channels-last edge pixels' 32-channel groups (and their tail),
                    // widths 24 and 45 its 8-pixel interior blocks. Heights 5…9 end the channels-first
                    // tiles of 4 (3×3) and 2 (5×5) rows exactly or overlapping.
                    for (channels, width) in [(3, 5), (8, 9), (11, 17), (16, 24), (2, 45), (40, 24), (37, 45)] {
                        let height = 5 + channels % 5
                        let conv = try Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: k,
                                              stride: stride, padding: padding, groups: channels, activation: .hardSwish,
                                              seed: random.next())
                        #expect(Depthwise.supports(kernelHeight: k, kernelWidth: k, stride: stride, dilation: 1))
                        for layout in Layout.allCases {
                            let x = TestSupport.random([1, channels, height, width], layout: layout, using: &random)
                            let fast = try conv(x, options: ExecutionOptions(threads: 2, kernels: kernels))
                            let expected = try conv(x, options: ExecutionOptions(algorithm: .reference))
                            TestSupport.expectClose(fast, expected, "\(k)×\(k) s\(stride) \(padding) C\(channels) H\(height) W\(width) \(layout)")
                        }
                    }
                }
            }
        }
    }

    @Test("MobileNet shapes: channels-first and channels-last give the same result")
    func layoutsAgree() throws {
        var random = SplitMix64(seed: 11)
        let conv = try Conv2d(inputChannels: 32, outputChannels: 32, kernelSize: 3, stride: 2, padding: .symmetric(1),
                              groups: 32, activation: .relu6)
        let x = TestSupport.random([1, 32, 28, 28], using: &random)
        let first = try conv(x), last = try conv(x.converted(to: .channelsLast))
        TestSupport.expectClose(last, first, relative: 1e-6, "nhwc vs nchw")
    }
}
