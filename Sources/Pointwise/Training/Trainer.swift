import Foundation

/// What a network is trained to predict, pixel by pixel.
public enum TrainingTargets: Sendable {
    /// Classification: one class label per pixel, `[N, *spatial]` in row-major order, each in
    /// `0..<Cout` or `ignoreIndex`; the loss is cross-entropy.
    case classes([Int], ignoreIndex: Int = Loss.defaultIgnoreIndex)
    /// Regression: a target tensor `[N, Cout, *spatial]` (or pixel rows `[P, Cout]`); the loss
    /// is the mean squared error.
    case values(Tensor)
}

/// The losses of a training run.
public struct TrainingHistory: Sendable {
    /// The mean loss of each epoch (the mean of its steps' losses).
    public var epochLosses: [Float] = []
    /// The loss of every step, in order.
    public var stepLosses: [Float] = []
}

/// Where a trainer reports progress.
public enum ProgressOutput: Sendable {
    /// Nowhere (tests, libraries).
    case none
    /// Standard error: a redrawn bar when it is a terminal, else one line per epoch.
    case standardError
}

/// Minibatch training of a `PixelNetwork` on pixels: each epoch shuffles the pixels with a seeded
/// generator, then for each minibatch runs forward, the loss, backward and one optimizer step.
///
/// ```swift
/// var adam = try Adam(learningRate: 0.01)
/// let history = try Trainer(epochs: 20, batchSize: 256).train(net, inputs: x, targets: .classes(y), optimizer: &adam)
/// ```
public struct Trainer: Sendable {
    /// Passes over the data.
    public var epochs: Int
    /// Pixels per step (the last step of an epoch takes the remainder).
    public var batchSize: Int
    /// Seeds the shuffling, so a run is reproducible.
    public var seed: UInt64
    /// The learning rate per epoch, from the optimizer's initial rate.
    public var schedule: LearningRateSchedule
    /// Threads and implementation of the layers.
    public var options: ExecutionOptions
    /// Where progress goes.
    public var progress: ProgressOutput

    /// A trainer.
    /// - Parameters:
    ///   - epochs: ≥ 1.
    ///   - batchSize: ≥ 1.
    ///   - seed: seeds the shuffling.
    ///   - schedule: the learning-rate schedule.
    ///   - options: threads and implementation.
    ///   - progress: where progress goes.
    public init(
        epochs: Int, batchSize: Int = 256, seed: UInt64 = 0, schedule: LearningRateSchedule = .constant,
        options: ExecutionOptions = ExecutionOptions(), progress: ProgressOutput = .none
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.schedule = schedule
        self.options = options
        self.progress = progress
    }

    /// Trains `network` in place.
    /// - Parameters:
    ///   - network: updated step by step (its parameters and layers).
    ///   - inputs: `[N, Cin, *spatial]` in either layout, or pixel rows `[P, Cin]`.
    ///   - targets: labels or target values for every pixel of `inputs`.
    ///   - optimizer: its learning rate is set by the schedule at each epoch.
    /// - Returns: the loss of every epoch and step.
    /// - Throws: `TrainingError.shape` or `.label` for targets that do not fit the inputs,
    ///   `.setting` for epochs or batch size below 1, `.nonFiniteLoss` (naming the epoch and the
    ///   step, from 1) when the loss becomes NaN or infinite.
    public func train(
        _ network: PixelNetwork, inputs: Tensor, targets: TrainingTargets, optimizer: inout some Optimizer
    ) throws(TrainingError) -> TrainingHistory {
        guard epochs >= 1, batchSize >= 1 else {
            throw .setting(name: "epochs, batch size", value: "\(epochs), \(batchSize)", expected: "≥ 1 each")
        }
        let x = inputs.pixelRows, pixels = x.batchSize
        let batch = try Batch(targets: targets, inputs: inputs, network: network)
        var generator = SplitMix64(seed: seed)
        var order = Array(0..<pixels)
        // ⌈pixels / batchSize⌉, for a batch size up to Int.max.
        let steps = pixels / batchSize + (pixels % batchSize == 0 ? 0 : 1)
        var reporter = ProgressReporter(output: progress, epochs: epochs, steps: steps)
        var history = TrainingHistory()
        let baseRate = optimizer.learningRate
        for epoch in 0..<epochs {
            optimizer.learningRate = schedule.learningRate(base: baseRate, epoch: epoch)
            order.shuffle(using: &generator)
            var sum = 0.0
            for step in 0..<steps {
                let rows = order[step * batchSize..<min((step + 1) * batchSize, pixels)]
                let (input, target) = try batch.gather(rows, from: x)
                let (output, trace) = try network.trainingForward(input, options: options)
                let loss = try batch.loss(output, target)
                guard loss.value.isFinite else {
                    throw .nonFiniteLoss(epoch: epoch + 1, step: step + 1, value: loss.value)
                }
                network.zeroGradients()
                try network.backward(trace, outputGradient: loss.gradient, options: options)
                try network.step(&optimizer)
                history.stepLosses.append(loss.value)
                sum += Double(loss.value)
                reporter.stepFinished(epoch: epoch, step: step, pixels: rows.count, loss: loss.value)
            }
            history.epochLosses.append(Float(sum / Double(steps)))
            reporter.epochFinished(epoch: epoch, loss: history.epochLosses[epoch])
        }
        return history
    }
}

