import Foundation
import Testing
@testable import Pointwise

/// The worker pool: every share runs exactly once, however the calls nest or overlap.
@Suite struct ParallelTests {
    /// Counts how many times each share ran (each share writes only its own slot).
    final class Counts: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Int>
        let count: Int
        init(_ count: Int) {
            self.count = count
            slots = .allocate(capacity: count)
            slots.initialize(repeating: 0, count: count)
        }
        deinit { slots.deallocate() }
        var all: [Int] { Array(UnsafeBufferPointer(start: slots, count: count)) }
    }

    @Test("each share runs once, for 0 to 9 shares, many times over")
    func everyShareOnce() {
        for count in 0...9 {
            let counts = Counts(max(count, 1))
            for _ in 0..<50 { Parallel.forEach(count) { counts.slots[$0] += 1 } }
            #expect(counts.all == (count == 0 ? [0] : [Int](repeating: 50, count: count)), "count \(count)")
        }
    }

    @Test("loops of changing widths, back to back (workers left out of one loop must not run the next twice)")
    func changingWidths() {
        let widths = [2, 7, 3, 5, 2, 6]
        let counts = Counts(7)
        var expected = [Int](repeating: 0, count: 7)
        for i in 0..<3000 {
            let width = widths[i % widths.count]
            Parallel.forEach(width) { counts.slots[$0] += 1 }
            for t in 0..<width { expected[t] += 1 }
        }
        #expect(counts.all == expected)
    }

    @Test("a loop inside a loop runs its shares serially and completes")
    func nested() {
        let counts = Counts(12)
        Parallel.forEach(3) { outer in
            Parallel.forEach(4) { inner in counts.slots[outer * 4 + inner] += 1 }
        }
        #expect(counts.all == [Int](repeating: 1, count: 12))
    }

    @Test("loops started from several threads at once all complete")
    func overlapping() {
        let counts = Counts(8 * 5)
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for _ in 0..<20 { Parallel.forEach(5) { counts.slots[caller * 5 + $0] += 1 } }
        }
        #expect(counts.all == [Int](repeating: 20, count: 40))
    }
}
