/// Why a streamed job (`Conv1x1.stream`, `PixelNetwork.stream`, `ShardMerge`) could not run.
/// Every message names the file or setting at fault.
public enum StreamingError: Error, CustomStringConvertible, Equatable {
    /// An input file could not be opened or is not a usable .npy file.
    case input(NPYError)
    /// An input's shape does not fit the job: the file and the problem.
    case shape(path: String, problem: String)
    /// The memory budget cannot hold even a small tile: the budget, the least that works, and the
    /// smallest tile it was computed for (pixels, and bytes per pixel).
    case memoryBudget(bytes: Int, minimum: Int, tilePixels: Int, bytesPerPixel: Int)
    /// A bad `I/N` shard.
    case shard(String)
    /// The output could not be written.
    case output(FileAccessError)
    /// A shard part cannot be read or does not fit with the others: the file and the problem.
    case part(path: String, problem: String)
    /// The model failed on a tile (a programmer error surfaced as a message).
    case model(String)

    /// A sentence naming the file or setting and the problem.
    public var description: String {
        switch self {
        case .input(let error): error.description
        case .shape(let path, let problem): "\(path): \(problem)"
        case .memoryBudget(let bytes, let minimum, let tilePixels, let bytesPerPixel):
            "a memory budget of \(bytes.grouped) bytes is too small for this job; it needs at least \(minimum.grouped) bytes "
                + "(\(minimum >> 20) MiB): \(StreamingOptions.fixedAllowance >> 20) MiB for the program itself (code, "
                + "runtime, weights, kernel buffers) plus a tile of \(tilePixels.grouped) pixels at "
                + "\(bytesPerPixel.grouped) bytes each"
        case .shard(let problem): "shard \(problem)"
        case .output(let error): error.description
        case .part(let path, let problem): "\(path): \(problem)"
        case .model(let problem): problem
        }
    }
}
