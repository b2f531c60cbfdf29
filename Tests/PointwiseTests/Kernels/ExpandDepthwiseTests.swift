import Testing
@testable import Pointwise

/// The fused expansion + depthwise convolution against the two layers run one after the other:
/// bit-identical over random shapes, paddings, strides, activations, band sizes and thread counts.
@Suite struct ExpandDepthwiseTests {
    @Test("fused bands give exactly the two layers' result, whatever the band size and thread count")
    func matchesSequential() throws {
        var random = SplitMix64(seed: 41)
        let paddings: [Conv2d.Padding] = [.same, .symmetric(1), .symmetric(2), .valid,
                                          .explicit(top: 0, bottom: 2, left: 1, right: 0)]
        let activations: [Activation] = [.relu6, .identity, .silu, .hardSwish]
        for trial in 0..<60 {
            let kernel = [3, 5][trial % 2], stride = [1, 2][trial / 2 % 2]
            let cin = 1 + Int(random.next() % 12), expanded = 8 + Int(random.next() % 33)
            let height = kernel + Int(random.next() % 30), width = kernel + Int(random.next() % 40)
            let padding = paddings[trial % paddings.count]
            let expand = try Conv1x1(inputChannels: cin, outputChannels: expanded, bias: trial % 3 != 0,
                                     activation: activations[trial % activations.count], seed: random.next())
            let depthwise = try Conv2d(inputChannels: expanded, outputChannels: expanded, kernelSize: kernel,
                                       stride: stride, padding: padding, groups: expanded, bias: trial % 4 != 1,
                                       activation: activations[(trial + 1) % activations.count], seed: random.next())
            let x = TestSupport.random([1 + trial % 2, cin, height, width], using: &random)
            #expect(ExpandDepthwise.supports(expand: expand, depthwise: depthwise, input: x))
            let threads = 1 + trial % 3
            let options = ExecutionOptions(threads: threads)
            let expected = try depthwise(try expand(x, options: options), options: options)
            // From one output row per band to a band holding the whole image.
            let rowBytes = expanded * width * 4
            let bandBytes = rowBytes * [1, kernel, kernel + 1, 2 * kernel + 3, height + kernel][trial % 5]
            var fused = try Tensor(zeros: [1, 1, 1, 1])
            try ExpandDepthwise.forward(x, expand: expand, depthwise: depthwise, into: &fused, options: options,
                                        bandBytes: bandBytes)
            let label = "trial \(trial): \(cin)→\(expanded) \(kernel)×\(kernel)/\(stride) \(padding) \(height)×\(width), band \(bandBytes / rowBytes) rows, \(threads) threads"
            #expect(fused.shape == expected.shape, "\(label)")
            let (got, want) = (fused.scalars, expected.scalars)
            let differing = got.count == want.count ? zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count : -1
            #expect(differing == 0, "\(label): \(differing) elements differ")
        }
    }

    @Test("channels-last inputs, grouped or strided expansions and ordinary convolutions are not fused")
    func unsupported() throws {
        let expand = try Conv1x1(inputChannels: 4, outputChannels: 8)
        let depthwise = try Conv2d(inputChannels: 8, outputChannels: 8, kernelSize: 3, padding: .same, groups: 8)
        let x = try Tensor(zeros: [1, 4, 6, 6])
        #expect(ExpandDepthwise.supports(expand: expand, depthwise: depthwise, input: x))
        #expect(!ExpandDepthwise.supports(expand: expand, depthwise: depthwise, input: x.converted(to: .channelsLast)))
        #expect(!ExpandDepthwise.supports(expand: try Conv1x1(inputChannels: 4, outputChannels: 8, groups: 2),
                                          depthwise: depthwise, input: x))
        #expect(!ExpandDepthwise.supports(expand: try Conv1x1(inputChannels: 4, outputChannels: 8, stride: 2),
                                          depthwise: depthwise, input: x))
        #expect(!ExpandDepthwise.supports(expand: expand, depthwise: try Conv2d(inputChannels: 8, outputChannels: 8,
                                                                                kernelSize: 3, padding: .same),
                                          input: x))
        #expect(!ExpandDepthwise.pays(expand: expand, input: x))
        #expect(ExpandDepthwise.pays(expand: try Conv1x1(inputChannels: 16, outputChannels: 96),
                                     input: try Tensor(zeros: [1, 16, 112, 112])))
    }
}
