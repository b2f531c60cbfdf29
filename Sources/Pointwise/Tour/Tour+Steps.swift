import Foundation

// The tour's steps that need only layers, training and the cost model; the PCA steps are in
// Tour+PCA.swift and the pretrained classifier in Tour+Classifier.swift.
extension Tour {
    /// Grayscale: a fixed 1×1 convolution 3→1, and the same weights learned from examples.
    func grayscale() throws -> Step {
        let picture = try TourData.picture()
        let luma: [Float] = [0.299, 0.587, 0.114]
        let fixed = try Conv1x1(weight: Tensor(shape: [1, 3], values: luma), bias: [0])
        let gray = try fixed(picture, options: ExecutionOptions(threads: 1))
        var worst: Float = 0
        for s in 0..<picture.pixelsPerImage {
            let formula = (0..<3).reduce(Float(0)) { $0 + luma[$1] * picture[batch: 0, channel: $1, position: s] }
            worst = max(worst, abs(formula - gray[batch: 0, channel: 0, position: s]))
        }
        let net = try PixelNetwork(widths: [3, 1], seed: 1)
        var sgd = try SGD(learningRate: 0.3, momentum: 0.9)
        let history = try Trainer(epochs: quick ? 8 : 20, batchSize: 64, seed: 3, options: ExecutionOptions(threads: 1))
            .train(net, inputs: picture, targets: .values(gray), optimizer: &sgd)
        let learned = net.layers[0].weight.scalars
        let input = try save(FeatureGrid.render(picture, channels: [0, 1, 2], scaling: .shared, title: "INPUT: R, G, B"),
                             as: "grayscale-input.png")
        let output = try save(FeatureGrid.render(gray, channels: [0], scaling: .shared, title: "1X1 CONV 3→1"),
                              as: "grayscale-output.png")
        return Step(
            title: "Grayscale is a 1×1 convolution — fixed or learned",
            demonstrates: "Luma Y = 0.299 R + 0.587 G + 0.114 B is a 1×1 convolution with weight [0.299, 0.587, 0.114]; "
                + "trained on pixels and their luma, a 1×1 convolution learns those weights (it has a learning process).",
            figures: [
                "fixed weights: max |conv − formula| = \(String(format: "%.1e", Double(worst))) over \(picture.pixelsPerImage) pixels",
                "learned weights after \(history.epochLosses.count) epochs: "
                    + learned.map { String(format: "%.4f", Double($0)) }.joined(separator: ", ")
                    + String(format: " (loss %.1e)", Double(history.epochLosses.last!)),
            ],
            pictures: [input, output])
    }

    /// The bottleneck and Inception savings, counted (and timed).
    func savings() throws -> Step {
        var figures: [String] = []
        for comparison in [CostComparison.bottleneck, .inception] {
            let (base, reduced) = (comparison.alternatives[0], comparison.alternatives[1])
            let saving = comparison.savings(of: reduced)
            var line = "\(comparison.title): \(base.cost.parameters.grouped) → \(reduced.cost.parameters.grouped) parameters, "
                + String(format: "%.1f → %.1f M multiply-adds (%.1f× fewer)", Double(base.cost.multiplyAdds) / 1e6,
                         Double(reduced.cost.multiplyAdds) / 1e6, saving.multiplyAdds)
            if !quick {
                let (t0, t1) = (try Benchmark.measure(base, threads: threads), try Benchmark.measure(reduced, threads: threads))
                line += String(format: "; measured %.2f → %.2f ms (%.1f× faster)", t0, t1, t0 / t1)
            }
            figures.append(line)
        }
        return Step(
            title: "Bottlenecks and Inception's reductions save parameters and time",
            demonstrates: "A 1×1 convolution that reduces channels before an expensive k×k convolution cuts its cost by the "
                + "reduction factor (`pointwise cost` shows all four comparisons with roofline predictions).",
            figures: figures, pictures: [])
    }

    /// FPN's lateral 1×1 convolutions align C3–C6 to 256 channels.
    func featurePyramid() throws -> Step {
        var random = SplitMix64(seed: 21)
        let scale = quick ? 4 : 1
        var figures: [String] = []
        for (level, (channels, size)) in [(256, 80), (512, 40), (1024, 20), (2048, 10)].enumerated() {
            let side = max(size / scale, 2)
            let x = try Benchmark.randomTensor([1, channels, side, side], using: &random)
            let lateral = try Conv1x1(inputChannels: channels, outputChannels: 256, seed: UInt64(level))
            let options = ExecutionOptions(threads: threads)
            var y = try lateral(x, options: options)
            let ms = try time { y = try lateral(x, options: options) }
            figures.append("C\(level + 3) \(x.shape) → \(y.shape): \(try lateral.cost(forInput: x.shape).multiplyAdds.grouped) "
                           + String(format: "multiply-adds, %.2f ms", ms))
        }
        return Step(
            title: "FPN aligns every level to 256 channels with 1×1 convolutions",
            demonstrates: "Lateral 1×1 convolutions map 256, 512, 1024 and 2048 channels to 256 at each level's own resolution, "
                + "so levels can be added; deeper levels cost less because their maps are smaller.",
            figures: figures, pictures: [])
    }

