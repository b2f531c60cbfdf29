import Testing
@testable import Pointwise

/// The roofline bound the benchmark tables report against: the longer of the FLOPs at the FMA
/// peak and the bytes at the copy bandwidth.
@Suite struct RooflineTests {
    /// A machine like the one the README's tables were measured on.
    let machine = MachineProfile(fmaPeakGflops: 100, copyGbps: 20, threads: 1)

    @Test("a shape with few FLOPs per byte is bound by its bytes, one with many by its FLOPs")
    func boundByTheLongerTime() {
        // 13→8 at 512×512: 54.5 MFLOP (0.545 ms at the peak), 22.0 MB (1.10 ms at the bandwidth).
        let msi = BenchmarkShape(name: "msi", n: 1, cin: 13, cout: 8, h: 512, w: 512)
        #expect(abs(machine.rooflineMilliseconds(flops: msi.flops, bytes: msi.bytes) - msi.bytes / 20e6) < 1e-12)
        #expect(msi.bytes / 20e6 > msi.flops / 100e6)
        // 16→96 at 112×112 counts as memory-bound by its channels, yet its 38.5 MFLOP take
        // 0.385 ms at the peak and its 5.6 MB 0.281 ms at the bandwidth: compute is the bound,
        // and at the bound the shape moves only 73% of the copy bandwidth.
        let expansion = BenchmarkShape(name: "16to96", n: 1, cin: 16, cout: 96, h: 112, w: 112)
        #expect(expansion.isMemoryBound)
        let bound = machine.rooflineMilliseconds(flops: expansion.flops, bytes: expansion.bytes)
        #expect(abs(bound - expansion.flops / 100e6) < 1e-12)
        let bandwidthAtBound = expansion.bytes / bound / 1e6 / machine.copyGbps
        #expect(bandwidthAtBound > 0.72 && bandwidthAtBound < 0.74)
    }

    @Test("the depthwise table's roofline uses the layer's own FLOPs and bytes")
    func convolutionShapes() {
        // EfficientNet's 5×5 layer at 28×28, 240 channels: 9.4 MFLOP against 1.53 MB.
        let layer = ConvolutionBenchmarkShape.mobileNet[2]
        #expect(layer.kernel == 5 && layer.stride == 1 && layer.cin == 240)
        #expect(abs(layer.flops - 2 * 240 * 25 * 784) < 0.5)
        let bound = machine.rooflineMilliseconds(flops: layer.flops, bytes: layer.bytes)
        #expect(bound == max(layer.flops / 100e6, layer.bytes / 20e6))
        #expect(bound == layer.flops / 100e6)
    }
}
