import Foundation

/// A loss's value and its gradient with respect to the prediction.
public struct LossResult: Sendable {
    /// The loss (a mean, as PyTorch's `reduction='mean'`).
    public var value: Float
    /// dL/dprediction, in the prediction's shape and layout.
    public var gradient: Tensor
}

/// Losses with PyTorch's semantics, each giving its value and gradient in one pass.
public enum Loss {
    /// PyTorch's `class_index` for targets that count in neither the loss nor its mean.
    public static let defaultIgnoreIndex = -100

    /// Mean squared error, PyTorch's `nn.MSELoss()`: `L = mean((p − t)²)` over every element,
    /// `dL/dp = 2(p − t)/count`.
    /// - Parameters:
    ///   - prediction: any shape, either layout.
    ///   - target: the same shape, either layout.
    /// - Throws: `TrainingError.shape` when the shapes differ.
    public static func meanSquaredError(prediction: Tensor, target: Tensor) throws(TrainingError) -> LossResult {
        // p: [N, C, *S]  t: [N, C, *S]  →  L: scalar, dL/dp: [N, C, *S]
        guard prediction.shape == target.shape else {
            throw .shape(role: "target", expected: "\(prediction.shape), the prediction's shape", actual: target.shape)
        }
        let target = target.converted(to: prediction.layout)
        var gradient = Tensor.uninitialized(like: prediction)
        let p = prediction.pointer, t = target.pointer, g = gradient.mutablePointer(), count = prediction.count
        let scale = 2 / Float(max(count, 1))
        // Four running sums, so that the additions are not one chain, each waiting on the last.
        var sums = (0.0, 0.0, 0.0, 0.0)
        func square(_ i: Int) -> Double {
            let difference = p[i] - t[i]
            g[i] = scale * difference
            return Double(difference * difference)
        }
        var i = 0
        while i + 4 <= count {
            sums.0 += square(i)
            sums.1 += square(i + 1)
            sums.2 += square(i + 2)
            sums.3 += square(i + 3)
            i += 4
        }
        while i < count {
            sums.0 += square(i)
            i += 1
        }
        let sum = (sums.0 + sums.1) + (sums.2 + sums.3)
        // An empty prediction gives NaN, as PyTorch's mean of nothing does.
        return LossResult(value: Float(sum / Double(count)), gradient: gradient)
    }

    /// Cross-entropy over classes, PyTorch's `nn.CrossEntropyLoss(ignore_index=)` with integer
    /// targets: `L = mean over non-ignored targets of (logsumexp_c z[c] − z[label])`, computed
    /// stably (the largest logit is subtracted before exponentiating); `dL/dz = (softmax(z) −
    /// onehot(label))/count` at non-ignored targets, 0 at ignored ones. With every target ignored
    /// the value is NaN (0/0), as in PyTorch.
    /// - Parameters:
    ///   - logits: `[N, C]` or per pixel `[N, C, *spatial]`, either layout.
    ///   - labels: one per sample or pixel, `[N, *spatial]` in row-major order; each in `0..<C` or
    ///     `ignoreIndex`.
    ///   - ignoreIndex: the label of targets to skip.
    /// - Throws: `TrainingError.shape` when the label count is wrong, `.label` for a label out of range.
    public static func crossEntropy(
        logits: Tensor, labels: [Int], ignoreIndex: Int = defaultIgnoreIndex
    ) throws(TrainingError) -> LossResult {
        // z: [N, C, *S]  labels: [N, *S]  →  L: scalar, dL/dz: [N, C, *S]
        let pixels = logits.pixelsPerImage, classes = logits.channels
        guard labels.count == logits.batchSize * pixels else {
            throw .shape(role: "labels", expected: "\([logits.batchSize] + logits.spatialShape) for logits \(logits.shape)",
                         actual: [labels.count])
        }
        var counted = 0
        for (position, label) in labels.enumerated() where label != ignoreIndex {
            guard (0..<classes).contains(label) else { throw .label(position: position, value: label, classes: classes) }
            counted += 1
        }
        var gradient = Tensor.zeros(like: logits)
        let z = logits.pointer, g = gradient.mutablePointer(), channelStride = logits.strides.channel
        let scale = 1 / Float(max(counted, 1))
        var sum = 0.0
        for (position, label) in labels.enumerated() where label != ignoreIndex {
            let base = logits.memoryIndex(batch: position / pixels, channel: 0, position: position % pixels)
            var largest = -Float.infinity
            for c in 0..<classes { largest = max(largest, z[base + c * channelStride]) }
            var total: Float = 0
            for c in 0..<classes { total += exp(z[base + c * channelStride] - largest) }
            let logSumExp = largest + log(total)
            sum += Double(logSumExp - z[base + label * channelStride])
            for c in 0..<classes {
                let i = base + c * channelStride
                g[i] = scale * (exp(z[i] - logSumExp) - (c == label ? 1 : 0))
            }
        }
        return LossResult(value: Float(sum / Double(counted)), gradient: gradient)
    }

    /// The class with the largest logit for each sample or pixel (the first on ties), in the
    /// labels' order `[N, *spatial]`.
    /// - Parameter logits: `[N, C, *spatial]`, either layout.
    public static func predictedClasses(_ logits: Tensor) -> [Int] {
        let pixels = logits.pixelsPerImage
        return (0..<logits.batchSize * pixels).map { position in
            var best = 0
            for c in 1..<max(logits.channels, 1)
            where logits[batch: position / pixels, channel: c, position: position % pixels]
                > logits[batch: position / pixels, channel: best, position: position % pixels] {
                best = c
            }
            return best
        }
    }

    /// The fraction of non-ignored labels that the logits' largest class matches (NaN when
    /// every label is ignored).
    /// - Parameters:
    ///   - logits: `[N, C, *spatial]`, either layout.
    ///   - labels: `[N, *spatial]` in row-major order.
    ///   - ignoreIndex: the label of targets to skip.
    public static func accuracy(logits: Tensor, labels: [Int], ignoreIndex: Int = defaultIgnoreIndex) -> Float {
        let predicted = predictedClasses(logits)
        let pairs = zip(predicted, labels).filter { $0.1 != ignoreIndex }
        return Float(pairs.filter { $0.0 == $0.1 }.count) / Float(pairs.count)
    }
}
