import ArgumentParser
import Foundation
import Pointwise

/// `pointwise classify`: the pretrained EfficientNet-Lite0 on a picture or a preprocessed tensor.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a picture (or a preprocessed .npy tensor) with pretrained EfficientNet-Lite0.",
        discussion: """
            A PNG is preprocessed as the model was trained: shorter side resized to 256 (bilinear), \
            centre crop 224×224, (v − 127) / 128. A .npy input must already be [N, 3, H, W] preprocessed. \
            The weights default to the file `pointwise models fetch efficientnet-lite0` stores.

            --dense-map convolutionalizes the classifier: the global pool + linear layer become a 1×1 \
            convolution applied at every location of the feature map, on the whole picture resized to \
            --dense-size (no crop), giving one class distribution per 32×32 pixels.
            """)

    @Argument(help: ArgumentHelp("The picture (.png) or preprocessed input (.npy, [N, 3, H, W]).", valueName: "IMAGE"))
    var image: String

    @Option(help: ArgumentHelp("Weights (.safetensors, .pth/.pt checkpoint or .npz).", valueName: "FILE"))
    var weights: String?

    @Option(parsing: .unconditional, help: "How many classes to print (1…1000).")
    var top = 5

    @Option(help: ArgumentHelp("Write the logits [N, 1000] to this .npy file.", valueName: "L.npy"))
    var logitsOut: String?

    @Option(help: ArgumentHelp("Write per-location class probabilities [1, 1000, h, w] to this .npy file.",
                               valueName: "MAP.npy"))
    var denseMap: String?

    @Option(parsing: .unconditional,
            help: "Shorter side, in pixels, of the picture the dense map is computed on (32…\(Classify.maximumDenseSize)).")
    var denseSize = 448

    @Option(parsing: .unconditional, help: "Worker threads (default: every CPU).")
    var threads: Int?

    /// The largest --dense-size (and `compress --calibration-sizes`): a 4096-pixel shorter side
    /// already gives 128 locations across.
    static let maximumDenseSize = 4096

    func validate() throws {
        guard (1...1000).contains(top) else { throw CLIError("--top", "must be in 1…1000, got \(top)") }
        guard (32...Self.maximumDenseSize).contains(denseSize) else {
            throw CLIError("--dense-size", "must be in 32…\(Self.maximumDenseSize), got \(denseSize)")
        }
        _ = try threadCount(threads)
        if denseMap != nil, !image.lowercased().hasSuffix(".png") {
            throw CLIError("--dense-map", "needs a picture (.png), not a preprocessed tensor")
        }
    }

    func run() throws {
        // The picture first (cheap, and the likeliest mistake), then the weights and outputs, before the model runs.
        let picture = image.lowercased().hasSuffix(".npy") ? nil : try readImage(image, argument: "IMAGE")
        let input = try picture.map { try preprocess($0, from: image, argument: "IMAGE") } ?? readInput(image)
        // Made before the weights load, so that a --dense-size this picture cannot be resized to fails first
        // (validate() has refused --dense-map without a picture).
        let densePicture = try denseMap.flatMap { _ in
            try picture.map {
                try preprocess($0, from: image, argument: "IMAGE", shorterSide: denseSize, crop: nil, sizeArgument: "--dense-size")
            }
        }
        try checkFiles(inputs: [("IMAGE", image), ("--weights", weights)],
                       outputs: [("--logits-out", logitsOut), ("--dense-map", denseMap)])
        let loadStart = Date()
        let model = try loadModel(weights: weights)
        let loadMilliseconds = Date().timeIntervalSince(loadStart) * 1000
        let options = ExecutionOptions(threads: try threadCount(threads))
        let start = Date()
        let logits: Tensor
        do { logits = try model.logits(input, options: options) } catch { throw CLIError(image, error) }
        let milliseconds = Date().timeIntervalSince(start) * 1000
        let values = logits.scalars
        for n in 0..<input.batchSize {
            let row = Array(values[n * model.classCount..<(n + 1) * model.classCount])
            print(input.batchSize == 1 ? "\(image):" : "\(image) [\(n)]:")
            for (rank, score) in Classification.top(top, of: row, names: ImageNetClasses.names).enumerated() {
                let percent = String(format: "%6.2f%%", Double(score.probability) * 100)
                print("  \(rank + 1). \(percent)  \(score.name) (\(score.index))")
            }
        }
        printError(String(format: "efficientnet-lite0: weights loaded in %.0f ms; %.1f ms for %d image(s) on %d thread(s) "
                          + "(first run; `pointwise bench --model` times repeated runs)",
                          loadMilliseconds, milliseconds, input.batchSize, options.threads))
        // Everything is computed before the first output is written; a failed write removes the other.
        let dense = try densePicture.map { try denseClassMap(model: model, picture: $0, options: options) }
        var writes: [(path: String, write: () throws -> Void)] = []
        if let logitsOut {
            writes.append((logitsOut, {
                try writeNPY(NPYArray(shape: logits.shape, values: values), to: logitsOut, argument: "--logits-out")
            }))
        }
        if let denseMap, let dense {
            writes.append((denseMap, {
                try writeNPY(NPYArray(shape: dense.shape, values: dense.map.probabilities), to: denseMap, argument: "--dense-map")
            }))
        }
        try writeOutputs(writes)
    }

    /// Runs the convolutionalized classifier on the uncropped picture and prints its top class per location.
    private func denseClassMap(
        model: EfficientNetLite, picture: Tensor, options: ExecutionOptions
    ) throws -> (shape: [Int], map: DenseClassMap) {
        let dense: Tensor
        do { dense = try model.denseLogits(picture, options: options) } catch { throw CLIError(image, error) }
        let map = DenseClassMap(logits: dense)
        print("dense class map, \(map.height)×\(map.width) locations (one per 32×32 pixels of a "
              + "\(picture.shape[3])×\(picture.shape[2]) picture):")
        print(map.rendering(names: ImageNetClasses.names))
        return (dense.shape, map)
    }
}

