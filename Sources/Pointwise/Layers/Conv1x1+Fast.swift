import Foundation

/// The weights of one convolution packed for the microkernels, once per use, on first use.
final class PackedWeights: @unchecked Sendable {
    /// The four ways the GEMMs read the weights.
    enum Use: Hashable {
        /// W_g [Cout/G × Cin/G] as the A operand: channels-first forward, Y = W·X.
        case forwardChannelsFirst
        /// W_gᵀ [Cin/G × Cout/G] as the B operand: channels-last forward, Y = X·Wᵀ.
        case forwardChannelsLast
        /// W_gᵀ [Cin/G × Cout/G] as the A operand: channels-first input gradient, dX = Wᵀ·dZ.
        case inputGradientChannelsFirst
        /// W_g [Cout/G × Cin/G] as the B operand: channels-last input gradient, dX = dZ·W.
        case inputGradientChannelsLast
    }

    private let weight: Tensor
    private let groups: Int
    private let lock = NSLock()
    private var packed: [Use: [PackedMatrix]] = [:]

    init(weight: Tensor, groups: Int) {
        self.weight = weight
        self.groups = groups
    }

    /// Per group, the weights packed for `use`.
    subscript(use: Use) -> [PackedMatrix] {
        lock.withLock {
            if let existing = packed[use] { return existing }
            let made = pack(for: use)
            packed[use] = made
            return made
        }
    }

    private func pack(for use: Use) -> [PackedMatrix] {
        let outputs = weight.shape[0] / groups, inputs = weight.shape[1]
        return (0..<groups).map { g in
            let w = MatrixView(base: weight.pointer + g * outputs * inputs, rowStride: inputs, columnStride: 1)
            let wT = MatrixView(base: w.base, rowStride: 1, columnStride: inputs)
            switch use {
            case .forwardChannelsFirst: return PackedMatrix(side: .a, rows: outputs, columns: inputs, from: w)
            case .forwardChannelsLast: return PackedMatrix(side: .b, rows: inputs, columns: outputs, from: wT)
            case .inputGradientChannelsFirst: return PackedMatrix(side: .a, rows: inputs, columns: outputs, from: wT)
            case .inputGradientChannelsLast: return PackedMatrix(side: .b, rows: outputs, columns: inputs, from: w)
            }
        }
    }
}

extension Conv1x1 {
    /// Per-group channel counts.
    var groupInputs: Int { inputChannels / groups }
    var groupOutputs: Int { outputChannels / groups }

    // x: [N, Cin, *S] (already on the output grid)  →  y: [N, Cout, *S], same layout.
    // Channels-first, per image and group: Y_g [Cout/G × P] = W_g [Cout/G × Cin/G] · X_g [Cin/G × P],
    // weights packed, input read in place; for small, deep images whose pixels leave a ragged last
    // strip, its transpose Y_gᵀ = X_gᵀ · W_gᵀ instead (`Gemm.transposesChannelsFirst`); a batch of
    // them with one group runs those pixels of every image together (`Gemm.gatheredTailWidth`).
    // Channels-last, per group over all images at once: Y_g [N·P × Cout/G] = X_g [N·P × Cin/G] · W_gᵀ,
    // input read in place, weights packed.
    func fastForward(
        _ x: Tensor, residual: Tensor?, activation: Activation, into output: inout Tensor,
        threads: Int, kernels: KernelConfig
    ) {
        let pixels = x.pixelsPerImage, images = x.batchSize
        let (cin, cout, gin, gout) = (inputChannels, outputChannels, groupInputs, groupOutputs)
        let y = output.mutablePointer()
        let biasArray = bias ?? []
        biasArray.withUnsafeBufferPointer { biasBuffer in
            let bias = self.bias == nil ? nil : biasBuffer.baseAddress
            var problems: [GemmProblem] = []
            switch x.layout {
            case .channelsFirst:
                let transposed = Gemm.transposesChannelsFirst(outputs: gout, pixels: pixels, inputs: gin,
                                                              images: images, groups: groups)
                let packed = packed[transposed ? .forwardChannelsLast : .forwardChannelsFirst]
                for n in 0..<images {
                    for g in 0..<groups {
                        let offset = (n * cout + g * gout) * pixels
                        let image = x.pointer + (n * cin + g * gin) * pixels
                        let epilogue = GemmEpilogue(bias: bias.map { $0 + g * gout },
                                                    residual: residual.map { $0.pointer + offset },
                                                    residualStride: pixels, activation: activation)
                        problems.append(transposed
                            ? GemmProblem(m: pixels, n: gout, k: gin,
                                          a: .view(MatrixView(base: image, rowStride: 1, columnStride: pixels)),
                                          b: .packed(packed[g]), c: y + offset, ldc: pixels, epilogue: epilogue,
                                          storesTransposed: true)
                            : GemmProblem(m: gout, n: pixels, k: gin, a: .packed(packed[g]),
                                          b: .view(MatrixView(base: image, rowStride: pixels, columnStride: 1)),
                                          c: y + offset, ldc: pixels, epilogue: epilogue))
                    }
                }
            case .channelsLast:
                let packed = packed[.forwardChannelsLast]
                for g in 0..<groups {
                    problems.append(GemmProblem(
                        m: images * pixels, n: gout, k: gin,
                        a: .view(MatrixView(base: x.pointer + g * gin, rowStride: cin, columnStride: 1)),
                        b: .packed(packed[g]), c: y + g * gout, ldc: cout,
                        epilogue: GemmEpilogue(bias: bias.map { $0 + g * gout }, biasPerColumn: true,
                                               residual: residual.map { $0.pointer + g * gout },
                                               residualStride: cout, activation: activation)))
                }
            }
            Gemm.run(problems, threads: threads, kernels: kernels, disjointOutputs: true)
        }
    }