/// The targets in pixel order, and how to gather a minibatch of them and score it.
private struct Batch {
    let labels: [Int]?
    let ignoreIndex: Int
    let values: Tensor?

    init(targets: TrainingTargets, inputs: Tensor, network: PixelNetwork) throws(TrainingError) {
        let pixels = inputs.batchSize * inputs.pixelsPerImage, outputs = network.widths.last!
        guard inputs.channels == network.widths[0] else {
            throw .shape(role: "inputs", expected: "\(network.widths[0]) channels", actual: inputs.shape)
        }
        switch targets {
        case .classes(let labels, let ignoreIndex):
            guard labels.count == pixels else {
                throw .shape(role: "labels", expected: "one per pixel, \([inputs.batchSize] + inputs.spatialShape)",
                             actual: [labels.count])
            }
            for (position, label) in labels.enumerated() where label != ignoreIndex && !(0..<outputs).contains(label) {
                throw .label(position: position, value: label, classes: outputs)
            }
            (self.labels, self.ignoreIndex, values) = (labels, ignoreIndex, nil)
        case .values(let tensor):
            let rows = tensor.pixelRows
            guard rows.shape == [pixels, outputs] else {
                let expected = inputs.shape.count == 2 ? [pixels, outputs] : [inputs.batchSize, outputs] + inputs.spatialShape
                throw .shape(role: "targets", expected: "\(expected)", actual: tensor.shape)
            }
            (labels, ignoreIndex, values) = (nil, Loss.defaultIgnoreIndex, rows)
        }
    }

    /// The input rows and their targets.
    func gather(_ rows: ArraySlice<Int>, from x: Tensor) throws(TrainingError) -> (Tensor, Target) {
        let input = try Batch.rows(rows, of: x)
        if let labels { return (input, .labels(rows.map { labels[$0] })) }
        return (input, .values(try Batch.rows(rows, of: values!)))
    }

    enum Target {
        case labels([Int])
        case values(Tensor)
    }

    func loss(_ output: Tensor, _ target: Target) throws(TrainingError) -> LossResult {
        switch target {
        case .labels(let labels): try Loss.crossEntropy(logits: output, labels: labels, ignoreIndex: ignoreIndex)
        case .values(let values): try Loss.meanSquaredError(prediction: output, target: values)
        }
    }

    /// The rows `rows` of the pixel matrix `matrix` [P, C], as a [B, C] channels-last tensor.
    private static func rows(_ rows: ArraySlice<Int>, of matrix: Tensor) throws(TrainingError) -> Tensor {
        let columns = matrix.channels
        var result: Tensor
        do { result = try Tensor(zeros: [rows.count, columns], layout: .channelsLast) } catch { throw .tensor(error) }
        let source = matrix.pointer, target = result.mutablePointer()
        for (i, row) in rows.enumerated() {
            (target + i * columns).update(from: source + row * columns, count: columns)
        }
        return result
    }
}
