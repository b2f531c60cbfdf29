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
}
