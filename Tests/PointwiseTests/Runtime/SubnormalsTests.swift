import Testing
@testable import Pointwise

@Suite("Subnormals")
struct SubnormalsTests {
    /// Keeps the optimizer from folding the arithmetic at compile time.
    @inline(never) func product(_ a: Float, _ b: Float) -> Float { a * b }

    @Test("flush-to-zero turns subnormal results and inputs into zero, and is restored")
    func flushToZero() {
        let smallest = Float.leastNormalMagnitude
        let before = Subnormals.flushToZero(true)
        let flushedResult = product(smallest, 0.5)
        let flushedInput = product(Float.leastNonzeroMagnitude, 1e30)
        Subnormals.flushToZero(false)
        let ieeeResult = product(smallest, 0.5)
        Subnormals.flushToZero(before)
        #expect(flushedResult == 0)
        #expect(flushedInput == 0)
        #expect(ieeeResult == smallest / 2 && ieeeResult.isSubnormal)
    }

    @Test("the fast path reads subnormal weights and inputs as zero on every thread count, the caller's mode restored; the reference keeps IEEE")
    func fastPathFlushes() throws {
        let tiny = Float.leastNormalMagnitude / 16  // subnormal, and so is 6 × tiny
        let x = try Tensor(shape: [1, 3, 40, 40], values: (0..<4_800).map { Float($0 % 7) * tiny })
        let subnormalWeight = try Conv1x1(weight: Tensor(shape: [16, 3], values: [Float](repeating: tiny, count: 48)))
        let unitWeight = try Conv1x1(weight: Tensor(shape: [16, 3], values: [Float](repeating: 1, count: 48)))
        let before = Subnormals.flushToZero(false)
        defer { Subnormals.flushToZero(before) }
        for threads in [1, 2] {
            let options = ExecutionOptions(threads: threads)
            #expect(try subnormalWeight(x.converted(to: .channelsFirst), options: options).scalars.allSatisfy { $0 == 0 })
            #expect(try unitWeight(x, options: options).scalars.allSatisfy { $0 == 0 })
            #expect(product(Float.leastNormalMagnitude, 0.5).isSubnormal, "the caller's IEEE mode is back")
        }
        let reference = try unitWeight(x, options: ExecutionOptions(threads: 1, algorithm: .reference))
        #expect(reference.scalars.contains { $0.isSubnormal })
    }
}
