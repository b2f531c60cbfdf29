import Foundation

/// The `model.json` beside the parameter files: what is needed to rebuild the network.
private struct ModelDescription: Codable {
    var format = PixelNetwork.fileFormat
    var widths: [Int]
    var activation: String
}

extension PixelNetwork {
    /// The `format` field of `model.json`.
    static let fileFormat = "pointwise.PixelNetwork/1"

    /// Saves the network as a directory: one `.npy` per parameter, named by it (`0.weight.npy`
    /// `[out, in]`, `0.bias.npy` `[out]`, …), and `model.json` with the widths and activation.
    ///
    /// Everything is written into a temporary directory beside `directory`, which is then renamed
    /// onto it, so a failed save leaves no partial directory. An existing directory is replaced
    /// only if it is empty or holds a saved model (a `model.json`), never any other directory.
    /// - Parameter directory: where the model goes.
    /// - Throws: `TrainingError.modelFile` when it cannot be written or would replace other files.
    public func save(to directory: URL) throws(TrainingError) {
        let manager = FileManager.default
        let exists = try Self.checkSaveDestination(directory)
        let parent = directory.deletingLastPathComponent(), unique = UUID().uuidString
        let temporary = parent.appendingPathComponent(".\(directory.lastPathComponent).\(unique).tmp")
        do {
            try manager.createDirectory(at: temporary, withIntermediateDirectories: false)
            for parameter in parameters {
                let file = temporary.appendingPathComponent("\(parameter.name).npy")
                try NPY.write(NPYArray(shape: parameter.shape, values: parameter.value.scalars), to: file)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let description = ModelDescription(widths: widths, activation: activation.rawValue)
            try encoder.encode(description).write(to: temporary.appendingPathComponent("model.json"))
            let old = parent.appendingPathComponent(".\(directory.lastPathComponent).\(unique).old")
            if exists { try rename(directory, to: old) }
            try rename(temporary, to: directory)
            if exists { try? manager.removeItem(at: old) }
        } catch {
            try? manager.removeItem(at: temporary)
            if let error = error as? TrainingError { throw error }
            throw .modelFile(path: directory.path, problem: "cannot write: \(error)")
        }
    }

    /// Checks that `save(to:)` can write `directory` (before training, say): its parent is a folder
    /// that can be written in, and it is new, an empty folder or a saved model.
    /// - Returns: whether `directory` exists.
    /// - Throws: `TrainingError.modelFile` naming `directory` and the problem.
    @discardableResult
    public static func checkSaveDestination(_ directory: URL) throws(TrainingError) -> Bool {
        let manager = FileManager.default, path = directory.path
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            do { try AtomicFile.checkFolder(of: path, for: path) } catch {
                throw .modelFile(path: path, problem: error.reason)
            }
            return false
        }
        let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? []
        guard isDirectory.boolValue, contents.isEmpty || contents.contains("model.json") else {
            throw .modelFile(path: path, problem: "exists and is not a saved model; choose a new directory")
        }
        return true
    }

    private func rename(_ from: URL, to: URL) throws(TrainingError) {
        guard Foundation.rename(from.path, to.path) == 0 else {
            throw .modelFile(path: to.path, problem: "cannot rename into place: " + String(cString: strerror(errno)))
        }
    }

    /// Loads a network saved by `save(to:)`, checking every parameter file's shape.
    /// - Parameter directory: the saved model's directory.
    /// - Throws: `TrainingError.modelFile` for a missing or invalid `model.json` or a parameter of
    ///   the wrong shape, `.npy` for an unreadable parameter file.
    public static func load(from directory: URL) throws(TrainingError) -> PixelNetwork {
        let jsonURL = directory.appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: jsonURL.path) else {
            throw .modelFile(path: jsonURL.path, problem: "cannot read the file (is this a saved model directory?)")
        }
        guard let description = try? JSONDecoder().decode(ModelDescription.self, from: data),
              description.format == fileFormat else {
            throw .modelFile(path: jsonURL.path,
                             problem: "not a model description ({\"format\": \"\(fileFormat)\", \"widths\": […], \"activation\": …})")
        }
        guard let activation = Activation(rawValue: description.activation) else {
            throw .modelFile(path: jsonURL.path, problem: "unknown activation '\(description.activation)'")
        }
        let widths = description.widths
        guard widths.count >= 2, widths.allSatisfy({ $0 >= 1 }) else {
            throw .modelFile(path: jsonURL.path, problem: "widths \(widths) must be at least two, each ≥ 1")
        }
        var layers: [Conv1x1] = []
        for i in 0..<widths.count - 1 {
            let weight = try parameterFile(directory, "\(i).weight", shape: [widths[i + 1], widths[i]])
            let bias = try parameterFile(directory, "\(i).bias", shape: [widths[i + 1]])
            do {
                layers.append(try Conv1x1(weight: Tensor(shape: weight.shape, values: weight.values), bias: bias.values))
            } catch { throw .modelFile(path: directory.path, problem: "\(error)") }
        }
        return try PixelNetwork(layers: layers, activation: activation)
    }

    /// The parameter file `name.npy`, which must have `shape` (a weight may also carry PyTorch's
    /// trailing ones, `[out, in, 1, 1]`).
    private static func parameterFile(_ directory: URL, _ name: String, shape: [Int]) throws(TrainingError) -> NPYArray {
        let url = directory.appendingPathComponent("\(name).npy")
        var array: NPYArray
        do { array = try NPY.read(contentsOf: url) } catch { throw .npy(error) }
        if array.shape.count > shape.count, array.shape.dropFirst(shape.count).allSatisfy({ $0 == 1 }) {
            array.shape = Array(array.shape.prefix(shape.count))
        }
        guard array.shape == shape else {
            throw .modelFile(path: url.path, problem: "shape \(array.shape) does not fit the model: expected \(shape)")
        }
        return array
    }
}
