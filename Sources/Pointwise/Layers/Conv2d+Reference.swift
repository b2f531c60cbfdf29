// The direct method: the definition's loops, one output element at a time, accumulating in
// double precision. It shares no code with the fast paths, which makes it their test oracle.

extension Conv2d {
    /// Per-group channel counts.
    var groupInputs: Int { inputChannels / groups }
    var groupOutputs: Int { outputChannels / groups }

    /// Calls `body(c, i, kh, kw, index)` for every tap of output (n, o, oh, ow) that lands inside
    /// the input: input channel c (i-th of its group) at memory index `index`.
    private func forEachTap(
        _ x: Tensor, _ g: Conv2dGeometry, batch n: Int, channel o: Int, row oh: Int, column ow: Int,
        _ body: (_ c: Int, _ i: Int, _ kh: Int, _ kw: Int, _ index: Int) -> Void
    ) {
        let first = o / groupOutputs * groupInputs
        for i in 0..<groupInputs {
            for kh in 0..<kernelHeight {
                let ih = g.inputRow(oh, kh)
                guard ih >= 0, ih < g.height else { continue }
                for kw in 0..<kernelWidth {
                    let iw = g.inputColumn(ow, kw)
                    guard iw >= 0, iw < g.width else { continue }
                    body(first + i, i, kh, kw, x.memoryIndex(batch: n, channel: first + i, position: ih * g.width + iw))
                }
            }
        }
    }

    /// The flat index of weight[o, i, kh, kw].
    private func weightIndex(_ o: Int, _ i: Int, _ kh: Int, _ kw: Int) -> Int {
        ((o * groupInputs + i) * kernelHeight + kh) * kernelWidth + kw
    }

    /// z[n, o, oh, ow] = bias[o] + Σ weight[o, i, kh, kw] · x[n, c, ih, iw], in Double.
    private func referencePreActivation(
        _ x: Tensor, _ g: Conv2dGeometry, batch n: Int, channel o: Int, row oh: Int, column ow: Int
    ) -> Double {
        var z = Double(bias?[o] ?? 0)
        forEachTap(x, g, batch: n, channel: o, row: oh, column: ow) { _, i, kh, kw, index in
            z += Double(weight.pointer[weightIndex(o, i, kh, kw)]) * Double(x.pointer[index])
        }
        return z
    }

    /// Calls `body(n, o, oh, ow, index)` for every output element, with its memory index in `output`.
    private func forEachOutput(_ output: Tensor, _ g: Conv2dGeometry, _ body: (Int, Int, Int, Int, Int) -> Void) {
        for n in 0..<output.batchSize {
            for o in 0..<outputChannels {
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        body(n, o, oh, ow, output.memoryIndex(batch: n, channel: o, position: oh * g.outputWidth + ow))
                    }
                }
            }
        }
    }

    // x: [N, Cin, H, W]  →  y: [N, Cout, H', W'], same layout.
    func referenceForward(_ x: Tensor, geometry g: Conv2dGeometry, activation: Activation, into output: inout Tensor) {
        let y = output.mutablePointer()
        forEachOutput(output, g) { n, o, oh, ow, index in
            y[index] = Float(activation.reference(referencePreActivation(x, g, batch: n, channel: o, row: oh, column: ow)))
        }
    }

    // MARK: - Backward

    /// dz = dy · act'(z), with z recomputed in double precision (dy in x's layout).
    func referencePreActivationGradient(_ x: Tensor, geometry g: Conv2dGeometry, outputGradient dy: Tensor) -> Tensor {
        var dz = Tensor.zeros(like: dy)
        let target = dz.mutablePointer()
        forEachOutput(dy, g) { n, o, oh, ow, index in
            let z = referencePreActivation(x, g, batch: n, channel: o, row: oh, column: ow)
            target[index] = Float(Double(dy.pointer[index]) * activation.referenceDerivative(z))
        }
        return dz
    }

    // dz: [N, Cout, H', W']  x: [N, Cin, H, W]  →  dx += Σ W·dz over the taps that read x,
    // dW += Σ dz·x over the taps, db += Σ dz; sums in Double, added once at the end.
    func referenceBackward(
        _ x: Tensor, geometry g: Conv2dGeometry, preActivationGradient dz: Tensor, into gradients: inout Gradients
    ) {
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: outputChannels)
        forEachOutput(dz, g) { n, o, oh, ow, index in
            let gradient = Double(dz.pointer[index])
            db[o] += gradient
            forEachTap(x, g, batch: n, channel: o, row: oh, column: ow) { _, i, kh, kw, input in
                let w = weightIndex(o, i, kh, kw)
                dx[input] += Double(weight.pointer[w]) * gradient
                dw[w] += Double(x.pointer[input]) * gradient
            }
        }
        let dxTarget = gradients.input.mutablePointer(), dwTarget = gradients.weight.mutablePointer()
        for i in dx.indices { dxTarget[i] += Float(dx[i]) }
        for i in dw.indices { dwTarget[i] += Float(dw[i]) }
        if gradients.bias != nil {
            for o in db.indices { gradients.bias![o] += Float(db[o]) }
        }
    }
}
