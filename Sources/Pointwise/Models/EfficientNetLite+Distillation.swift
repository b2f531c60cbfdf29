// Fine-tuning a low-rank compressed EfficientNet-Lite by distillation from the original model: the
// compressed model's 1×1 layers are trained, by back-propagation through the whole network, so that
// its class probabilities and its feature map follow the original's on random crops of unlabelled
// pictures. No labels are needed: the original model is the teacher.

extension EfficientNetLite {
    /// Settings of `distilled(from:pictures:settings:progress:)`.
    public struct DistillationSettings: Sendable {
        /// Optimizer steps (Adam), each on one batch of random crops.
        public var steps = 200
        /// Crops per step.
        public var batchSize = 4
        /// Adam's learning rate, decayed along a cosine to zero over the steps.
        public var learningRate: Float = 1e-4
        /// The softmax temperature T of the distillation loss `T²·KL(p_teacher ‖ p_student)` (Hinton et
        /// al.); above 1 it also teaches the order of the unlikely classes.
        public var temperature: Float = 2
        /// Weight of the feature loss `‖f_student − f_teacher‖² / ‖f_teacher‖²` on the feature map
        /// before pooling, added to the distillation loss; 0 trains on the logits alone.
        public var featureWeight: Float = 1
        /// Weight of the same feature loss on every block's output (the intermediate "hints" of
        /// FitNets), which gives a few pictures more to teach than the logits alone; 0 turns it off.
        public var blockWeight: Float = 0
        /// The side of the square crops (224 for EfficientNet-Lite0).
        public var cropSize = 224
        /// Whether every 1×1 convolution of the blocks and the head is trained, or only the factored
        /// pairs (the default).
        public var trainsAllPointwise = false
        /// Seeds the crops' positions and mirroring, so a run is reproducible.
        public var seed: UInt64 = 0
        /// Threads for the passes.
        public var options = ExecutionOptions()

        /// The defaults.
        public init() {}

        /// These settings, after checking each is in range (what `distilled` checks first).
        /// - Throws: `AnalysisError.setting` naming the first setting out of range (`steps`, `batch size`,
        ///   `learning rate`, `temperature`, `feature weight`, `block weight`, `crop size`).
        public func validated() throws(AnalysisError) -> DistillationSettings {
            guard steps >= 1 else { throw .setting(name: "steps", value: "\(steps)", expected: "≥ 1") }
            guard batchSize >= 1 else { throw .setting(name: "batch size", value: "\(batchSize)", expected: "≥ 1") }
            guard learningRate.isFinite, learningRate > 0 else {
                throw .setting(name: "learning rate", value: "\(learningRate)", expected: "a positive number")
            }
            guard temperature.isFinite, temperature > 0 else {
                throw .setting(name: "temperature", value: "\(temperature)", expected: "a positive number")
            }
            guard featureWeight.isFinite, featureWeight >= 0 else {
                throw .setting(name: "feature weight", value: "\(featureWeight)", expected: "≥ 0")
            }
            guard blockWeight.isFinite, blockWeight >= 0 else {
                throw .setting(name: "block weight", value: "\(blockWeight)", expected: "≥ 0")
            }
            guard cropSize >= 32 else { throw .setting(name: "crop size", value: "\(cropSize)", expected: "≥ 32") }
            return self
        }
    }

    /// The losses of one distillation step, averaged over its batch.
    public struct DistillationStep: Sendable {
        /// 1-based.
        public var step: Int
        /// `T²·KL(p_teacher ‖ p_student)`.
        public var logitLoss: Double
        /// `‖f_student − f_teacher‖² / ‖f_teacher‖²` on the feature map before pooling.
        public var featureLoss: Double
        /// How many crops of the batch the student gave the teacher's top-1 class.
        public var agreeing: Int
    }

