// The direct method: the definition's loops, one output element at a time, accumulating in
// double precision. It shares no code with the fast path, which makes it the test oracle.

extension Conv1x1 {
    /// z[n, o, s] = bias[o] + Σ_i W[o, i] · x[n, g·Cin/G + i, s] + residual[n, o, s], in Double.
    private func referencePreActivation(
        _ x: Tensor, residual: Tensor?, batch n: Int, channel o: Int, position s: Int
    ) -> Double {
        let g = o / groupOutputs, w = weight.pointer + o * groupInputs
        let input = x.pointer + x.memoryIndex(batch: n, channel: g * groupInputs, position: s)
        var z = Double(bias?[o] ?? 0)
        for i in 0..<groupInputs { z += Double(w[i]) * Double(input[i * x.strides.channel]) }
        if let residual { z += Double(residual.pointer[residual.memoryIndex(batch: n, channel: o, position: s)]) }
        return z
    }

    // x: [N, Cin, *S] (on the output grid)  →  y: [N, Cout, *S], same layout.
    func referenceForward(_ x: Tensor, residual: Tensor?, activation: Activation, into output: inout Tensor) {
        let y = output.mutablePointer()
        for n in 0..<x.batchSize {
            for o in 0..<outputChannels {
                for s in 0..<x.pixelsPerImage {
                    let z = referencePreActivation(x, residual: residual, batch: n, channel: o, position: s)
                    y[output.memoryIndex(batch: n, channel: o, position: s)] = Float(activation.reference(z))
                }
            }
        }
    }

    // MARK: - Backward

    /// dz = dy · act'(z), with z recomputed in double precision.
    func referencePreActivationGradient(_ x: Tensor, residual: Tensor?, outputGradient dy: Tensor) -> Tensor {
        var dz = Tensor.zeros(like: dy)
        let target = dz.mutablePointer()
        for n in 0..<x.batchSize {
            for o in 0..<outputChannels {
                for s in 0..<x.pixelsPerImage {
                    let z = referencePreActivation(x, residual: residual, batch: n, channel: o, position: s)
                    let index = dy.memoryIndex(batch: n, channel: o, position: s)
                    target[index] = Float(Double(dy.pointer[index]) * activation.referenceDerivative(z))
                }
            }
        }
        return dz
    }

    // dz: [N, Cout, *S]  x: [N, Cin, *S]  →  dx += Wᵀ·dz,  dW += Σ dz·xᵀ,  db += Σ dz.
    func referenceBackward(
        _ x: Tensor, preActivationGradient dz: Tensor, inputGradient: inout Tensor,
        weightGradient: inout Tensor, biasGradient: inout [Float]?
    ) {
        let dx = inputGradient.mutablePointer(), dw = weightGradient.mutablePointer()
        let (gin, gout, pixels, w) = (groupInputs, groupOutputs, x.pixelsPerImage, weight.pointer)
        for c in 0..<inputChannels {
            let g = c / gin
            for n in 0..<x.batchSize {
                for s in 0..<pixels {
                    var sum = 0.0
                    for o in g * gout..<(g + 1) * gout {
                        sum += Double(w[o * gin + c - g * gin]) * Double(dz.pointer[dz.memoryIndex(batch: n, channel: o, position: s)])
                    }
                    dx[inputGradient.memoryIndex(batch: n, channel: c, position: s)] += Float(sum)
                }
            }
        }
        for o in 0..<outputChannels {
            let g = o / gout
            for i in 0..<gin {
                var sum = 0.0
                for n in 0..<x.batchSize {
                    for s in 0..<pixels {
                        sum += Double(dz.pointer[dz.memoryIndex(batch: n, channel: o, position: s)])
                            * Double(x.pointer[x.memoryIndex(batch: n, channel: g * gin + i, position: s)])
                    }
                }
                dw[o * gin + i] += Float(sum)
            }
            if biasGradient != nil {
                var sum = 0.0
                for n in 0..<x.batchSize {
                    for s in 0..<pixels { sum += Double(dz.pointer[dz.memoryIndex(batch: n, channel: o, position: s)]) }
                }
                biasGradient![o] += Float(sum)
            }
        }
    }
}
