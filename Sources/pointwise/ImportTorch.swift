import ArgumentParser
import Foundation
import Pointwise

/// `pointwise import-torch`: a PyTorch checkpoint to safetensors, without Python.
struct ImportTorch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-torch",
        abstract: "Convert a PyTorch checkpoint (.pth/.pt, zip or legacy format) to safetensors, without Python.",
        discussion: """
            The checkpoint is read with a restricted unpickler: only the globals a state_dict needs \
            (tensor rebuilders, storage types, OrderedDict) are allowed, and nothing in the file is \
            ever executed; any other global is refused with an error naming it. Tensors keep their \
            names, shapes and element types; a state_dict nested under `state_dict` or `model` is \
            unwrapped. The output is written atomically.
            """)

    @Argument(help: ArgumentHelp("The PyTorch checkpoint.", valueName: "CHECKPOINT"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The safetensors file to write.", valueName: "WEIGHTS.safetensors"))
    var output: String

    func run() throws {
        let start = Date()
        try checkFiles(inputs: [("CHECKPOINT", checkpoint)], outputs: [("--output", output)])
        let arrays: [(name: String, array: RawArray)]
        do { arrays = try TorchCheckpoint.read(path: checkpoint) } catch { throw CLIError("CHECKPOINT", error) }
        do { try SafeTensors.write(arrays, metadata: ["format": "pt"], to: output) } catch {
            throw CLIError("--output", error)
        }
        let bytes = arrays.reduce(0) { $0 + $1.array.bytes.count }
        printError(String(format: "%d tensors, %.1f MB, in %.0f ms → %@", arrays.count, Double(bytes) / 1e6,
                          Date().timeIntervalSince(start) * 1000, output))
    }
}
