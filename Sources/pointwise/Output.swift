import Foundation

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so the
/// destination is either untouched or complete, never half-written.
func writeAtomically(_ data: Data, to path: String, argument: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    do {
        try data.write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            throw CLIError("\(argument) \(path)", String(cString: strerror(errno)))
        }
    } catch let error as CLIError {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw CLIError("\(argument) \(path)", "cannot write: \(error.localizedDescription)")
    }
}
