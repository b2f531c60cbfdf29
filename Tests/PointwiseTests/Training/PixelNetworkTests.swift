import Foundation
import Testing
@testable import Pointwise

@Suite struct PixelNetworkTests {
    @Test("backward equals finite differences for every parameter and the input",
          arguments: [Activation.tanh, .relu])
    func backwardMatchesFiniteDifferences(activation: Activation) throws {
        var random = SplitMix64(seed: 3)
        let net = try PixelNetwork(widths: [3, 5, 4, 2], activation: activation, seed: 9)
        let x = TestSupport.random([6, 3], layout: .channelsLast, using: &random)
        let g = TestSupport.random([6, 2], layout: .channelsLast, using: &random)
        let options = ExecutionOptions(threads: 1)
        let (output, trace) = try net.trainingForward(x, options: options)
        #expect(TestSupport.difference(output, try net(x, options: options)).maxError == 0, "training = inference output")
        net.zeroGradients()
        let dx = try net.backward(trace, outputGradient: g, options: options)
        let loss = { (x: Tensor) throws -> Double in TestSupport.dot(try net(x, options: options), g) }
        TestSupport.expectGradient(dx.scalars, try TestSupport.numericGradient(of: x, loss), "dL/dx")
        for parameter in net.parameters {
            let original = parameter.value
            let numeric = try TestSupport.numericGradient(of: original.scalars) { values in
                parameter.value = try Tensor(shape: original.shape, values: values)
                try net.parametersDidChange()
                return try loss(x)
            }
            parameter.value = original
            try net.parametersDidChange()
            TestSupport.expectGradient(parameter.gradient.scalars, numeric, "dL/d\(parameter.name)")
        }
    }

    @Test("inference runs on [N, C, *S] in both layouts and gives the pixel rows' results")
    func inferenceOnImages() throws {
        var random = SplitMix64(seed: 4)
        let net = try PixelNetwork(widths: [3, 4, 2])
        let image = TestSupport.random([2, 3, 4, 5], using: &random)
        let rows = try net(image.pixelRows)
        let back = try rows.images(batchSize: 2, spatialShape: [4, 5])
        for layout in Layout.allCases {
            let d = TestSupport.difference(try net(image.converted(to: layout)), back)
            #expect(TestSupport.withinTolerance(d), "\(layout): max error \(d.maxError)")
        }
        #expect(net.parameters.map(\.name) == ["0.weight", "0.bias", "1.weight", "1.bias"])
        #expect(net.parameters.map(\.shape) == [[4, 3], [4], [2, 4], [2]])
    }

    @Test("save → load round trip is exact; saving replaces a model but not another directory")
    func saveAndLoad() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixelnet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let net = try PixelNetwork(widths: [3, 4, 2], activation: .silu, seed: 2)
        let model = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try net.save(to: model)
        try net.save(to: model)  // replacing an earlier save
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: model.path))
                 == ["model.json", "0.weight.npy", "0.bias.npy", "1.weight.npy", "1.bias.npy"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model"], "no temporaries left")
        let loaded = try PixelNetwork.load(from: model)
        #expect(loaded.widths == net.widths && loaded.activation == .silu)
        for (a, b) in zip(loaded.parameters, net.parameters) {
            #expect(a.name == b.name && a.shape == b.shape && a.value.scalars == b.value.scalars, "\(a.name)")
        }
        #expect(throws: TrainingError.self) { try net.save(to: directory) }  // holds other files
        try NPY.write(NPYArray(shape: [4, 2], values: Array(repeating: 0, count: 8)),
                      to: model.appendingPathComponent("0.weight.npy"))
        #expect(throws: TrainingError.modelFile(path: model.appendingPathComponent("0.weight.npy").path,
                                                problem: "shape [4, 2] does not fit the model: expected [4, 3]")) {
            try PixelNetwork.load(from: model)
        }
        try net.save(to: model)
        try FileManager.default.removeItem(at: model.appendingPathComponent("1.bias.npy"))
        #expect(throws: TrainingError.npy(.fileNotFound(path: model.appendingPathComponent("1.bias.npy").path))) {
            try PixelNetwork.load(from: model)
        }
    }

    @Test("setParameters replaces weight and bias (and the packed copies), and checks shapes")
    func setParameters() throws {
        var conv = try Conv1x1(inputChannels: 2, outputChannels: 1)
        let x = try Tensor(shape: [1, 2], values: [1, 2])
        _ = try conv(x)  // packs the old weights
        try conv.setParameters(weight: Tensor(shape: [1, 2], values: [3, 4]), bias: [0.5])
        #expect(try conv(x).scalars == [11.5])
        #expect(throws: ConvolutionError.self) { try conv.setParameters(weight: Tensor(shape: [2, 2], values: [1, 2, 3, 4]), bias: [0.5]) }
        #expect(throws: ConvolutionError.self) { try conv.setParameters(weight: Tensor(shape: [1, 2], values: [1, 2]), bias: nil) }
    }
}
