import Foundation

/// How a streamed job runs: memory budget, shard and threads.
public struct StreamingOptions: Sendable {
    /// The most memory the job may use, in bytes: tiles are sized so that the tile buffers, the
    /// mapped pages of the tile being read and a fixed allowance for the program itself fit.
    public var maxMemory: Int
    /// nil to write the whole output as one .npy file; otherwise only this shard's pixels go into
    /// a part file (safetensors, merged by `ShardMerge`).
    public var shard: Shard?
    /// Implementation and threads of the convolutions run on each tile.
    public var execution: ExecutionOptions
    /// Called after each tile with the pixels done and the pixels to do (of this shard).
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?
    /// Whether the job hands the pages it has read and written back to the system as it goes
    /// (drop-behind) rather than leaving them in the page cache; nil decides by size
    /// (`dropsPages(forBytes:)`).
    var dropsPages: Bool?

    /// Options with a 1 GiB budget, no shard and the default execution.
    public init(maxMemory: Int = 1 << 30, shard: Shard? = nil, execution: ExecutionOptions = ExecutionOptions(),
                progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) {
        self.maxMemory = maxMemory
        self.shard = shard
        self.execution = execution
        self.progress = progress
    }

    /// What the program needs besides the tiles: code, runtime, weights and kernel buffers.
    static let fixedAllowance = 48 << 20
    /// The largest tile worth having: bigger tiles only make the buffers fall out of cache.
    public static let largestTile = 1 << 16
    /// The smallest tile that still amortizes the per-tile work.
    static let smallestTile = 1 << 10

    /// Whether a job that reads and writes `bytes` drops its pages from the page cache behind it:
    /// when `dropsPages` says so, or else by `exceedsHalfOfMemory(_:)`.
    func dropsPages(forBytes bytes: Int) -> Bool {
        dropsPages ?? Self.exceedsHalfOfMemory(bytes)
    }

    /// Whether `bytes` exceed half of physical memory: the size from which streaming drops behind.
    /// Such files could not stay cached anyway, and a page cache filled with them makes every
    /// further copy into it slow: on this VM a cold 21.5 GB read took 30 s through the cache and
    /// 14 s when dropping behind (`dd iflag=nocache`). Smaller files stay cached for the next run.
    static func exceedsHalfOfMemory(_ bytes: Int) -> Bool {
        let memory = Int(sysconf(Int32(_SC_PHYS_PAGES))) * MappedFile.pageSize
        return memory > 0 && bytes > memory / 2
    }
}

/// What a streamed job did.
public struct StreamingReport: Sendable, Equatable {
    /// The output pixels (global numbers: image by image, position by position) this run wrote.
    public let pixels: Range<Int>
    /// Output pixels in the whole job.
    public let totalPixels: Int
    /// Pixels per tile.
    public let tilePixels: Int
    /// Tiles processed.
    public let tiles: Int
    /// Bytes of input (and residual) data read.
    public let bytesRead: Int
    /// Bytes of output data written (headers excluded).
    public let bytesWritten: Int
}
