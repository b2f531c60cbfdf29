import Foundation
import Pointwise

// The files a command reads and writes: checked before any work, and written so that a failed run
// leaves no output of its own behind.

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so the
/// destination is either untouched or complete, never half-written.
func writeAtomically(_ data: Data, to path: String, argument: String) throws {
    do { try AtomicFile.write(data, to: path) } catch { throw CLIError(argument, error) }
}

/// Checks, before any work, every file a command names: each input a readable regular file, each
/// output writable (its folder there, itself no folder or socket; see `AtomicFile.destination(for:)`),
/// each output folder a folder or creatable, and no output the same file as an input or as another
/// output. Arguments not given (nil paths) are skipped.
/// - Parameters:
///   - inputs: The files read, by argument (`--input`, `IMAGE`, …).
///   - outputs: The files written.
///   - folders: The folders written into (a model directory, the tour's pictures).
/// - Throws: `CLIError` naming the argument, the path as typed, and the problem.
func checkFiles(inputs: [(argument: String, path: String?)], outputs: [(argument: String, path: String?)],
                folders: [(argument: String, path: String)] = []) throws {
    let inputs = inputs.compactMap { entry in entry.path.map { (argument: entry.argument, path: $0) } }
    let outputs = outputs.compactMap { entry in entry.path.map { (argument: entry.argument, path: $0) } }
    for (argument, path) in inputs { try checkInput(path, argument: argument) }
    for (argument, path) in outputs {
        do { _ = try AtomicFile.destination(for: path) } catch { throw CLIError(argument, error) }
    }
    for (argument, path) in folders { try checkOutputFolder(path, argument: argument) }
    let written = folders + outputs
    for (index, output) in written.enumerated() {
        if let input = inputs.first(where: { AtomicFile.isSameFile(output.path, $0.path) }) {
            throw CLIError(output.argument, "\(output.path) is also the input \(input.argument) (\(input.path)); "
                           + "write the result to another file")
        }
        if let other = written[..<index].first(where: { AtomicFile.isSameFile(output.path, $0.path) }) {
            throw CLIError(output.argument, "\(output.path) is also the output \(other.argument) (\(other.path))")
        }
    }
}

/// Checks that `path` is a regular file that can be read (the readers' own check, so every input
/// argument gets the same message: `--weight: w.npy: not a regular file`).
func checkInput(_ path: String, argument: String) throws {
    do { _ = try MappedFile(path: path) } catch { throw CLIError(argument, error) }
}

/// Checks that `path` is a folder, or can be created as one (its parent folder exists).
private func checkOutputFolder(_ path: String, argument: String) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
        guard isFolder.boolValue else { throw CLIError(argument, "\(path): exists and is not a folder") }
        return
    }
    do { _ = try AtomicFile.destination(for: path) } catch { throw CLIError(argument, error) }
}

/// Runs `writes` in order, each writing one output; when one fails, removes the outputs the earlier
/// ones created in this run (regular files and folders that were not there before; never a device
/// or FIFO, and never a file the run replaced, which holds this run's complete output rather than
/// nothing), then rethrows.
func writeOutputs(_ writes: [(path: String, write: () throws -> Void)]) throws {
    var created: [String] = []
    do {
        for (path, write) in writes {
            let existed = FileManager.default.fileExists(atPath: path)
            try write()
            if !existed { created.append(path) }
        }
    } catch {
        for path in created {
            switch try? AtomicFile.destination(for: path) {
            case .file(let file)?: unlink(file)
            case .stream?: break
            case nil: try? FileManager.default.removeItem(atPath: path)  // a folder
            }
        }
        throw error
    }
}
