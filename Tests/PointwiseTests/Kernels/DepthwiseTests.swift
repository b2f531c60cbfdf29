import CPointwiseKernels
import Testing
@testable import Pointwise

/// The depthwise kernels (3×3 and 5×5, stride 1 and 2, both layouts, both kernel families) against
/// the reference loops, across the vector and channel tails and every padding.
@Suite struct DepthwiseTests {
    @Test("every kernel size, stride and padding matches the reference, both kernel families",
          arguments: KernelConfig.available)
    func sweep(kernels: KernelConfig) throws {
        var random = SplitMix64(seed: 3)
        let paddings: [Conv2d.Padding] = [.valid, .symmetric(1), .symmetric(2), .same,
                                          .explicit(top: 0, bottom: 2, left: 1, right: 0)]
        for k in [3, 5] {
            for stride in [1, 2] {
                for padding in paddings {
                    // Widths around the 8-wide vectors, channels around the 8-channel vectors; 40 and 37
                    // channels reach the channels-last edge pixels' 32-channel groups (and their tail),
                    // widths 24 and 45 its 8-pixel interior blocks, widths 7 and 14 its blocks of 7
                    // and (at stride 1 with padding) its zero-padded copies. Heights 5…9 end the
                    // channels-first tiles of 4 (3×3) and 2 (5×5) rows exactly or overlapping.
                    for (channels, width) in [(3, 5), (8, 9), (11, 17), (16, 24), (2, 45), (40, 24), (37, 45), (13, 7),
                                              (24, 14)] {
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

    @Test("the AVX-512 family's 16-lane tiles give the AVX2 family's bits, both layouts")
    func wideTilesMatchAVX2() throws {
        // 16 channels per vector channels-last (40 and 37 channels: two vectors, then an 8-lane
        // group and a tail) and 16 columns per vector channels-first (widths 28 and 33: a last
        // vector of 12 and of 1 valid columns); wide planes (one at a time: 3×3 in rolling strips
        // of 4 vectors, overlapping at width 70, not at 120; 5×5 in tiles of 4 rows × 2 vectors up
        // to 48 columns, of 2 rows × 4 vectors at 70) and narrow ones (eight at a time), with the
        // edge pixels and the zero-padded copies channels-last.
        let families = TestSupport.fmaFamilies
        guard families.count > 1 else { return }
        var random = SplitMix64(seed: 61)
        for (k, stride, channels, width, activation) in [
            (5, 1, 40, 28, Activation.relu6), (5, 1, 37, 33, .silu), (3, 1, 40, 70, .hardSwish), (3, 2, 37, 28, .relu6),
            (5, 2, 40, 33, .identity), (5, 1, 24, 14, .relu), (3, 1, 17, 7, .tanh), (3, 1, 19, 120, .relu),
            (5, 1, 19, 70, .sigmoid),
        ] {
            let conv = try Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: k, stride: stride,
                                  padding: .same, groups: channels, activation: activation, seed: random.next())
            for layout in Layout.allCases {
                let x = TestSupport.random([2, channels, 11, width], layout: layout, using: &random)
                let outputs = try families.map {
                    try conv(x, options: ExecutionOptions(threads: 2, kernels: $0)).scalars
                }
                let differing = TestSupport.differingBits(outputs[0], outputs[1])
                #expect(differing == 0, "\(k)×\(k) s\(stride) C\(channels) W\(width) \(layout): \(differing) differ")
            }
        }
    }

    @Test("channels-first planes in groups (8, or 16 with AVX-512) give the bits of one at a time, every family",
          arguments: KernelConfig.available)
    func groupsMatchPlanes(kernels: KernelConfig) {
        var random = SplitMix64(seed: 29)
        let table = kernels.table.pointee
        // Channel counts around the groups of 8 and 16; planes narrower than a vector, around one
        // and two vectors, and padding that is wider than the kernel's reach or negative on the
        // right; left padding of 8 and 9, whose single-plane copies start 0 and 7 floats into their
        // rows (`depthwise_padded_shift`); a plane whose group copy takes two or three bands.
        let planes: [(channels: Int, height: Int, width: Int, top: Int, left: Int)] = [
            (1, 1, 1, 1, 1), (33, 4, 9, 1, 1), (5, 3, 2, 2, 2), (8, 7, 7, 1, 1), (13, 9, 9, 0, 0), (17, 6, 14, 2, 1),
            (9, 12, 24, 1, 0), (3, 5, 40, 2, 2), (2, 6, 30, 1, 8), (2, 6, 30, 1, 9), (3, 45, 120, 1, 2)]
        for k in [3, 5] {
            for step in [1, 2] {
                for p in planes {
                    var g = pw_depthwise_geometry(
                        height: p.height, width: p.width, out_height: (p.height + 2 * p.top - k) / step + 1,
                        out_width: (p.width + 2 * p.left - k) / step + 1, kernel: Int32(k), stride: Int32(step),
                        pad_top: p.top, pad_left: p.left, activation: Activation.relu6.kernelCode)
                    guard g.out_height > 0, g.out_width > 0 else { continue }
                    let (inputPlane, outputPlane) = (p.height * p.width, g.out_height * g.out_width)
                    let x = Self.buffer(TestSupport.randomValues(p.channels * inputPlane, using: &random).map { $0 * 4 })
                    let w = Self.buffer(TestSupport.randomValues(p.channels * k * k, using: &random))
                    let bias = Self.buffer(TestSupport.randomValues(p.channels, using: &random))
                    let single = Self.buffer(Array(repeating: .nan, count: p.channels * outputPlane))
                    let grouped = Self.buffer(Array(repeating: .nan, count: p.channels * outputPlane))
                    let planeScratch = Self.buffer(Array(repeating: .nan, count: pw_depthwise_scratch_floats(&g)))
                    let groupScratch = Self.buffer(Array(repeating: 0, count: pw_depthwise_group_scratch_floats(&g)))
                    defer { for b in [x, w, bias, single, grouped, planeScratch, groupScratch] { b.deallocate() } }
                    // Every plane in one call: the padding its scratch zeroes once must stay zeros.
                    _ = table.depthwise_planes(&g, p.channels, x, inputPlane, w, bias, single, outputPlane, planeScratch)
                    let group = Int(table.depthwise_group_planes)
                    for c in stride(from: 0, to: p.channels, by: group) {
                        _ = table.depthwise_group(&g, min(group, p.channels - c), x + c * inputPlane, inputPlane,
                                                  w + c * k * k, bias + c, grouped + c * outputPlane, outputPlane,
                                                  groupScratch)
                    }
                    let count = p.channels * outputPlane
                    let differing = TestSupport.differingBits(UnsafeBufferPointer(start: single, count: count),
                                                             UnsafeBufferPointer(start: grouped, count: count))
                    #expect(differing == 0, "\(k)×\(k) s\(step) \(p)")
                }
            }
        }
    }

    /// A pointer to a fresh copy of `values`, for the caller to deallocate.
    private static func buffer(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    @Test("channels-first bands of rows give the bits of whole planes, for any thread count and batch")
    func bandsMatchWholePlanes() throws {
        // Both channels-first kernels (planes one at a time: 3×3 and 5×5 stride 1 on wide planes;
        // eight at a time: stride 2 and narrow planes, a wide one in bands of its own), bands of
        // one row and more, bands whose windows start in the top padding, and batches whose shares
        // split an image.
        try Self.expectBandsMatchOneThread([
            (3, 1, .same, 5, 9, 64), (5, 1, .same, 3, 11, 40), (3, 2, .symmetric(1), 11, 13, 20),
            (5, 2, .same, 9, 10, 14), (3, 1, .explicit(top: 2, bottom: 0, left: 1, right: 1), 8, 7, 7),
            (5, 1, .valid, 17, 12, 12), (3, 2, .symmetric(1), 4, 70, 112)], layout: .channelsFirst, seed: 41)
    }

    @Test("channels-last bands of rows give the bits of one thread, zero-padded copies included")
    func channelsLastBandsMatch() throws {
        // Narrow images at stride 1 (the zero-padded copies of the rows a band reads, windows in
        // the top and bottom padding), a wide one and stride 2 (edge pixels one by one). The 5×5
        // layers of more than 64 channels run in blocks of 64 channels down every row: one block
        // and a group, blocks ending in a 4-channel tail, three blocks on a padded copy.
        try Self.expectBandsMatchOneThread([
            (5, 1, .same, 19, 14, 14), (3, 1, .symmetric(1), 9, 7, 7),
            (5, 1, .explicit(top: 1, bottom: 3, left: 2, right: 0), 8, 9, 7), (3, 1, .same, 5, 6, 40),
            (5, 2, .same, 11, 13, 14), (5, 1, .same, 72, 9, 28), (5, 2, .symmetric(2), 100, 11, 14),
            (5, 1, .same, 150, 6, 7)], layout: .channelsLast, seed: 43)
    }

    /// Runs each depthwise layer (kernel, stride, padding, channels, input height and width) on
    /// batches of 1 and 3 in `layout`: one thread close to the reference loops, and 2, 3, 5 and 16
    /// threads (bands of rows) with the bits of one.
    private static func expectBandsMatchOneThread(
        _ cases: [(k: Int, stride: Int, padding: Conv2d.Padding, channels: Int, height: Int, width: Int)],
        layout: Layout, seed: UInt64
    ) throws {
        var random = SplitMix64(seed: seed)
        for c in cases {
            let conv = try Conv2d(inputChannels: c.channels, outputChannels: c.channels, kernelSize: c.k, stride: c.stride,
                                  padding: c.padding, groups: c.channels, activation: .relu6, seed: random.next())
            for batch in [1, 3] {
                let x = TestSupport.random([batch, c.channels, c.height, c.width], layout: layout, using: &random)
                let whole = try conv(x, options: ExecutionOptions(threads: 1))
                let expected = try conv(x, options: ExecutionOptions(algorithm: .reference))
                TestSupport.expectClose(whole, expected, "\(c) N\(batch)")
                for threads in [2, 3, 5, 16] {
                    let banded = try conv(x, options: ExecutionOptions(threads: threads))
                    let differing = TestSupport.differingBits(whole.scalars, banded.scalars)
                    #expect(differing == 0, "\(c) N\(batch) \(threads) threads")
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
