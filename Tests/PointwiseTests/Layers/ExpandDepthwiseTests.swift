import Testing
@testable import Pointwise

/// The banded expansion + depthwise pair against the two layers run one after the other.
@Suite struct ExpandDepthwiseTests {
    /// An expansion cin → e (ReLU6, bias) and a depthwise K×K stride-S convolution of e channels.
    static func pair(cin: Int, e: Int, kernel: Int, stride: Int, padding: Conv2d.Padding, seed: UInt64) throws -> ExpandDepthwise {
        let expand = try Conv1x1(inputChannels: cin, outputChannels: e, activation: .relu6, seed: seed)
        let depthwise = try Conv2d(inputChannels: e, outputChannels: e, kernelSize: kernel, stride: stride,
                                   padding: padding, groups: e, activation: .relu6)
        return try #require(ExpandDepthwise(expand: expand, depthwise: depthwise))
    }

    @Test("bit for bit the two layers, for any band height and thread count, at every edge")
    func matchesTheTwoLayers() throws {
        var random = SplitMix64(seed: 41)
        let cases: [(cin: Int, e: Int, kernel: Int, stride: Int, padding: Conv2d.Padding, h: Int, w: Int)] = [
            (16, 96, 3, 2, .symmetric(1), 22, 22),   // EfficientNet's block 1, smaller
            (24, 144, 3, 1, .symmetric(1), 13, 9),
            (24, 37, 5, 2, .same, 17, 11),            // SAME: asymmetric padding on odd sizes
            (7, 40, 5, 1, .symmetric(2), 9, 14),
            (5, 16, 3, 2, .valid, 12, 7),             // no padding: bands start inside the input
        ]
        for c in cases {
            let fused = try Self.pair(cin: c.cin, e: c.e, kernel: c.kernel, stride: c.stride, padding: c.padding, seed: 5)
            let x = TestSupport.random([2, c.cin, c.h, c.w], layout: .channelsLast, using: &random)
            let options = ExecutionOptions(threads: 1)
            let expected = try fused.depthwise(fused.expand(x, options: options), options: options)
            for band in [1, 2, 3, 100] {
                for threads in [1, 2, 3] {
                    var output = Tensor.empty
                    try fused.forward(x, into: &output, options: ExecutionOptions(threads: threads), bandRows: band)
                    #expect(output.shape == expected.shape && output.layout == .channelsLast)
                    #expect(output.scalars == expected.scalars, "\(c), bands of \(band), \(threads) threads")
                }
            }
            // The default band, and the time split it reports.
            var output = Tensor.empty
            let share = try fused.forward(x, into: &output, options: options, measuresShare: true)
            #expect(output.scalars == expected.scalars && share > 0 && share < 1)
        }
    }

    @Test("bands keep their expanded rows within the budget, and cover small images whole")
    func bandHeights() throws {
        let fused = try Self.pair(cin: 16, e: 96, kernel: 3, stride: 2, padding: .symmetric(1), seed: 1)
        // 112 × 96 floats are 42 KiB a row: 256 KiB hold 6 rows; 2 output rows at stride 2 reach 5.
        let large = try fused.depthwise.geometry(forInput: [1, 96, 112, 112])
        #expect(DepthwiseBands.bandRows(large, channels: 96) == 2)
        let small = try fused.depthwise.geometry(forInput: [1, 96, 8, 8])
        #expect(DepthwiseBands.bandRows(small, channels: 96) == 4)
    }

    @Test("it applies only to plain expansions and kernel-backed depthwise layers, and refuses bad input")
    func applicabilityAndErrors() throws {
        let grouped = try Conv1x1(inputChannels: 8, outputChannels: 16, groups: 2)
        let depthwise = try Conv2d(inputChannels: 16, outputChannels: 16, kernelSize: 3, padding: .symmetric(1), groups: 16)
        #expect(ExpandDepthwise(expand: grouped, depthwise: depthwise) == nil)
        let dilated = try Conv2d(inputChannels: 16, outputChannels: 16, kernelSize: 3, padding: .symmetric(2),
                                 dilation: 2, groups: 16)
        #expect(ExpandDepthwise(expand: try Conv1x1(inputChannels: 8, outputChannels: 16), depthwise: dilated) == nil)
        let fused = try Self.pair(cin: 8, e: 16, kernel: 3, stride: 1, padding: .symmetric(1), seed: 2)
        var random = SplitMix64(seed: 3)
        var output = Tensor.empty
        #expect(throws: LayerError.self) {
            try fused.forward(TestSupport.random([1, 8, 6, 6], using: &random), into: &output, options: ExecutionOptions())
        }
        #expect(throws: LayerError.self) {
            try fused.forward(TestSupport.random([1, 9, 6, 6], layout: .channelsLast, using: &random), into: &output,
                              options: ExecutionOptions())
        }
        #expect(throws: LayerError.self) {
            try fused.forward(TestSupport.random([1, 8, 6, 6], layout: .channelsLast, using: &random), into: &output,
                              options: ExecutionOptions(threads: 0))
        }
    }
}
