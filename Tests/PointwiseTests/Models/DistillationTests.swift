import Foundation
import Testing
@testable import Pointwise

/// Fine-tuning a compressed EfficientNet-Lite by distillation, on a model with random weights:
/// the back-propagated gradients against finite differences, and a short run that lowers the loss.
@Suite("EfficientNet-Lite distillation")
struct DistillationTests {
    static let teacher = Result { try EfficientNetLite(weights: EfficientNetLiteStructureTests.checkpoint, name: "random.safetensors") }

    /// The teacher with four of its 1×1 layers (small ones, so the SVDs are quick in a debug build)
    /// factored by truncated SVD to half their rank.
    static func student() throws -> EfficientNetLite {
        var model = try teacher.get()
        for slot in [PointwiseSlot.expand(1), .project(2), .project(6), .expand(8)] {
            let conv = model.convolution(at: slot)!
            let pair = try LowRankConv1x1(conv, rank: min(conv.inputChannels, conv.outputChannels) / 2)
            switch slot {
            case .expand(let i): model.replace(.expandFactor(i), with: pair.reduce)
            case .project(let i): model.replace(.projectFactor(i), with: pair.reduce)
            default: Issue.record("unexpected slot \(slot)")
            }
            model.replace(slot, with: pair.restore)
        }
        return model
    }

    static func picture(size: Int, seed: UInt64) throws -> Tensor {
        var random = SplitMix64(seed: seed)
        return try Tensor(shape: [1, 3, size, size], values: (0..<3 * size * size).map { _ in random.nextFloat(in: -2...2) })
    }

    /// The loss the distillation minimises, in Float64 from the student's outputs.
    static func loss(_ student: EfficientNetLite, _ input: Tensor, target: (features: Tensor, logits: Tensor)) throws -> Double {
        let features = try student.traced(input, options: ExecutionOptions()).features
        let logits = try student.logits(features: features)
        return DistillationLoss(student: logits, teacher: target.logits, temperature: 2).value
            + FeatureLoss(student: features, teacher: target.features, weight: 1).value
    }

    @Test("the distillation loss's gradient with respect to the logits matches finite differences")
    func logitGradient() throws {
        var random = SplitMix64(seed: 3)
        let shape = [2, 7]
        let s = try Tensor(shape: shape, values: (0..<14).map { _ in random.nextFloat(in: -3...3) })
        let t = try Tensor(shape: shape, values: (0..<14).map { _ in random.nextFloat(in: -3...3) })
        let analytic = DistillationLoss(student: s, teacher: t, temperature: 2.5).gradient
        for i in 0..<14 {
            var plus = s.scalars, minus = s.scalars
            plus[i] += 1e-2
            minus[i] -= 1e-2
            let numeric = (DistillationLoss(student: try Tensor(shape: shape, values: plus), teacher: t, temperature: 2.5).value
                - DistillationLoss(student: try Tensor(shape: shape, values: minus), teacher: t, temperature: 2.5).value) / 2e-2
            #expect(abs(numeric - Double(analytic[i])) <= 1e-3 * max(1, abs(numeric)), "logit \(i)")
        }
        // Identical logits: zero loss, zero gradient.
        let same = DistillationLoss(student: t, teacher: t, temperature: 2)
        #expect(abs(same.value) < 1e-9 && same.gradient.allSatisfy { abs($0) < 1e-7 } && same.agreeing == 2)
    }

