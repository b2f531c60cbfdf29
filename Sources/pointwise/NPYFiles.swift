import Foundation
import Pointwise

// Reading and writing the .npy files the subcommands take and produce, with errors that name the
// argument and the file.

/// The array in the .npy file at `path`; errors name the path as typed.
func readNPY(_ path: String, argument: String) throws -> NPYArray {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw CLIError(argument, error) }
    let data = withExtendedLifetime(file) { Data(file.bytes) }
    do { return try NPY.decode(data, name: path) } catch { throw CLIError(argument, error) }
}

/// A tensor from an .npy file holding `[N, C, *spatial]` (nchw) or `[N, *spatial, C]` (nhwc),
/// 0–3 spatial dimensions (a 2-D file is `[N, C]`, e.g. pixel rows).
func readTensor(_ path: String, argument: String, layout: Layout = .channelsFirst) throws -> Tensor {
    let array = try readNPY(path, argument: argument)
    guard (2...5).contains(array.shape.count) else {
        throw CLIError("\(argument) \(path)", "has \(array.shape.count) dimensions \(array.shape); expected "
                       + (layout == .channelsFirst ? "[N, C, *spatial]" : "[N, *spatial, C]") + " with 0–3 spatial dimensions")
    }
    let shape = layout == .channelsFirst
        ? array.shape : [array.shape[0], array.shape[array.shape.count - 1]] + array.shape.dropFirst().dropLast()
    do {
        return try Tensor(shape: shape, layout: layout, values: array.values)
    } catch {
        throw CLIError("\(argument) \(path)", error)
    }
}

/// Writes an .npy file atomically, naming `argument` in any error.
func writeNPY(_ array: NPYArray, to path: String, argument: String) throws {
    try writeAtomically(NPY.encode(array), to: path, argument: argument)
}

/// The .npy file at `path`, memory-mapped (its header validated, no data read).
func mapNPY(_ path: String, argument: String) throws -> MappedNPY {
    do { return try MappedNPY(path: path) } catch { throw CLIError(argument, error) }
}
