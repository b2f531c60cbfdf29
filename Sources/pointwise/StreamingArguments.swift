import ArgumentParser
import Foundation
import Pointwise

/// The options of the commands that stream files in bounded memory (`apply`, `predict`).
struct StreamingArguments: ParsableArguments {
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Memory budget (bytes, or with K, M, G: 512M, 2G; default 1G).", valueName: "SIZE"),
            transform: MemorySize.init(parsing:))
    var maxMemory: MemorySize = MemorySize(bytes: 1 << 30)

    @Option(parsing: .unconditional, help: ArgumentHelp("Compute only shard I of N (from 0) into a part file for `pointwise merge`.",
                               valueName: "I/N"))
    var shard: String?

    /// The library's options; progress is drawn on a terminal, labelled `label`.
    func options(threads: Int, algorithm: Algorithm = .fast, label: String) throws -> StreamingOptions {
        let shard: Shard?
        do { shard = try self.shard.map { text throws(StreamingError) in try Shard(parsing: text) } } catch {
            throw CLIError("--shard", error)
        }
        return StreamingOptions(maxMemory: maxMemory.bytes, shard: shard,
                                execution: ExecutionOptions(threads: threads, algorithm: algorithm),
                                progress: ProgressLine.ifTerminal(label))
    }

    /// The argument a streaming error is about: `input`'s for the input file, and so on.
    static func subject(of error: StreamingError, input: String, residual: String? = nil, model: String) -> String {
        switch error {
        case .input(let error) where residual.map({ error.description.hasPrefix($0) }) ?? false: "--residual"
        case .input: "--input"
        case .shape(let path, _): path == residual ? "--residual" : "--input"
        case .memoryBudget: "--max-memory"
        case .shard: "--shard"
        case .output, .part: "--output"
        case .model: model
        }
    }
}
