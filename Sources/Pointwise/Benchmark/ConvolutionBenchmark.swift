import Foundation

/// One K×K convolution layer to time: `[n, cin, h, w]` → `cout` channels, square kernel, stride,
/// symmetric padding and groups (groups = cin = cout is a depthwise layer).
public struct ConvolutionBenchmarkShape: Sendable, Codable, Equatable {
    public var name: String
    public var n: Int, cin: Int, cout: Int, h: Int, w: Int
    public var kernel: Int, stride: Int, padding: Int, groups: Int

    /// A layer; `name` labels it in tables.
    public init(name: String, n: Int, cin: Int, cout: Int, h: Int, w: Int, kernel: Int, stride: Int, padding: Int,
                groups: Int) {
        (self.name, self.n, self.cin, self.cout, self.h, self.w) = (name, n, cin, cout, h, w)
        (self.kernel, self.stride, self.padding, self.groups) = (kernel, stride, padding, groups)
    }

    /// The output's rows and columns, PyTorch's formula.
    public var outputSize: (height: Int, width: Int) {
        ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
    }

    /// Bytes the layer must move at least: input, output, weights and bias, once each.
    public var bytes: Double {
        let (oh, ow) = outputSize
        return 4 * Double(n * cin * h * w + n * cout * oh * ow + cout * (cin / groups) * kernel * kernel + cout)
    }

    /// Multiply-adds × 2.
    public var flops: Double {
        let (oh, ow) = outputSize
        return 2 * Double(n * cout * oh * ow * (cin / groups) * kernel * kernel)
    }

    /// MobileNet's depthwise layers (V2's 3×3, V3/EfficientNet's 5×5, stride 1 and 2) and the
    /// MobileNetV2 stem (3 → 32, 3×3, stride 2): the layers a 1×1 network runs between its
    /// pointwise convolutions, few FLOPs per byte (though on one core the 5×5 stride-1 layer and
    /// the stem have more than the machine's ridge point; see `MachineProfile.rooflineMilliseconds`).
    public static let mobileNet: [ConvolutionBenchmarkShape] = [
        .init(name: "dw3x3 s1 144ch 56×56", n: 1, cin: 144, cout: 144, h: 56, w: 56, kernel: 3, stride: 1, padding: 1, groups: 144),
        .init(name: "dw3x3 s2 96ch 112×112", n: 1, cin: 96, cout: 96, h: 112, w: 112, kernel: 3, stride: 2, padding: 1, groups: 96),
        .init(name: "dw5x5 s1 240ch 28×28", n: 1, cin: 240, cout: 240, h: 28, w: 28, kernel: 5, stride: 1, padding: 2, groups: 240),
        .init(name: "dw5x5 s2 672ch 14×14", n: 1, cin: 672, cout: 672, h: 14, w: 14, kernel: 5, stride: 2, padding: 2, groups: 672),
        .init(name: "stem 3→32 3x3 s2 224", n: 1, cin: 3, cout: 32, h: 224, w: 224, kernel: 3, stride: 2, padding: 1, groups: 1),
    ]
}

/// The timing of one convolution layer on the fast path, against the copy bandwidth.
public struct ConvolutionBenchmarkResult: Sendable, Codable {
    public var name: String
    /// Median milliseconds of the forward pass (output buffer reused).
    public var milliseconds: Double
    /// `bytes` / time, in GB/s.
    public var gigabytesPerSecond: Double
    /// gigabytesPerSecond / the measured copy bandwidth.
    public var bandwidthFraction: Double
    /// GFLOP/s.
    public var gflops: Double
    /// The roofline's least time (`MachineProfile.rooflineMilliseconds`) / the measured time.
    public var rooflineFraction: Double

    enum CodingKeys: String, CodingKey {
        case name, milliseconds = "ms", gigabytesPerSecond = "gb_per_s", bandwidthFraction = "bandwidth_fraction", gflops
        case rooflineFraction = "roofline_fraction"
    }
}

extension Benchmark {
    /// Times `shape` (with bias, ReLU6 fused, in `layout`) on the fast path, and compares the bytes
    /// it must move with the machine's copy bandwidth.
    /// - Throws: `LayerError` for a layer that cannot be built.
    public static func runConvolution(
        _ shape: ConvolutionBenchmarkShape, threads: Int, machine: MachineProfile, layout: Layout = .channelsFirst
    ) throws -> ConvolutionBenchmarkResult {
        var random = SplitMix64(seed: 1)
        let conv = try Conv2d(
            inputChannels: shape.cin, outputChannels: shape.cout, kernelSize: shape.kernel, stride: shape.stride,
            padding: .symmetric(shape.padding), groups: shape.groups, activation: .relu6, seed: 1)
        let x = try randomTensor([shape.n, shape.cin, shape.h, shape.w], layout: layout, using: &random)
        let options = ExecutionOptions(threads: threads)
        var y = try conv(x, options: options)
        let milliseconds = medianMilliseconds(minimumRuns: 20, minimumSeconds: 0.5) { try! conv.forward(x, into: &y, options: options) }
        let gigabytesPerSecond = shape.bytes / milliseconds / 1e6
        return ConvolutionBenchmarkResult(
            name: shape.name, milliseconds: milliseconds, gigabytesPerSecond: gigabytesPerSecond,
            bandwidthFraction: gigabytesPerSecond / machine.copyGbps, gflops: shape.flops / milliseconds / 1e6,
            rooflineFraction: machine.rooflineMilliseconds(flops: shape.flops, bytes: shape.bytes) / milliseconds)
    }
}
