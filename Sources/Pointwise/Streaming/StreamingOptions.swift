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