    /// This model (usually a low-rank compressed one, from `LowRankFactorizations.compressed`)
    /// fine-tuned to imitate `teacher` (the original model) on random crops of `pictures`.
    ///
    /// Each step takes `batchSize` random `cropSize` crops (mirrored with probability ½), runs the
    /// teacher and this model, and takes one Adam step on the 1×1 layers against
    /// `T²·KL(softmax(t/T) ‖ softmax(s/T)) + featureWeight·‖f_s − f_t‖²/‖f_t‖²`. The depthwise
    /// convolutions, the stem and the classifier stay fixed.
    /// - Parameters:
    ///   - teacher: the model to imitate; its blocks must have the same shapes as this model's.
    ///   - pictures: preprocessed `[1, 3, H, W]` pictures with H, W ≥ `cropSize`, uncropped.
    ///   - settings: steps, batch, learning rate, losses, seed and threads.
    ///   - progress: called after every step.
    /// - Returns: the fine-tuned model.
    /// - Throws: `AnalysisError` for settings out of range, pictures that do not fit, a teacher
    ///   of another shape, or nothing to train; `.setting(name: "loss", …)` when the loss stops being finite.
    public func distilled(
        from teacher: EfficientNetLite, pictures: [Tensor], settings: DistillationSettings = DistillationSettings(),
        progress: ((DistillationStep) -> Void)? = nil
    ) throws(AnalysisError) -> EfficientNetLite {
        let settings = try settings.validated()
        guard !pictures.isEmpty else { throw .setting(name: "pictures", value: "none", expected: "at least one picture") }
        for picture in pictures {
            guard picture.shape.count == 4, picture.shape[0] == 1, picture.shape[1] == 3,
                  picture.shape[2] >= settings.cropSize, picture.shape[3] >= settings.cropSize else {
                throw .shape(role: "picture", expected: "[1, 3, H, W] with H, W ≥ \(settings.cropSize)", actual: picture.shape)
            }
        }
        guard teacher.blocks.count == blocks.count, teacher.classCount == classCount,
              teacher.head.outputChannels == head.outputChannels else {
            throw .setting(name: "teacher", value: "\(teacher.blocks.count) blocks", expected: "the student's \(blocks.count) blocks")
        }
        var student = self
        var trainer = try PointwiseTrainer(model: student, all: settings.trainsAllPointwise)
        guard !trainer.slots.isEmpty else {
            throw .setting(name: "student", value: "no factored 1×1 layers",
                           expected: "a compressed model, or trainsAllPointwise to train the whole layers")
        }
        var random = SplitMix64(seed: settings.seed)
        for step in 1...settings.steps {
            let batch = try Self.randomCrops(pictures, count: settings.batchSize, size: settings.cropSize, random: &random)
            let teacherTrace = try teacher.traced(batch, options: settings.options)
            let target: (features: Tensor, logits: Tensor)
            do {
                target = (teacherTrace.features, try teacher.logits(features: teacherTrace.features, options: settings.options))
            } catch { throw .setting(name: "teacher", value: "\(batch.shape)", expected: error.description) }
            let trace = try student.traced(batch, options: settings.options)
            let logits: Tensor
            do { logits = try student.logits(features: trace.features, options: settings.options) } catch {
                throw .setting(name: "features", value: "\(trace.features.shape)", expected: error.description)
            }
            let loss = DistillationLoss(student: logits, teacher: target.logits, temperature: settings.temperature)
            let hint = FeatureLoss(student: trace.features, teacher: target.features, weight: settings.featureWeight)
            guard loss.value.isFinite, hint.value.isFinite else {
                throw .setting(name: "loss", value: "\(loss.value + hint.value) at step \(step)",
                               expected: "finite (lower the learning rate)")
            }
            var featureGradient = try student.featureGradient(logitGradient: loss.gradient, features: trace.features)
            featureGradient.add(hint.gradient)
            let blockGradients = settings.blockWeight == 0 ? [] : zip(trace.blocks, teacherTrace.blocks).map {
                FeatureLoss(student: $0.output, teacher: $1.output, weight: settings.blockWeight / Float(blocks.count)).gradient
            }
            let gradients = try student.backward(trace, featureGradient: featureGradient, blockGradients: blockGradients,
                                                 trainable: trainer.slots, options: settings.options)
            trainer.optimizer.learningRate = LearningRateSchedule.cosine(epochs: settings.steps)
                .learningRate(base: settings.learningRate, epoch: step - 1)
            student = try trainer.step(student, gradients: gradients)
            progress?(DistillationStep(step: step, logitLoss: loss.value, featureLoss: hint.value, agreeing: loss.agreeing))
        }
        return student
    }

