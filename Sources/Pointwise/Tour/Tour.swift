import Foundation

/// `pointwise tour`: every claim of the articles about 1×1 convolutions, in their order, shown on
/// built-in data and measured, with pictures and a `report.md` written into a folder.
public struct Tour {
    /// One step: what it shows and what was measured.
    public struct Step: Sendable {
        /// The step's title.
        public var title: String
        /// What the step demonstrates, in a sentence.
        public var demonstrates: String
        /// The measured figures, one line each.
        public var figures: [String]
        /// The pictures written for the step (file names in the output folder).
        public var pictures: [String]
    }

    /// Where the pictures and the report go.
    public let output: String
    /// Worker threads for the timed steps.
    public let threads: Int
    /// Smaller data and fewer epochs (for the tests); the claims still hold.
    public let quick: Bool
    /// EfficientNet-Lite0 weights, if any (the last step is skipped without them).
    public let weights: String?
    /// A photo for the classifier step.
    public let photo: String?

    /// A tour writing into `output`.
    public init(output: String, threads: Int = 1, quick: Bool = false, weights: String? = nil, photo: String? = nil) {
        (self.output, self.threads, self.quick, self.weights, self.photo) = (output, threads, quick, weights, photo)
    }

    /// Runs every step, writing pictures as it goes and `report.md` at the end.
    /// - Parameter log: receives each step's title and figures as they are measured.
    /// - Returns: the steps.
    /// - Throws: `FileAccessError` when the output folder cannot be written; other errors only
    ///   for broken built-in data (a bug).
    public func run(log: (String) -> Void = { _ in }) throws -> [Step] {
        try createFolder()
        var steps: [Step] = []
        let all: [(Tour) throws -> Step] = [
            { try $0.compression() }, { try $0.grayscale() }, { try $0.pcaVersusLearned() }, { try $0.savings() },
            { try $0.featurePyramid() }, { try $0.nonlinearity() }, { try $0.landCover() }, { try $0.speed() },
            { try $0.classifier() },
        ]
        for (index, step) in all.enumerated() {
            let result = try step(self)
            log("\(index + 1). \(result.title)")
            for figure in result.figures { log("   \(figure)") }
            steps.append(result)
        }
        try AtomicFile.write(Data(report(steps).utf8), to: path("report.md"))
        return steps
    }

    /// The markdown report.
    func report(_ steps: [Step]) -> String {
        var lines = ["# A tour of 1×1 convolutions", "",
                     "Every figure below was measured by `pointwise tour` on built-in data, on this machine.", ""]
        for (index, step) in steps.enumerated() {
            lines += ["## \(index + 1). \(step.title)", "", step.demonstrates, ""]
            lines += step.figures.map { "- \($0)" } + [""]
            lines += step.pictures.map { "![\($0)](\($0))" } + (step.pictures.isEmpty ? [] : [""])
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Files

    func path(_ name: String) -> String { URL(fileURLWithPath: output).appendingPathComponent(name).path }

    private func createFolder() throws(FileAccessError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw FileAccessError(path: output, reason: "exists and is not a folder") }
        } else {
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw FileAccessError(path: output, reason: "cannot create the folder (\(error.localizedDescription))")
            }
        }
        guard access(output, W_OK) == 0 else { throw FileAccessError(path: output, reason: "is not writable") }
    }

    /// Writes `canvas` as `name` (a PNG) and returns the name.
    func save(_ canvas: Canvas, as name: String) throws -> String {
        try PNG.write(canvas.image, to: path(name))
        return name
    }

    /// Median milliseconds of `body`.
    func time(_ body: () throws -> Void) rethrows -> Double {
        try body()
        return Benchmark.medianMilliseconds(minimumRuns: quick ? 2 : 5, minimumSeconds: quick ? 0.01 : 0.1) { try? body() }
    }
}