// MARK: - Shared by the model commands

/// The EfficientNet-Lite0 model from `weights`, or from the stored file when nil.
func loadModel(weights: String?) throws -> EfficientNetLite {
    let store = ModelStore()
    guard let path = weights ?? store.cachedPath(for: .efficientnetLite0) else {
        throw CLIError("--weights", "not given, and no stored EfficientNet-Lite0 weights in \(store.directory); "
                       + "run `pointwise models fetch efficientnet-lite0` first")
    }
    let arrays: [String: RawArray]
    do { arrays = try TensorArchive.dictionary(path: path) } catch {
        throw CLIError("--weights", String(describing: error))
    }
    do { return try EfficientNetLite(weights: arrays, name: path) } catch {
        throw CLIError("--weights", error)
    }
}

/// A preprocessed `[N, 3, H, W]` tensor from an .npy file, errors naming `argument`.
func readInput(_ path: String, argument: String = "IMAGE") throws -> Tensor {
    let array = try readNPY(path, argument: argument)
    guard array.shape.count == 4, array.shape[1] == 3, array.shape.allSatisfy({ $0 >= 1 }) else {
        throw CLIError("\(argument) \(path)", "shape \(array.shape) is not a preprocessed image batch [N, 3, H, W]")
    }
    do { return try Tensor(shape: array.shape, values: array.values) } catch { throw CLIError("\(argument) \(path)", error) }
}

/// A picture (PNG) preprocessed for the classifier: shorter side resized to `shorterSide`, then
/// the central `crop`×`crop` square (nil: no crop), values (v − 127) / 128. A picture the size
/// cannot be made from (too many pixels) is an error about `sizeArgument` when the size came from one.
func readPicture(_ path: String, argument: String, shorterSide: Int = 256, crop: Int? = 224,
                 sizeArgument: String? = nil) throws -> Tensor {
    try preprocess(readImage(path, argument: argument), from: path, argument: argument, shorterSide: shorterSide,
                   crop: crop, sizeArgument: sizeArgument)
}

/// The PNG picture at `path`, errors naming `argument`.
func readImage(_ path: String, argument: String) throws -> Image {
    do { return try PNG.read(path: path) } catch { throw CLIError(argument, error) }
}

/// `image` (read from `path`) preprocessed as `readPicture` does it.
func preprocess(_ image: Image, from path: String, argument: String, shorterSide: Int = 256, crop: Int? = 224,
                sizeArgument: String? = nil) throws -> Tensor {
    do {
        return try ImagePreprocessing(resizeShorterSide: shorterSide, cropSize: crop)(image)
    } catch {
        throw CLIError(sizeArgument.map { "\($0) \(shorterSide)" } ?? "\(argument) \(path)",
                       sizeArgument == nil ? "\(error)" : "\(path), \(image.width)×\(image.height): \(error)")
    }
}
