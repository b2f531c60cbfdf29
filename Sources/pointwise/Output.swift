import Foundation
import Pointwise

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so the
/// destination is either untouched or complete, never half-written.
func writeAtomically(_ data: Data, to path: String, argument: String) throws {
    do { try AtomicFile.write(data, to: path) } catch { throw CLIError("\(argument) \(path)", error.reason) }
}
