import ArgumentParser
import Foundation
import Pointwise

/// `pointwise merge`: assembles the part files of a sharded run into its output.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assemble the part files of a sharded run (apply or predict --shard I/N) into one .npy file.",
        discussion: """
            Give all N parts, in any order. They are checked first: each must be a part written by \
            --shard, all from the same job (same model, input shape and layout), shards 0 to N-1 each \
            exactly once. The result is byte for byte the file one unsharded run writes. It is \
            streamed (parts memory-mapped, a chunk at a time) and renamed into place when complete.
            """)

    @Argument(help: ArgumentHelp("The part files.", valueName: "PART"))
    var parts: [String]

    @Option(help: ArgumentHelp("The merged output (.npy).", valueName: "Y.npy"))
    var output: String

    func run() throws {
        guard !parts.isEmpty else { throw CLIError("PART", "give the part files to merge") }
        try checkFiles(inputs: parts.map { ("PART", $0) }, outputs: [("--output", output)])
        do {
            try ShardMerge.merge(parts: parts, to: output)
        } catch {
            switch error {
            case .output: throw CLIError("--output", error)
            default: throw CLIError("PART", error)
            }
        }
    }
}
