import Testing
@testable import Pointwise

/// Training that provably learns: known weights recovered, a scene classified, XOR needing a
/// nonlinearity. Each check is a bar the trained model must clear, so each can fail.
@Suite struct LearningTests {
    @Test("a 1×1 conv 3→1 trained on RGB pixels recovers the BT.601 luma weights to 1e-3, bias ≈ 0")
    func lumaWeights() throws {
        var random = SplitMix64(seed: 7)
        let rgb = TestSupport.random([4, 3, 16, 32], using: &random).scalars.map { ($0 + 1) / 2 }  // in 0…1
        let x = try Tensor(shape: [4, 3, 16, 32], values: rgb)
        let luma: [Float] = [0.299, 0.587, 0.114]
        var y = try Tensor(zeros: [4, 1, 16, 32])
        y.withUnsafeMutableBufferPointer { y in
            for n in 0..<4 {
                for s in 0..<512 {
                    y[n * 512 + s] = (0..<3).reduce(0) { $0 + luma[$1] * x[batch: n, channel: $1, position: s] }
                }
            }
        }
        let net = try PixelNetwork(widths: [3, 1], seed: 1)
        var sgd = try SGD(learningRate: 0.3, momentum: 0.9)
        let history = try Trainer(epochs: 20, batchSize: 64, seed: 3, options: ExecutionOptions(threads: 1))
            .train(net, inputs: x, targets: .values(y), optimizer: &sgd)
        let weight = net.layers[0].weight.scalars, bias = net.layers[0].bias![0]
        for (learned, expected) in zip(weight, luma) {
            #expect(abs(learned - expected) <= 1e-3, "weight \(learned), expected \(expected), tolerance 1e-3")
        }
        #expect(abs(bias) <= 1e-3, "bias \(bias), expected 0, tolerance 1e-3")
        #expect(history.epochLosses.last! < 1e-6 && history.epochLosses.last! < history.epochLosses[0] / 1000,
                "losses \(history.epochLosses)")
    }

    // MARK: - Multispectral land cover

    /// Reflectance of four land covers in 8 bands (visible to short-wave infrared).
    static let spectra: [[Float]] = [
        [0.08, 0.06, 0.04, 0.03, 0.02, 0.01, 0.01, 0.01],  // water: dark, darker in the infrared
        [0.04, 0.08, 0.05, 0.30, 0.45, 0.40, 0.25, 0.15],  // vegetation: red edge, bright near-infrared
        [0.12, 0.16, 0.20, 0.25, 0.28, 0.30, 0.32, 0.30],  // bare soil: rising towards the infrared
        [0.20, 0.21, 0.22, 0.23, 0.24, 0.25, 0.25, 0.24],  // urban: bright and flat
    ]

    /// A 32×32 scene: a lake, a forest strip, a town block and soil elsewhere (the layout moves
    /// with `shift`), each pixel its class's spectrum with brightness variation and sensor noise.
    static func scene(shift: Int, random: inout SplitMix64) throws -> (image: Tensor, labels: [Int]) {
        let size = 32, bands = 8
        var labels: [Int] = [], values = [Float](repeating: 0, count: bands * size * size)
        for row in 0..<size {
            for column in 0..<size {
                let (r, c) = ((row + shift) % size, (column + 2 * shift) % size)
                let label = (r - 10) * (r - 10) + (c - 12) * (c - 12) < 49 ? 0 : r > 22 ? 1 : (c > 20 && r < 14) ? 3 : 2
                labels.append(label)
                let brightness = random.nextFloat(in: 0.85...1.15)
                for band in 0..<bands {
                    let noise = (random.nextFloat(in: -1...1) + random.nextFloat(in: -1...1)) * 0.015
                    values[band * size * size + row * size + column] = brightness * spectra[label][band] + noise
                }
            }
        }
        return (try Tensor(shape: [1, bands, size, size], values: values), labels)
    }

    @Test("a per-pixel classifier [8, 16, 4] reaches ≥ 95% accuracy on a held-out multispectral scene")
    func multispectralClassifier() throws {
        var random = SplitMix64(seed: 11)
        let train = try Self.scene(shift: 0, random: &random), heldOut = try Self.scene(shift: 9, random: &random)
        let net = try PixelNetwork(widths: [8, 16, 4], seed: 5)
        var adam = try Adam(learningRate: 0.03)
        let options = ExecutionOptions(threads: 1)
        _ = try Trainer(epochs: 40, batchSize: 128, seed: 2, options: options)
            .train(net, inputs: train.image, targets: .classes(train.labels), optimizer: &adam)
        let accuracy = Loss.accuracy(logits: try net(heldOut.image, options: options), labels: heldOut.labels)
        #expect(accuracy >= 0.95, "held-out accuracy \(accuracy), required ≥ 0.95")
    }

    // MARK: - XOR

    /// The four XOR patterns of two binary channels, 64 pixels each: [256, 2] and their labels.
    static func xor() throws -> (pixels: Tensor, labels: [Int]) {
        let patterns: [(Float, Float)] = [(0, 0), (0, 1), (1, 0), (1, 1)]
        let values = (0..<256).flatMap { [patterns[$0 % 4].0, patterns[$0 % 4].1] }
        return (try Tensor(shape: [256, 2], layout: .channelsLast, values: values), (0..<256).map { [0, 1, 1, 0][$0 % 4] })
    }

    static func trainXOR(activation: Activation) throws -> (net: PixelNetwork, accuracy: Float) {
        let (x, labels) = try xor()
        let net = try PixelNetwork(widths: [2, 8, 2], activation: activation, seed: 3)
        var adam = try Adam(learningRate: 0.05)
        let options = ExecutionOptions(threads: 1)
        _ = try Trainer(epochs: 60, batchSize: 32, seed: 1, options: options)
            .train(net, inputs: x, targets: .classes(labels), optimizer: &adam)
        return (net, Loss.accuracy(logits: try net(x, options: options), labels: labels))
    }

    @Test("XOR: two 1×1 convs with ReLU between them reach ≥ 99% accuracy")
    func xorWithReLU() throws {
        let accuracy = try Self.trainXOR(activation: .relu).accuracy
        #expect(accuracy >= 0.99, "accuracy \(accuracy), required ≥ 0.99")
    }

    @Test("XOR: without the activation the stack is one linear map (W2·W1, W2·b1 + b2) and stays ≤ 75%")
    func xorWithoutActivationCollapses() throws {
        let (net, accuracy) = try Self.trainXOR(activation: .identity)
        #expect(accuracy <= 0.75, "accuracy \(accuracy), a linear map cannot exceed 0.75 on XOR")
        let (first, second) = (net.layers[0], net.layers[1])
        let (w1, w2, b1, b2) = (first.weight.scalars, second.weight.scalars, first.bias!, second.bias!)
        let (hidden, inputs, outputs) = (8, 2, 2)
        let composedWeight = (0..<outputs * inputs).map { oi in
            (0..<hidden).reduce(Float(0)) { $0 + w2[oi / inputs * hidden + $1] * w1[$1 * inputs + oi % inputs] }
        }
        let composedBias = (0..<outputs).map { o in
            (0..<hidden).reduce(b2[o]) { $0 + w2[o * hidden + $1] * b1[$1] }
        }
        let single = try Conv1x1(weight: Tensor(shape: [outputs, inputs], values: composedWeight), bias: composedBias)
        var random = SplitMix64(seed: 4)
        for x in [try Self.xor().pixels, TestSupport.random([2, 2, 5, 7], using: &random)] {
            let d = TestSupport.difference(try single(x), try net(x))
            #expect(d.maxError <= 1e-5 * max(1, d.scale), "composed vs stack: max error \(d.maxError), tolerance 1e-5")
        }
    }
}