    /// `count` random `size`×`size` crops of `pictures` (a random picture each, mirrored with
    /// probability ½), as one `[count, 3, size, size]` batch.
    static func randomCrops(
        _ pictures: [Tensor], count: Int, size: Int, random: inout SplitMix64
    ) throws(AnalysisError) -> Tensor {
        var values = [Float](repeating: 0, count: count * 3 * size * size)
        for n in 0..<count {
            let picture = pictures[Int(random.next() % UInt64(pictures.count))]
            let (height, width) = (picture.shape[2], picture.shape[3])
            let top = Int(random.next() % UInt64(height - size + 1)), left = Int(random.next() % UInt64(width - size + 1))
            let mirrored = random.next() & 1 == 1
            let source = picture.converted(to: .channelsFirst)
            source.withUnsafeBufferPointer { x in
                for c in 0..<3 {
                    for y in 0..<size {
                        let row = x.baseAddress! + (c * height + top + y) * width + left
                        let target = (n * 3 + c) * size * size + y * size
                        for column in 0..<size { values[target + column] = row[mirrored ? size - 1 - column : column] }
                    }
                }
            }
        }
        do { return try Tensor(shape: [count, 3, size, size], values: values) } catch { throw .tensor(error) }
    }
}

// MARK: - Losses

/// `T²·KL(softmax(t/T) ‖ softmax(s/T))` averaged over the batch, and its gradient
/// `T·(softmax(s/T) − softmax(t/T)) / N` with respect to the student's logits.
struct DistillationLoss {
    var value = 0.0
    var gradient: [Float]
    /// Rows where the student's top-1 is the teacher's.
    var agreeing = 0

    init(student: Tensor, teacher: Tensor, temperature: Float) {
        let (rows, classes) = (student.shape[0], student.shape[1])
        let s = student.scalars, t = teacher.scalars, temperature = Double(temperature)
        gradient = [Float](repeating: 0, count: s.count)
        for row in 0..<rows {
            let range = row * classes..<(row + 1) * classes
            let p = Self.softmax(s[range].map { Double($0) / temperature })
            let q = Self.softmax(t[range].map { Double($0) / temperature })
            for k in 0..<classes {
                if q[k] > 0 { value += temperature * temperature * q[k] * (log(q[k]) - log(max(p[k], 1e-300))) / Double(rows) }
                gradient[range.lowerBound + k] = Float(temperature * (p[k] - q[k]) / Double(rows))
            }
            let studentTop = range.max { s[$0] < s[$1] }!, teacherTop = range.max { t[$0] < t[$1] }!
            if studentTop == teacherTop { agreeing += 1 }
        }
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let top = x.max() ?? 0
        let e = x.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}

/// `weight·‖f_s − f_t‖² / ‖f_t‖²` (over the whole batch) and its gradient with respect to `f_s`.
struct FeatureLoss {
    var value = 0.0
    var gradient: Tensor

    init(student: Tensor, teacher: Tensor, weight: Float) {
        let s = student.converted(to: .channelsFirst), t = teacher.converted(to: .channelsFirst)
        gradient = Tensor.zeros(like: s)
        guard weight > 0 else { return }
        let norm = t.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) * Double($1) } }
        let scale = Double(weight) / max(norm, 1e-30)
        let (sp, tp, g) = (s.pointer, t.pointer, gradient.mutablePointer())
        var sum = 0.0
        for i in 0..<s.count {
            let d = Double(sp[i] - tp[i])
            sum += d * d
            g[i] = Float(2 * scale * d)
        }
        value = scale * sum
    }
}

import Foundation