    /// Network-in-Network: stacking 1×1 convolutions with a nonlinearity computes what one cannot.
    func nonlinearity() throws -> Step {
        let data = try TourData.xor()
        var curves: [(name: String, values: [Double])] = [], figures: [String] = []
        for (name, widths) in [("one 1×1 conv", [2, 2]), ("mlpconv 1×1-ReLU-1×1", [2, 8, 2])] {
            let net = try PixelNetwork(widths: widths, activation: .relu, seed: 4)
            var adam = try Adam(learningRate: 0.05)
            let history = try Trainer(epochs: quick ? 40 : 60, batchSize: 32, seed: 1, options: ExecutionOptions(threads: 1))
                .train(net, inputs: data.pixels, targets: .classes(data.labels), optimizer: &adam)
            let accuracy = Loss.accuracy(logits: try net(data.pixels, options: ExecutionOptions(threads: 1)), labels: data.labels)
            curves.append((name, history.epochLosses.map(Double.init)))
            figures.append(String(format: "%@ %@: XOR accuracy %.0f%%, final loss %.3f", name, "\(widths)",
                                  Double(accuracy) * 100, Double(history.epochLosses.last!)))
        }
        let chart = try save(Charts.lines(curves, title: "XOR: LINEAR 1X1 VS MLPCONV", xLabel: "EPOCH", yLabel: "LOSS"),
                             as: "nonlinearity-loss.png")
        return Step(
            title: "Network-in-Network: 1×1 convolutions with a nonlinearity between them",
            demonstrates: "One 1×1 convolution is a linear map per pixel and cannot separate XOR; two with a ReLU between "
                + "(NiN's mlpconv) can.",
            figures: figures, pictures: [chart])
    }

    /// Multispectral land cover: a per-pixel classifier over 13 bands, and what it learned.
    func landCover() throws -> Step {
        var random = SplitMix64(seed: 31)
        let train = try TourData.landCoverScene(shift: 0, random: &random)
        let test = try TourData.landCoverScene(shift: 17, random: &random)
        let net = try PixelNetwork(widths: [13, 4], seed: 2)
        var adam = try Adam(learningRate: 0.05)
        let options = ExecutionOptions(threads: 1)
        _ = try Trainer(epochs: quick ? 15 : 40, batchSize: 128, seed: 5, options: options)
            .train(net, inputs: train.image, targets: .classes(train.labels), optimizer: &adam)
        let accuracy = Loss.accuracy(logits: try net(test.image, options: options), labels: test.labels)
        let weights = net.layers[0].weight.scalars, vegetation = Array(weights[13..<26])
        let strongest = vegetation.indices.sorted { vegetation[$0] > vegetation[$1] }.prefix(3)
        let bands = try save(FeatureGrid.render(train.image, channels: Array(0..<13), scaling: .shared,
                                                title: "13 BANDS OF THE TRAINING SCENE", columns: 7), as: "landcover-bands.png")
        let bars = try save(Charts.bars(vegetation.map(Double.init), labels: TourData.bandNames,
                                        title: "VEGETATION: LEARNED WEIGHT PER BAND", xLabel: "BAND", yLabel: "WEIGHT"),
                            as: "landcover-vegetation-weights.png")
        return Step(
            title: "Multispectral land cover: one 1×1 convolution classifies every pixel",
            demonstrates: "A 1×1 convolution 13→4 fuses the bands of each pixel into class scores; its weights show which "
                + "bands tell a class apart (for vegetation, the near-infrared bands beyond the red edge).",
            figures: [
                String(format: "held-out scene accuracy %.1f%% (%@)", Double(accuracy) * 100,
                       TourData.landCovers.joined(separator: ", ")),
                "vegetation's largest weights: bands " + strongest.map { TourData.bandNames[$0] }.joined(separator: ", "),
            ],
            pictures: [bands, bars])
    }

    /// The plain loops of the definition against the fast path.
    func speed() throws -> Step {
        let (channels, size) = quick ? (32, 8) : (128, 28)
        var random = SplitMix64(seed: 41)
        let x = try Benchmark.randomTensor([1, channels, size, size], using: &random)
        let conv = try Conv1x1(inputChannels: channels, outputChannels: channels)
        let reference = ExecutionOptions(threads: 1, algorithm: .reference), fast = ExecutionOptions(threads: threads)
        let slow = try time { _ = try conv(x, options: reference) }
        let quickest = try time { _ = try conv(x, options: fast) }
        let flops = Double(2 * channels * channels * size * size)
        return Step(
            title: "The same convolution, as the definition's loops and as Pointwise runs it",
            demonstrates: "Packed, register-blocked SIMD kernels compute the same result (tested against the loops) many times faster.",
            figures: [String(format: "1×1 %d→%d on %d×%d: reference %.2f ms, fast %.3f ms (%.0f× faster, %.1f GFLOP/s)",
                             channels, channels, size, size, slow, quickest, slow / quickest, flops / quickest / 1e6)],
            pictures: [])
    }
}
