/// One of `count` equal parts of a job, numbered from 0: `--shard 2/4` is the third quarter.
///
/// A job's output pixels (every position of every image, in file order) are cut into `count`
/// contiguous ranges that differ in size by at most one pixel; the cut depends only on the
/// number of pixels, so shards run with different memory budgets or thread counts still fit
/// together exactly.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// Which part, `0..<count`.
    public let index: Int
    /// How many parts.
    public let count: Int

    /// The shard `index` of `count`.
    /// - Throws: `StreamingError.shard` unless `0 ≤ index < count`.
    public init(index: Int, count: Int) throws(StreamingError) {
        guard count >= 1, (0..<count).contains(index) else {
            throw .shard("\(index)/\(count): need 0 ≤ I < N (shards are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`, as batch schedulers' array indices give it (`$SLURM_ARRAY_TASK_ID/4`).
    /// - Throws: `StreamingError.shard` for anything else.
    public init(parsing text: String) throws(StreamingError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .shard("'\(text)' is not I/N (e.g. 0/4)")
        }
        try self.init(index: index, count: count)
    }

    /// The whole job as one shard.
    public static let whole = try! Shard(index: 0, count: 1)

    /// "I/N".
    public var description: String { "\(index)/\(count)" }

    /// This shard's pixels among `total`.
    public func pixels(of total: Int) -> Range<Int> {
        bound(index, total)..<bound(index + 1, total)
    }

    /// ⌊i·total/count⌋ without overflow for any total below 2⁶³.
    private func bound(_ i: Int, _ total: Int) -> Int {
        let (high, low) = i.multipliedFullWidth(by: total)
        return Int(truncatingIfNeeded: count.dividingFullWidth((high, low)).quotient)
    }
}
