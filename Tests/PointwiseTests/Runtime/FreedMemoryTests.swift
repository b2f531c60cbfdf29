import Testing
@testable import Pointwise

@Suite("FreedMemory")
struct FreedMemoryTests {
    @Test("with freed memory retained, a tensor of a training step's size comes from the allocator's heap, and its memory stays there once freed")
    func largeTensorsStayInTheHeap() throws {
        #if canImport(Glibc)
        #expect(FreedMemory.retain())
        let bytes = 6_272 * 256 * 4  // [32·14·14, 256] floats: a `bench --train` activation
        let before = try #require(FreedMemory.statistics)
        var tensor: Tensor? = try Tensor(zeros: [6_272, 256], layout: .channelsLast)
        let held = try #require(FreedMemory.statistics)
        // Not a mapping of its own (other tests may allocate meanwhile, but not blocks this large).
        #expect(held.mapped - before.mapped < bytes, "mapped \(before.mapped) → \(held.mapped)")
        tensor = nil
        let after = try #require(FreedMemory.statistics)
        #expect(after.heap >= held.heap - bytes / 2, "heap \(held.heap) → \(after.heap) once freed")
        #expect(after.free - held.free >= bytes / 2, "free \(held.free) → \(after.free) once freed")
        _ = tensor
        #endif
    }
}
