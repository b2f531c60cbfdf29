import Dispatch
import Foundation

/// Splitting work across an explicit number of threads.
enum Parallel {
    /// The number of CPUs this process may run on: the default thread count.
    static var availableProcessors: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Calls `body(t)` for t in 0..<`count`, concurrently when `count` > 1, and returns when all
    /// calls have. Each `t` is one worker's share of the work, decided by the caller, so how the
    /// work is divided never depends on scheduling.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            body(0)
        } else {
            // The workers write disjoint parts of the output through raw pointers, which the
            // compiler cannot see; the closure is only shared for the duration of this call.
            withoutActuallyEscaping(body) { body in
                let shared = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
            }
        }
    }
}

/// A value handed to other threads under the caller's guarantee that they use it safely.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
