/// Takes a model's tensors out of a checkpoint's name → array dictionary by PyTorch key, checking
/// each one's shape and type, and remembers which keys were used so the loader can reject files
/// with tensors left over.
struct WeightReader {
    /// The file the tensors came from, for error messages.
    let file: String
    private let arrays: [String: RawArray]
    private(set) var used: Set<String> = []

    init(arrays: [String: RawArray], file: String) {
        self.arrays = arrays
        self.file = file
    }

    /// Whether the file has a tensor called `key`.
    func contains(_ key: String) -> Bool { arrays[key] != nil }

    /// Every key in the file.
    var keys: Dictionary<String, RawArray>.Keys { arrays.keys }

    /// The shape of `key`, or nil when it is missing.
    func shape(of key: String) -> [Int]? { arrays[key]?.shape }

    /// The values of `key` as Float32, which must have `shape` (nil: any shape).
    mutating func floats(_ key: String, shape: [Int]?) throws(ModelError) -> [Float] {
        guard let array = arrays[key] else { throw .missingWeight(file: file, key: key, expected: shape ?? []) }
        if let shape, array.shape != shape {
            throw .weightShape(file: file, key: key, expected: shape, actual: array.shape)
        }
        guard array.elementType.isFloatingPoint else { throw .weightType(file: file, key: key, type: array.elementType) }
        used.insert(key)
        return array.floats()
    }

    /// `key` as a Float32 tensor of `shape`.
    mutating func tensor(_ key: String, shape: [Int]) throws(ModelError) -> Tensor {
        let values = try floats(key, shape: shape)
        do { return try Tensor(shape: shape, values: values) } catch {
            throw .weightShape(file: file, key: key, expected: shape, actual: shape)
        }
    }

    /// The batch norm stored under `prefix` (`weight`, `bias`, `running_mean`, `running_var`,
    /// and `num_batches_tracked`, which is marked used but not needed at inference).
    mutating func batchNorm(_ prefix: String, channels: Int, eps: Float) throws(ModelError) -> BatchNorm {
        let weight = try floats("\(prefix).weight", shape: [channels])
        let bias = try floats("\(prefix).bias", shape: [channels])
        let mean = try floats("\(prefix).running_mean", shape: [channels])
        let variance = try floats("\(prefix).running_var", shape: [channels])
        used.insert("\(prefix).num_batches_tracked")
        do {
            return try BatchNorm(weight: weight, bias: bias, runningMean: mean, runningVar: variance, eps: eps)
        } catch { throw .layer(file: file, error: error) }
    }

    /// Throws unless every tensor of the file was used.
    func checkAllUsed() throws(ModelError) {
        let left = arrays.keys.filter { !used.contains($0) }.sorted()
        guard left.isEmpty else { throw .unexpectedWeights(file: file, keys: left) }
    }
}
