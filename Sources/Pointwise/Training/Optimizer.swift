/// An optimizer: one update step per parameter, from its gradient, with PyTorch's formulas.
///
/// Per-parameter state (momentum buffers, moment estimates, step counts) is kept by the optimizer,
/// keyed by the parameter object, so one optimizer serves one set of parameters.
public protocol Optimizer {
    /// The step size; learning-rate schedules set it before each epoch.
    var learningRate: Float { get set }

    /// Updates `parameter.value` in place from `parameter.gradient` (and the optimizer's state for
    /// this parameter).
    mutating func update(_ parameter: Parameter)
}

extension Optimizer {
    /// Updates every parameter, in order.
    public mutating func step(_ parameters: [Parameter]) {
        for parameter in parameters { update(parameter) }
    }
}

/// Per-parameter buffers of an optimizer, made zero-filled on a parameter's first update.
struct OptimizerState {
    private var buffers: [ObjectIdentifier: (parameter: Parameter, steps: Int, buffers: [[Float]])] = [:]

    /// Calls `body` with the number of earlier updates of `parameter` and its `count` buffers.
    mutating func withState(
        of parameter: Parameter, buffers count: Int, _ body: (Int, inout [[Float]]) -> Void
    ) {
        let key = ObjectIdentifier(parameter)
        var entry = buffers.removeValue(forKey: key)
            ?? (parameter, 0, Array(repeating: Array(repeating: 0, count: parameter.count), count: count))
        body(entry.steps, &entry.buffers)
        entry.steps += 1
        buffers[key] = entry
    }
}
