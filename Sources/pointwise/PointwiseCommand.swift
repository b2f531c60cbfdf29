import ArgumentParser
import Foundation
import Pointwise

/// `pointwise`: 1×1 convolutions from the command line.
@main
struct PointwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pointwise",
        abstract: "1×1 (pointwise) convolutions: apply them to .npy files, train per-pixel networks, classify pictures with pretrained EfficientNet-Lite0, benchmark them.",
        subcommands: [
            TourCommand.self, Apply.self, Classify.self, Models.self, ImportTorch.self, PCA.self, Compress.self, Cost.self,
            Visualize.self, Bench.self, Train.self, Predict.self, Merge.self,
        ])

    /// Runs the command; every user error exits with status 2 and one `error: …` line.
    static func main() {
        // Ctrl-C or a scheduler's SIGTERM removes half-written temporary files; outputs are only
        // ever renamed into place, so they are complete or absent.
        InterruptCleanup.install()
        // Training steps and benchmarks free and reallocate tensors of megabytes every step.
        FreedMemory.retain()
        do {
            try checkHelpTopic(Array(CommandLine.arguments.dropFirst()))
            if let problem = KernelConfig.environmentProblem { throw CLIError("POINTWISE_KERNELS", problem) }
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = (error as? CLIError)?.description ?? message(for: error)
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            if !(error is CLIError), let usage = usageHint(for: error) {
                FileHandle.standardError.write(Data(usage.utf8))
            }
            Foundation.exit(2)
        }
    }

    /// Refuses `pointwise help NAME …` naming no subcommand (swift-argument-parser's help command
    /// ignores unknown names and prints the top-level help with status 0).
    private static func checkHelpTopic(_ arguments: [String]) throws {
        guard arguments.first == "help" else { return }
        var subcommands: [any ParsableCommand.Type] = configuration.subcommands
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            var names: [String] = []
            for subcommand in subcommands { names.append(subcommand._commandName) }
            guard let index = names.firstIndex(of: name) else {
                throw CLIError("help", "unknown subcommand '\(name)'"
                               + (names.isEmpty ? "" : "; the subcommands are: \(names.joined(separator: ", "))"))
            }
            subcommands = subcommands[index].configuration.subcommands
        }
    }

    /// The usage line of the subcommand that failed to parse, or nil for errors raised while running.
    private static func usageHint(for error: Error) -> String? {
        let full = fullMessage(for: error)
        guard let range = full.range(of: "Usage:") else { return nil }
        return String(full[range.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
    }
}

/// An error for the user: which argument or file, and what is wrong with it.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    /// `subject: problem`, e.g. `--weight w.npy: shape [3] …`.
    init(_ subject: String, _ problem: CustomStringConvertible) {
        description = "\(subject): \(problem)"
    }

    init(_ message: String) { description = message }
}

/// `--threads`, or every CPU (up to `ExecutionOptions.maximumThreads`) when it is not given.
/// - Throws: `CLIError` naming `--threads` for a count outside 1…`ExecutionOptions.maximumThreads`.
func threadCount(_ threads: Int?) throws -> Int {
    let maximum = ExecutionOptions.maximumThreads
    guard let threads else { return min(ProcessInfo.processInfo.activeProcessorCount, maximum) }
    guard (1...maximum).contains(threads) else { throw CLIError("--threads", "must be in 1…\(maximum), got \(threads)") }
    return threads
}

/// Writes a line to standard error (progress and diagnostics; standard output is for results).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
