import Testing
@testable import Pointwise

/// Conv1x1 forward: the fast path against the reference over random configurations, PyTorch's
/// semantics on hand-checked examples, thread-count invariance and the errors users can cause.
@Suite struct Conv1x1Tests {
    /// One random configuration of the sweep.
    struct Case: CustomStringConvertible {
        var batch: Int, inputChannels: Int, outputChannels: Int, groups: Int, stride: Int
        var spatial: [Int], layout: Layout, activation: Activation, bias: Bool, residual: Bool, threads: Int
        var description: String {
            "N=\(batch) Cin=\(inputChannels) Cout=\(outputChannels) groups=\(groups) stride=\(stride) "
                + "spatial=\(spatial) \(layout) \(activation) bias=\(bias) residual=\(residual) threads=\(threads)"
        }

        static let primes = [2, 3, 5, 7, 11, 13, 17, 31, 61, 127, 251, 509, 997]

        /// Channel counts from 1 to 1000 with primes over-represented; groups divide both counts.
        static func random(using random: inout SplitMix64) -> Case {
            func channels() -> Int {
                switch random.next() % 4 {
                case 0: return Int.random(in: 1...16, using: &random)
                case 1: return Int.random(in: 17...130, using: &random)
                case 2: return primes.randomElement(using: &random)!
                default: return [256, 320, 384, 512, 640, 960, 1000].randomElement(using: &random)!
                }
            }
            let groups = [1, 1, 1, 2, 3, 4].randomElement(using: &random)!
            let cin = max(1, channels() / groups) * groups, cout = max(1, channels() / groups) * groups
            let rank = Int.random(in: 0...3, using: &random)
            let batch = Int.random(in: 1...4, using: &random)
            // Keep each case near 10⁵ multiply-adds so 2,000 of them run in seconds.
            let budget = max(1, 100_000 / (cin * cout / groups) / batch)
            let perAxis = rank == 0 ? 1 : max(1, Int(Double(budget).squareRoot().squareRoot() * 2))
            let spatial = (0..<rank).map { _ in Int.random(in: 1...min(perAxis, rank == 1 ? 40 : 9), using: &random) }
            return Case(
                batch: batch, inputChannels: cin, outputChannels: cout, groups: groups,
                stride: rank == 0 ? 1 : Int.random(in: 1...3, using: &random), spatial: spatial,
                layout: Layout.allCases.randomElement(using: &random)!,
                activation: Activation.allCases.randomElement(using: &random)!,
                bias: Bool.random(using: &random), residual: Bool.random(using: &random),
                threads: Int.random(in: 1...3, using: &random))
        }
    }

    @Test("fast matches the reference to 1e-5·max|y| over 2,000 random configurations")
    func randomSweep() throws {
        var random = SplitMix64(seed: 2024)
        var worst: Float = 0
        for index in 0..<2000 {
            let c = Case.random(using: &random)
            let conv = try Conv1x1(
                inputChannels: c.inputChannels, outputChannels: c.outputChannels, bias: c.bias, stride: c.stride,
                groups: c.groups, activation: c.activation, seed: UInt64(index))
            let x = TestSupport.random([c.batch, c.inputChannels] + c.spatial, layout: c.layout, using: &random)
            let residual = c.residual
                ? TestSupport.random(try conv.outputShape(forInput: x.shape), layout: c.layout, using: &random) : nil
            let kernels = TestSupport.kernels(forCase: index, portableEvery: 5)
            let fast = try conv(x, residual: residual, options: ExecutionOptions(threads: c.threads, kernels: kernels))
            let reference = try conv(x, residual: residual, options: ExecutionOptions(algorithm: .reference))
            #expect(try fast.shape == conv.outputShape(forInput: x.shape) && fast.layout == c.layout)
            let d = TestSupport.difference(fast, reference)
            worst = max(worst, d.maxError / max(d.scale, 1e-3))
            #expect(TestSupport.withinTolerance(d), "case \(index) \(c): error \(d.maxError), max|y| \(d.scale)")
        }
        print("Conv1x1 random sweep: worst error / max|y| = \(worst)")
    }