    // MARK: - Backward

    // dz: [N, Cout, *S]  x: [N, Cin, *S]  →  dx += Wᵀ·dz,  dW += Σ dz·xᵀ,  db += Σ dz.
    func fastBackward(
        _ x: Tensor, preActivationGradient dz: Tensor, inputGradient: inout Tensor,
        weightGradient: inout Tensor, biasGradient: inout [Float]?, threads: Int, kernels: KernelConfig
    ) {
        let problems = backwardProblems(x, preActivationGradient: dz, inputGradient: inputGradient.mutablePointer(),
                                        weightGradient: weightGradient.mutablePointer())
        Gemm.run(problems.input, threads: threads, kernels: kernels, disjointOutputs: true)
        Gemm.run(problems.weight, threads: threads, kernels: kernels)
        if biasGradient != nil { dz.addChannelSums(into: &biasGradient!) }
    }

    /// The GEMMs of the backward pass, which add dX into `dx` (laid out like `x`) and dW into `dw`
    /// (`[Cout, Cin/groups]`): one of each per group, and per image when channels-first.
    func backwardProblems(
        _ x: Tensor, preActivationGradient dz: Tensor, inputGradient dx: UnsafeMutablePointer<Float>,
        weightGradient dw: UnsafeMutablePointer<Float>
    ) -> (input: [GemmProblem], weight: [GemmProblem]) {
        let pixels = x.pixelsPerImage, images = x.batchSize
        let (cin, cout, gin, gout) = (inputChannels, outputChannels, groupInputs, groupOutputs)
        var inputProblems: [GemmProblem] = [], weightProblems: [GemmProblem] = []
        switch x.layout {
        case .channelsFirst:
            let packed = packed[.inputGradientChannelsFirst]
            for g in 0..<groups {
                for n in 0..<images {
                    let dzBlock = dz.pointer + (n * cout + g * gout) * pixels
                    let xOffset = (n * cin + g * gin) * pixels
                    // dX_g [Cin/G × P] += W_gᵀ [Cin/G × Cout/G] · dZ_g [Cout/G × P]
                    inputProblems.append(GemmProblem(
                        m: gin, n: pixels, k: gout,
                        a: .packed(packed[g]),
                        b: .view(MatrixView(base: dzBlock, rowStride: pixels, columnStride: 1)),
                        c: dx + xOffset, ldc: pixels, accumulate: true))
                    // dW_g [Cout/G × Cin/G] += dZ_g [Cout/G × P] · X_gᵀ [P × Cin/G]
                    weightProblems.append(GemmProblem(
                        m: gout, n: gin, k: pixels,
                        a: .view(MatrixView(base: dzBlock, rowStride: pixels, columnStride: 1)),
                        b: .view(MatrixView(base: x.pointer + xOffset, rowStride: 1, columnStride: pixels)),
                        c: dw + g * gout * gin, ldc: gin, accumulate: true))
                }
            }
        case .channelsLast:
            let rows = images * pixels
            let packed = packed[.inputGradientChannelsLast]
            for g in 0..<groups {
                // dX_g [N·P × Cin/G] += dZ_g [N·P × Cout/G] · W_g [Cout/G × Cin/G]
                inputProblems.append(GemmProblem(
                    m: rows, n: gin, k: gout,
                    a: .view(MatrixView(base: dz.pointer + g * gout, rowStride: cout, columnStride: 1)),
                    b: .packed(packed[g]),
                    c: dx + g * gin, ldc: cin, accumulate: true))
                // dW_g [Cout/G × Cin/G] += dZ_gᵀ [Cout/G × N·P] · X_g [N·P × Cin/G]
                weightProblems.append(GemmProblem(
                    m: gout, n: gin, k: rows,
                    a: .view(MatrixView(base: dz.pointer + g * gout, rowStride: 1, columnStride: cout)),
                    b: .view(MatrixView(base: x.pointer + g * gin, rowStride: cin, columnStride: 1)),
                    c: dw + g * gout * gin, ldc: gin, accumulate: true))
            }
        }
        return (inputProblems, weightProblems)
    }
}
