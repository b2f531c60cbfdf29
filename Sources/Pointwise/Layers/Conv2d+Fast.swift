extension Conv2d {
    /// Floats of patch matrix built at a time: output rows are taken in blocks whose im2col
    /// matrices (all groups) stay under this (8 MiB), whatever the image size.
    static let patchBudget = 1 << 21

    /// Output rows per patch block for `geometry`.
    private func rowBlock(_ g: Conv2dGeometry) -> Int {
        max(1, min(g.outputHeight, Self.patchBudget / max(1, g.outputWidth * inputChannels * g.taps)))
    }

    /// Calls `body(n, patches)` for every image and block of output rows, in order.
    private func forEachBlock(_ x: Tensor, _ g: Conv2dGeometry, _ body: (Int, PatchMatrix) -> Void) {
        let block = rowBlock(g)
        for n in 0..<x.batchSize {
            for first in Swift.stride(from: 0, to: g.outputHeight, by: block) {
                body(n, PatchMatrix(geometry: g, groupInputs: groupInputs, layout: x.layout,
                                    rows: first..<min(first + block, g.outputHeight)))
            }
        }
    }

    /// Whether the fast path runs the stem kernel, which writes either layout from either.
    var runsStemKernel: Bool {
        !stemWeights.isEmpty && !runsDepthwiseKernel
    }

    /// Whether the fast path runs the depthwise kernels.
    private var runsDepthwiseKernel: Bool {
        isDepthwise && Depthwise.supports(kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride,
                                          dilation: dilation)
    }

    // x: [N, Cin, H, W]  →  y: [N, Cout, H', W'], same layout (the stem kernel: either layout).
    // Depthwise 3×3 and 5×5 on their own kernels; the rest per image and block of output rows,
    // per group: channels-first Y_g [Cout/G × P] = W_g [Cout/G × Cin/G·KH·KW] · patches_g,
    // channels-last Y_g [P × Cout/G] = patches_g · W_gᵀ, the bias and activation fused into the
    // GEMM's epilogue.
    func fastForward(
        _ x: Tensor, geometry g: Conv2dGeometry, activation: Activation, into output: inout Tensor,
        threads: Int, kernels: KernelConfig
    ) {
        let y = output.mutablePointer()
        let (cout, gout, pixels) = (outputChannels, groupOutputs, g.outputPixels)
        (bias ?? []).withUnsafeBufferPointer { biasBuffer in
            let bias = self.bias == nil ? nil : biasBuffer.baseAddress
            if runsDepthwiseKernel {
                depthwiseTaps.withUnsafeBufferPointer { taps in
                    Depthwise.forward(x, geometry: g, weight: weight.pointer, taps: taps.baseAddress!, bias: bias,
                                      activation: activation, into: &output, threads: threads, kernels: kernels)
                }
                return
            }
            if runsStemKernel {
                stemWeights.withUnsafeBufferPointer { packed in
                    Stem.forward(x, geometry: g, packedWeight: packed.baseAddress!, bias: bias, activation: activation,
                                 into: &output, threads: threads, kernels: kernels)
                }
                return
            }
            let matrix = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock(g) * g.outputWidth * inputChannels * g.taps)
            defer { matrix.deallocate() }
            forEachBlock(x, g) { n, patches in
                patches.gather(x, image: n, into: matrix, threads: threads)
                let (k, p, first) = (patches.patchSize, patches.pixels, patches.rows.lowerBound * g.outputWidth)
                let problems = (0..<groups).map { group in
                    let a = matrix + group * patches.groupStride, groupBias = bias.map { $0 + group * gout }
                    switch x.layout {
                    case .channelsFirst:
                        return GemmProblem(
                            m: gout, n: p, k: k, a: .packed(packed[.forwardChannelsFirst][group]),
                            b: .view(MatrixView(base: a, rowStride: p, columnStride: 1)),
                            c: y + (n * cout + group * gout) * pixels + first, ldc: pixels,
                            epilogue: GemmEpilogue(bias: groupBias, activation: activation))
                    case .channelsLast:
                        return GemmProblem(
                            m: p, n: gout, k: k, a: .view(MatrixView(base: a, rowStride: k, columnStride: 1)),
                            b: .packed(packedChannelsLast[.forwardChannelsLast][group]),
                            c: y + (n * pixels + first) * cout + group * gout, ldc: cout,
                            epilogue: GemmEpilogue(bias: groupBias, biasPerColumn: true, activation: activation))
                    }
                }
                Gemm.run(problems, threads: threads, kernels: kernels, disjointOutputs: true)
            }
        }
    }

    // MARK: - Backward

    // dz: [N, Cout, H', W']  x: [N, Cin, H, W]  →  per image, block and group:
    // dW_g += dZ_g · patches_gᵀ, patch gradients = W_gᵀ · dZ_g scattered back into dx (col2im),
    // db += Σ dz. Channels-last dW comes out in (kh, kw, i) order and is reordered once at the end.
    func fastBackward(
        _ x: Tensor, geometry g: Conv2dGeometry, preActivationGradient dz: Tensor, into gradients: inout Gradients,
        threads: Int, kernels: KernelConfig
    ) {
        if gradients.bias != nil { dz.addChannelSums(into: &gradients.bias!) }
        let (cout, gout, pixels, fanIn) = (outputChannels, groupOutputs, g.outputPixels, groupInputs * g.taps)
        let capacity = rowBlock(g) * g.outputWidth * inputChannels * g.taps
        let matrix = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        let matrixGradient = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        defer { matrix.deallocate(); matrixGradient.deallocate() }
        var reordered = x.layout == .channelsLast ? [Float](repeating: 0, count: weight.count) : []
        let dw = x.layout == .channelsFirst ? gradients.weight.mutablePointer() : nil
        let dx = gradients.input.mutablePointer()
        reordered.withUnsafeMutableBufferPointer { reordered in
            let dw = dw ?? reordered.baseAddress!
            forEachBlock(x, g) { n, patches in
                patches.gather(x, image: n, into: matrix, threads: threads)
                let (k, p, first) = (patches.patchSize, patches.pixels, patches.rows.lowerBound * g.outputWidth)
                var weightProblems: [GemmProblem] = [], inputProblems: [GemmProblem] = []
                for group in 0..<groups {
                    let a = matrix + group * patches.groupStride, da = matrixGradient + group * patches.groupStride
                    switch x.layout {
                    case .channelsFirst:
                        let dzBlock = dz.pointer + (n * cout + group * gout) * pixels + first
                        weightProblems.append(GemmProblem(
                            m: gout, n: k, k: p, a: .view(MatrixView(base: dzBlock, rowStride: pixels, columnStride: 1)),
                            b: .view(MatrixView(base: a, rowStride: 1, columnStride: p)),
                            c: dw + group * gout * fanIn, ldc: fanIn, accumulate: true))
                        inputProblems.append(GemmProblem(
                            m: k, n: p, k: gout, a: .packed(packed[.inputGradientChannelsFirst][group]),
                            b: .view(MatrixView(base: dzBlock, rowStride: pixels, columnStride: 1)), c: da, ldc: p))
                    case .channelsLast:
                        let dzBlock = dz.pointer + (n * pixels + first) * cout + group * gout
                        weightProblems.append(GemmProblem(
                            m: gout, n: k, k: p, a: .view(MatrixView(base: dzBlock, rowStride: 1, columnStride: cout)),
                            b: .view(MatrixView(base: a, rowStride: k, columnStride: 1)),
                            c: dw + group * gout * fanIn, ldc: fanIn, accumulate: true))
                        inputProblems.append(GemmProblem(
                            m: p, n: k, k: gout, a: .view(MatrixView(base: dzBlock, rowStride: cout, columnStride: 1)),
                            b: .packed(packedChannelsLast[.inputGradientChannelsLast][group]), c: da, ldc: k))
                    }
                }
                Gemm.run(weightProblems, threads: threads, kernels: kernels)
                Gemm.run(inputProblems, threads: threads, kernels: kernels, disjointOutputs: true)
                patches.scatterAdd(matrixGradient, into: gradients.input, target: dx, image: n, threads: threads)
            }
        }
        guard x.layout == .channelsLast else { return }
        // [Cout, tap, i] → [Cout, i, tap]
        let target = gradients.weight.mutablePointer(), (gin, taps) = (groupInputs, g.taps)
        for o in 0..<cout {
            for i in 0..<gin {
                for t in 0..<taps { target[(o * gin + i) * taps + t] += reordered[(o * taps + t) * gin + i] }
            }
        }
    }
}