    @Test("results are bit-identical for any thread count")
    func threadInvariance() throws {
        var random = SplitMix64(seed: 5)
        for layout in Layout.allCases {
            for (cin, cout, spatial) in [(64, 96, [13, 11]), (300, 40, [7, 7]), (13, 8, [33, 17]), (16, 1000, [5])] {
                let conv = try Conv1x1(inputChannels: cin, outputChannels: cout, activation: .silu, seed: 3)
                let x = TestSupport.random([2, cin] + spatial, layout: layout, using: &random)
                let one = try conv(x, options: ExecutionOptions(threads: 1)).scalars
                for threads in [2, 3, 4, 7] {
                    #expect(try conv(x, options: ExecutionOptions(threads: threads)).scalars == one,
                            "\(layout) \(cin)→\(cout) \(spatial) threads=\(threads)")
                }
            }
        }
    }

    @Test("few output channels stream from cache, not from memory")
    func streamingChoice() {
        // EfficientNet's channels-first 144→24 at 56×56 streams; the seed's 64→32 at 224×224 (12.8 MB
        // of input per image) copies strips, whose prefetches keep up with memory; 64→64 copies.
        #expect(Gemm.streams(m: 24, n: 56 * 56, k: 144))
        #expect(!Gemm.streams(m: 32, n: 224 * 224, k: 64))
        #expect(!Gemm.streams(m: 64, n: 56 * 56, k: 64))
        #expect(Gemm.streams(m: 96, n: 224 * 224, k: 16))
    }

    @Test("large streamed outputs with a residual and ReLU6 match the reference with any thread count's bits")
    func largeStreamedOutputs() throws {
        var random = SplitMix64(seed: 17)
        // All run on the streaming kernel: 96 × 64² floats (1.5 MB) per image in whole tiles and
        // 40 × 61² (595 KB) with rows that are not a multiple of 8 floats and a narrow tail, both for
        // Cin ≤ 32; 24 output channels over 144 input channels of 45² pixels (1.2 MB, read from cache),
        // with a last pixel past the whole vectors.
        for (cin, cout, side) in [(16, 96, 64), (24, 40, 61), (144, 24, 45)] {
            #expect(Gemm.streams(m: cout, n: side * side, k: cin))
            let conv = try Conv1x1(inputChannels: cin, outputChannels: cout, activation: .relu6, seed: 9)
            let x = TestSupport.random([2, cin, side, side], using: &random)
            let residual = TestSupport.random([2, cout, side, side], using: &random)
            let one = try conv(x, residual: residual, options: ExecutionOptions(threads: 1))
            let two = try conv(x, residual: residual, options: ExecutionOptions(threads: 2))
            let reference = try conv(x, residual: residual, options: ExecutionOptions(algorithm: .reference))
            #expect(TestSupport.withinTolerance(TestSupport.difference(one, reference)), "\(cin)→\(cout) at \(side)²")
            let differing = TestSupport.differingBits(one.scalars, two.scalars)
            #expect(differing == 0, "\(cin)→\(cout) at \(side)²: 1 and 2 threads")
        }
    }

    @Test("small deep channels-first images run as the transposed product: the reference's values, with groups, bias, residual and every activation, and any thread count's bits")
    func transposedChannelsFirst() throws {
        var random = SplitMix64(seed: 23)
        // [N, Cin, *spatial], Cout, groups: 10×10 and 14×14 maps (4 pixels past the last whole
        // strip), a 1-D signal of 60 and 3-D volumes of 2×2×3 pixels; batches only with groups (one
        // group's would gather the leftover pixels of every image instead).
        let cases: [([Int], Int, Int)] = [([1, 2048, 10, 10], 256, 1), ([1, 512, 14, 14], 72, 1),
                                          ([2, 1024, 60], 128, 2), ([3, 896, 2, 2, 3], 128, 2)]
        for (index, (shape, cout, groups)) in cases.enumerated() {
            let pixels = shape.dropFirst(2).reduce(1, *)
            #expect(Gemm.transposesChannelsFirst(outputs: cout / groups, pixels: pixels, inputs: shape[1] / groups,
                                                 images: shape[0], groups: groups))
            let activation = Activation.allCases[index * 2 % Activation.allCases.count]
            let conv = try Conv1x1(inputChannels: shape[1], outputChannels: cout, groups: groups,
                                   activation: activation, seed: UInt64(index))
            let x = TestSupport.random(shape, using: &random)
            let residual = index % 2 == 0 ? TestSupport.random(try conv.outputShape(forInput: shape), using: &random) : nil
            let reference = try conv(x, residual: residual, options: ExecutionOptions(algorithm: .reference))
            let one = try conv(x, residual: residual, options: ExecutionOptions(threads: 1))
            #expect(TestSupport.withinTolerance(TestSupport.difference(one, reference)), "\(shape)→\(cout) \(activation)")
            let portable = try conv(x, residual: residual, options: ExecutionOptions(threads: 1, kernels: .portable))
            #expect(TestSupport.withinTolerance(TestSupport.difference(portable, reference)), "\(shape) portable")
            for threads in [2, 3] {
                #expect(try conv(x, residual: residual, options: ExecutionOptions(threads: threads)).scalars == one.scalars,
                        "\(shape)→\(cout) threads=\(threads)")
            }
        }
        #expect(!Gemm.transposesChannelsFirst(outputs: 256, pixels: 196, inputs: 256, images: 1, groups: 1))
        #expect(!Gemm.transposesChannelsFirst(outputs: 256, pixels: 784, inputs: 1024, images: 1, groups: 1))
        #expect(!Gemm.transposesChannelsFirst(outputs: 256, pixels: 49, inputs: 1024, images: 1, groups: 1))
        #expect(!Gemm.transposesChannelsFirst(outputs: 256, pixels: 196, inputs: 1024, images: 2, groups: 1))
    }

    @Test("a channels-first batch whose maps leave 4 to 7 pixels after whole strips runs those pixels of every image gathered: the reference's values, with bias, residual and activations, and any thread count's bits")
    func gatheredTailsChannelsFirst() throws {
        var random = SplitMix64(seed: 29)
        // [N, Cin, *spatial], Cout: a training batch of 14×14 maps (196 = 12·16 + 4), 10×10 maps
        // past the transposing depth, a 1-D signal of 31 (16 + 15: an 8-column strip and 7), and
        // 2×3 maps (6 pixels: nothing but the tail) over more images than one gathered product
        // holds.
        let cases: [([Int], Int)] = [([5, 96, 14, 14], 72), ([3, 512, 10, 10], 64), ([4, 40, 31], 100),
                                     ([50, 48, 2, 3], 60)]
        for (index, (shape, cout)) in cases.enumerated() {
            let pixels = shape.dropFirst(2).reduce(1, *)
            #expect(Gemm.gathersTails(count: shape[0], m: cout, n: pixels, k: shape[1]), "\(shape)")
            let activation = Activation.allCases[(index * 3 + 1) % Activation.allCases.count]
            let conv = try Conv1x1(inputChannels: shape[1], outputChannels: cout, activation: activation,
                                   seed: UInt64(index))
            let x = TestSupport.random(shape, using: &random)
            let outputShape = try conv.outputShape(forInput: shape)
            let residual = index % 2 == 0 ? TestSupport.random(outputShape, using: &random) : nil
            let reference = try conv(x, residual: residual, options: ExecutionOptions(algorithm: .reference))
            let one = try conv(x, residual: residual, options: ExecutionOptions(threads: 1))
            #expect(TestSupport.withinTolerance(TestSupport.difference(one, reference)), "\(shape)→\(cout) \(activation)")
            for threads in [2, 3] {
                #expect(try conv(x, residual: residual, options: ExecutionOptions(threads: threads)).scalars == one.scalars,
                        "\(shape)→\(cout) threads=\(threads)")
            }
        }
    }

    @Test("PyTorch semantics on a hand-computed example: groups, stride, bias, residual, ReLU6")
    func handComputed() throws {
        // x: [1, 4, 3, 3], channel c holds c·10 + position. groups = 2, stride = 2 → [1, 2, 2, 2].
        let x = try Tensor(shape: [1, 4, 3, 3], values: (0..<4).flatMap { c in (0..<9).map { Float(c * 10 + $0) } })
        let weight = try Tensor(shape: [2, 2, 1, 1], values: [0.5, -0.25, 0.125, 0.0625])
        let conv = try Conv1x1(weight: weight, bias: [1, -2], stride: 2, groups: 2, activation: .relu6)
        let residual = try Tensor(shape: [1, 2, 2, 2], values: [0, 0, 0, -10, 0, 0, 0, 0])
        for algorithm in Algorithm.allCases {
            let y = try conv(x, residual: residual, options: ExecutionOptions(algorithm: algorithm))
            // Output (0,0) reads position 0, (0,1) position 2, (1,0) position 6, (1,1) position 8.
            // Group 0: 0.5·x0 − 0.25·x1 + 1 = 0.5p − 0.25(10 + p) + 1 = 0.25p − 1.5.
            // Group 1: 0.125·(20 + p) + 0.0625·(30 + p) − 2 = 0.1875p + 2.375.
            let expected: [Float] = [0, 0.25 * 2 - 1.5, 0.25 * 6 - 1.5, 0, 2.375, 2.75, 3.5, 3.875]
            #expect(y.shape == [1, 2, 2, 2])
            #expect(y.scalars == expected.map { min(max($0, 0), 6) }, "\(algorithm)")
        }
    }

    @Test("grayscale as a fixed 1×1 convolution: BT.601 luma of an RGB picture")
    func grayscale() throws {
        let weight = try Tensor(shape: [1, 3, 1, 1], values: [0.299, 0.587, 0.114])
        let conv = try Conv1x1(weight: weight)
        let rgb = try Tensor(shape: [1, 3, 1, 2], values: [1, 0, 0, 1, 0, 0])  // a red and a green pixel
        #expect(try conv(rgb).scalars == [0.299, 0.587])
        let nhwc = rgb.converted(to: .channelsLast)
        #expect(try conv(nhwc).scalars == [0.299, 0.587])
    }

    @Test("all input ranks: [N, C], [N, C, L], [N, C, H, W], [N, C, D, H, W], any spatial size")
    func ranks() throws {
        let conv = try Conv1x1(inputChannels: 3, outputChannels: 5, stride: 2)
        var random = SplitMix64(seed: 1)
        for spatial in [[], [7], [4, 9], [3, 4, 5], [1, 1], [224, 1]] {
            let x = TestSupport.random([2, 3] + spatial, using: &random)
            let y = try conv(x)
            #expect(y.shape == [2, 5] + spatial.map { ($0 - 1) / 2 + 1 })
        }
    }

    @Test("layouts: a channels-last input gives the channels-last version of the same output")
    func layoutsAgree() throws {
        var random = SplitMix64(seed: 9)
        let conv = try Conv1x1(inputChannels: 24, outputChannels: 40, groups: 4, activation: .tanh)
        let x = TestSupport.random([3, 24, 10, 6], using: &random)
        let first = try conv(x), last = try conv(x.converted(to: .channelsLast))
        #expect(last.layout == .channelsLast)
        #expect(TestSupport.withinTolerance(TestSupport.difference(last, first), relative: 1e-6))
    }

    @Test("bad shapes and settings throw typed errors naming the problem")
    func errors() throws {
        let weight = try Tensor(shape: [8, 4], values: [Float](repeating: 0, count: 32))
        #expect(throws: ConvolutionError.groups(3, inputChannels: 12, outputChannels: 8)) {
            try Conv1x1(weight: weight, groups: 3)
        }
        #expect(throws: ConvolutionError.stride(0)) { try Conv1x1(weight: weight, stride: 0) }
        #expect(throws: ConvolutionError.biasCount(expected: 8, actual: 3)) { try Conv1x1(weight: weight, bias: [1, 2, 3]) }
        let kernel3x3 = try Tensor(shape: [8, 4, 3, 3], values: [Float](repeating: 0, count: 288))
        #expect(throws: ConvolutionError.weightShape([8, 4, 3, 3])) { try Conv1x1(weight: kernel3x3) }
        #expect(throws: ConvolutionError.groups(3, inputChannels: 10, outputChannels: 9)) {
            try Conv1x1(inputChannels: 10, outputChannels: 9, groups: 3)
        }
        let conv = try Conv1x1(weight: weight)
        let x = try Tensor(zeros: [1, 5, 2, 2])
        #expect(throws: ConvolutionError.inputChannels(expected: 4, actual: 5)) { try conv(x) }
        let good = try Tensor(zeros: [1, 4, 2, 2]), badResidual = try Tensor(zeros: [1, 8, 3, 2])
        #expect(throws: ConvolutionError.shapeMismatch(role: "residual", expected: [1, 8, 2, 2], actual: [1, 8, 3, 2])) {
            try conv(good, residual: badResidual)
        }
        #expect(throws: ConvolutionError.threads(0)) { try conv(good, options: ExecutionOptions(threads: 0)) }
        #expect(throws: TensorError.invalidShape(shape: [1, -2, 3])) { try Tensor(zeros: [1, -2, 3]) }
        #expect(throws: TensorError.invalidShape(shape: [1 << 40, 1 << 40])) { try Tensor(zeros: [1 << 40, 1 << 40]) }
        #expect(throws: TensorError.unsupportedRank(shape: [5])) { try Tensor(zeros: [5]) }
    }

    @Test("forward(into:) keeps an unshared output's storage across shapes, never writes a shared one")
    func outputStorageReuse() throws {
        var random = SplitMix64(seed: 29)
        let conv = try Conv1x1(inputChannels: 4, outputChannels: 3, activation: .relu)
        let x = TestSupport.random([2, 4, 5, 5], using: &random)
        for layout in Layout.allCases {
            let input = x.converted(to: layout), want = try conv(input).scalars
            var larger = try Tensor(zeros: [1, 8, 10, 10])   // 800 elements for 150
            let storage = ObjectIdentifier(larger.storage)
            try conv.forward(input, into: &larger)
            #expect(larger.shape == [2, 3, 5, 5] && larger.layout == layout && larger.scalars == want)
            #expect(ObjectIdentifier(larger.storage) == storage, "\(layout): the larger buffer was replaced")

            let other = TestSupport.random([1, 8, 10, 10], using: &random)
            var shared = other
            try conv.forward(input, into: &shared)
            #expect(shared.scalars == want)
            #expect(ObjectIdentifier(shared.storage) != ObjectIdentifier(other.storage))
            #expect(other.shape == [1, 8, 10, 10] && other.scalars.count == 800)

            var smaller = try Tensor(zeros: [1, 1, 2, 2])
            try conv.forward(input, into: &smaller)
            #expect(smaller.shape == [2, 3, 5, 5] && smaller.scalars == want)
        }
    }

    @Test("empty batches and empty spatial sizes give empty outputs")
    func empty() throws {
        let conv = try Conv1x1(inputChannels: 4, outputChannels: 6, activation: .relu)
        for layout in Layout.allCases {
            #expect(try conv(Tensor(zeros: [0, 4, 3, 3], layout: layout)).shape == [0, 6, 3, 3])
            #expect(try conv(Tensor(zeros: [2, 4, 0, 3], layout: layout)).shape == [2, 6, 0, 3])
        }
    }

    @Test("--explain names how the edge tiles run: narrow column tails down many panels, wider ones in edge tiles, an 8-column strip in 3×24 tiles, a last single row in panels of 4 and 3, a last pair of rows in tiles of 4 or 32 columns at a time")
    func explainsEdges() throws {
        // The 8-lane kernels' edges (AVX2 and portable alike); the AVX-512 kernels' at the end.
        func edges(_ h: Int, _ w: Int, _ layout: Layout, inputs: Int = 960, outputs: Int = 160, images: Int = 1,
                   kernels: KernelConfig = KernelConfig.avx2 ?? .portable) throws -> String {
            let conv = try Conv1x1(inputChannels: inputs, outputChannels: outputs)
            let text = try conv.explanation(forInput: [images, inputs, h, w], layout: layout,
                                            options: ExecutionOptions(threads: 1, kernels: kernels))
            return text.split(separator: "\n").first { $0.hasPrefix("edges: ") }.map(String.init) ?? "no edges line"
        }
        // 7×7: 49 pixels are three strips and one column, which rides in the last strip's tiles on the
        // strip path (960 inputs) and runs down the panels after the streaming kernel (32 inputs);
        // 160 rows are 26 panels and 4 rows.
        #expect(try edges(7, 7, .channelsFirst) == "edges: the last of the 49 columns computed inside the last "
                + "strip's full 6×16 tiles, each panel's 6 rows of it in one vector's lanes (a 13th FMA per k step on A "
                + "already in registers); rows no full tile covers run down the panels after it; a last row panel of 4 "
                + "of the 160 rows")
        #expect(try edges(7, 7, .channelsFirst, inputs: 32) == "edges: the last 1 of the 49 columns run down 8 row "
                + "panels at a time, each panel's 6 rows of a column in one vector's lanes (1 FMA per panel and k "
                + "instead of a 6×8 edge tile's 6); a last row panel of 4 of the 160 rows")
        // 14×14: 196 pixels end in four columns, which go through 8-wide edge tiles when k is shallow;
        // from 448 channels in the product is transposed, and they are the last rows instead.
        #expect(try edges(14, 14, .channelsFirst, inputs: 320) == "edges: the last 4 of the 196 columns in an 8-wide "
                + "edge tile per row panel (4 of its 8 columns computed and dropped); a last row panel of 4 of the 160 rows")
        #expect(try edges(14, 14, .channelsFirst) == "edges: a last row panel of 4 of the 196 rows")
        // A batch gathers those four columns of every image instead, transposed or not.
        for inputs in [256, 960] {
            #expect(try edges(14, 14, .channelsFirst, inputs: inputs, images: 32) == "edges: the last 4 of the 196 "
                    + "columns of all 32 images copied side by side into products of 128 columns, run in whole strips "
                    + "and copied back (rather than an 8-wide edge tile per row panel and image, 4 of its 8 columns "
                    + "computed and dropped); a last row panel of 4 of the 160 rows")
        }
        // 5×5: 25 pixels are one strip, one 8-column strip and one column.
        #expect(try edges(5, 5, .channelsFirst).hasPrefix("edges: an 8-column strip after 1×16 columns; the last 1 of the 25"))
        // Channels-last: 160 output channels are 10 whole strips; 8×12 = 96 pixels are 16 whole panels.
        #expect(try edges(8, 12, .channelsLast) == "edges: none: 96 rows and 160 columns fill whole 6×16 tiles")
        // Channels-last 40 output channels (a projection's): the last 24 in 3×24 tiles over the input in place.
        #expect(try edges(8, 12, .channelsLast, inputs: 144, outputs: 40) == "edges: the last 24 of the 40 columns (the "
                + "last whole strip and an 8-column one) in 3×24 tiles down all the rows (nine accumulators, where a "
                + "6×8 tile would wait on its loads)")
        // Channels-last 7×7: 49 pixels end in one row, so the last 7 go in panels of 4 and 3.
        #expect(try edges(7, 7, .channelsLast) == "edges: the last 7 of the 49 rows in panels of 4 and 3, each swept on "
                + "its own (a 1-row tile would wait on its two FMA chains)")
        // The seed's 64→32 at 224×224 runs strip by strip: its 32 rows end in two tiles of four. The
        // streaming kernel runs a last panel of two 32 columns at a time instead (32 rows over 56×56).
        #expect(try edges(224, 224, .channelsFirst, inputs: 64, outputs: 32) == "edges: the last 8 of the 32 rows as "
                + "two tiles of 4 (a last row panel of 2 would wait on its four FMA chains)")
        #expect(try edges(56, 56, .channelsFirst, inputs: 64, outputs: 32) == "edges: a last row panel of 2 of the 32 rows, "
                + "32 columns at a time (8 FMA chains, where 16 columns would give 4)")
        // A single output row (gray 3→1) streams the same way; 3×8 pixels are too few for 32 columns.
        #expect(try edges(224, 224, .channelsFirst, inputs: 3, outputs: 1) == "edges: a last row panel of 1 of the 1 rows, "
                + "32 columns at a time (4 FMA chains, where 16 columns would give 2)")
        #expect(try edges(3, 8, .channelsFirst, inputs: 3, outputs: 1) == "edges: an 8-column strip after 1×16 columns; "
                + "a last row panel of 1 of the 1 rows")
        if let avx512 = KernelConfig.avx512 {
            // 16-lane tiles: a 7×7 map in one 6×48 tile per panel and its last column; no 4 + 4 split.
            #expect(try edges(7, 7, .channelsFirst, kernels: avx512) == "edges: all 49 columns in one 6×48 tile per row "
                    + "panel (16-lane vectors), each panel's rows of the 49th in one 8-lane vector's lanes; a last row "
                    + "panel of 4 of the 160 rows")
            #expect(try edges(224, 224, .channelsFirst, inputs: 64, outputs: 32, kernels: avx512)
                    == "edges: a last row panel of 2 of the 32 rows")
        }
    }
}