    @Test("back-propagation through the network matches finite differences on factored and whole 1×1 layers")
    func networkGradient() throws {
        let teacher = try Self.teacher.get()
        let student = try Self.student()
        let input = try Self.picture(size: 32, seed: 11)
        let features = try teacher.features(input)
        let target = (features: features, logits: try teacher.logits(features: features))
        let trainable = Set(student.pointwiseSlots)
        let trace = try student.traced(input, options: ExecutionOptions())
        let logits = try student.logits(features: trace.features)
        var gradient = try student.featureGradient(
            logitGradient: DistillationLoss(student: logits, teacher: target.logits, temperature: 2).gradient,
            features: trace.features)
        gradient.add(FeatureLoss(student: trace.features, teacher: target.features, weight: 1).gradient)
        let gradients = try student.backward(trace, featureGradient: gradient, trainable: trainable, options: ExecutionOptions())
        #expect(Set(gradients.keys) == trainable)
        // A factored pair's halves, whole layers before, between and after them; weights and biases.
        let slots: [PointwiseSlot] = [.project(0), .expandFactor(1), .expand(1), .projectFactor(6), .project(6), .project(12), .head]
        for slot in slots {
            let conv = student.convolution(at: slot)!, analytic = gradients[slot]!
            // The weight entry and the bias entry with the largest gradients (well above float32 noise).
            let weights = analytic.weight.scalars
            let entry = weights.indices.max { abs(weights[$0]) < abs(weights[$1]) }!
            func loss(weight: [Float], bias: [Float]?) throws -> Double {
                var model = student
                model.replace(slot, with: try Conv1x1(weight: try Tensor(shape: conv.weight.shape, values: weight),
                                                      bias: bias, activation: conv.activation))
                return try Self.loss(model, input, target: target)
            }
            let h = Float(1e-3)
            var (plus, minus) = (conv.weight.scalars, conv.weight.scalars)
            plus[entry] += h
            minus[entry] -= h
            let numeric = (try loss(weight: plus, bias: conv.bias) - loss(weight: minus, bias: conv.bias)) / Double(2 * h)
            #expect(abs(numeric - Double(weights[entry])) <= 0.05 * abs(numeric) + 1e-3,
                    "\(slot) weight[\(entry)]: finite difference \(numeric), back-propagated \(weights[entry])")
            if let bias = conv.bias, let biasGradient = analytic.bias {
                let entry = biasGradient.indices.max { abs(biasGradient[$0]) < abs(biasGradient[$1]) }!
                var (plus, minus) = (bias, bias)
                plus[entry] += h
                minus[entry] -= h
                let numeric = (try loss(weight: conv.weight.scalars, bias: plus) - loss(weight: conv.weight.scalars, bias: minus))
                    / Double(2 * h)
                #expect(abs(numeric - Double(biasGradient[entry])) <= 0.05 * abs(numeric) + 1e-3,
                        "\(slot) bias[\(entry)]: finite difference \(numeric), back-propagated \(biasGradient[entry])")
            }
        }
    }

    @Test("a short distillation lowers the loss on crops it did not train on, and changes only the 1×1 layers trained")
    func distillationLowersTheLoss() throws {
        let teacher = try Self.teacher.get(), student = try Self.student()
        let pictures = try (0..<3).map { try Self.picture(size: 40, seed: 20 + $0) }
        var held = SplitMix64(seed: 99)
        let check = try EfficientNetLite.randomCrops(try (0..<2).map { try Self.picture(size: 40, seed: 50 + $0) },
                                                     count: 2, size: 32, random: &held)
        let checkTrace = try teacher.traced(check, options: ExecutionOptions())
        let target = (features: checkTrace.features, logits: try teacher.logits(features: checkTrace.features))
        var settings = EfficientNetLite.DistillationSettings()
        (settings.steps, settings.batchSize, settings.cropSize, settings.learningRate) = (12, 2, 32, 1e-3)
        settings.blockWeight = 1
        var steps: [EfficientNetLite.DistillationStep] = []
        let tuned = try student.distilled(from: teacher, pictures: pictures, settings: settings) { steps.append($0) }
        #expect(steps.map(\.step) == Array(1...12))
        let (before, after) = (try Self.loss(student, check, target: target), try Self.loss(tuned, check, target: target))
        #expect(after < 0.8 * before, "held-out loss \(before) → \(after)")
        // The factored pairs moved; the whole layers and the depthwise convolutions did not.
        #expect(tuned.blocks[1].expandFactor!.weight.scalars != student.blocks[1].expandFactor!.weight.scalars)
        #expect(tuned.blocks[1].expand!.weight.scalars != student.blocks[1].expand!.weight.scalars)
        #expect(tuned.blocks[3].project.weight.scalars == student.blocks[3].project.weight.scalars)
        #expect(tuned.head.weight.scalars == student.head.weight.scalars)
        #expect(tuned.blocks[1].depthwise.weight.scalars == student.blocks[1].depthwise.weight.scalars)
    }

    @Test("bad settings and pictures are refused by name")
    func badInput() throws {
        let teacher = try Self.teacher.get()
        let picture = try Self.picture(size: 40, seed: 1)
        func refuses(_ change: (inout EfficientNetLite.DistillationSettings) -> Void, pictures: [Tensor]? = nil, _ word: String) {
            var settings = EfficientNetLite.DistillationSettings()
            settings.cropSize = 32
            change(&settings)
            #expect {
                _ = try teacher.distilled(from: teacher, pictures: pictures ?? [picture], settings: settings)
            } throws: { String(describing: $0).contains(word) }
        }
        refuses({ $0.steps = 0 }, "steps")
        refuses({ $0.batchSize = 0 }, "batch size")
        refuses({ $0.learningRate = .nan }, "learning rate")
        refuses({ $0.temperature = 0 }, "temperature")
        refuses({ $0.featureWeight = -1 }, "feature weight")
        refuses({ $0.blockWeight = .infinity }, "block weight")
        refuses({ $0.cropSize = 16 }, "crop size")
        refuses({ _ in }, pictures: [], "pictures")
        refuses({ $0.cropSize = 64 }, "picture shape")
        refuses({ _ in }, "no factored 1×1 layers")
    }
}
