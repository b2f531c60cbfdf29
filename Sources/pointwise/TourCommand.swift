import ArgumentParser
import Foundation
import Pointwise

/// `pointwise tour`: the articles' claims about 1×1 convolutions, demonstrated and measured.
struct TourCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour",
        abstract: "Walk through every claim of the 1×1-convolution articles on built-in data: pictures and a report.md.",
        discussion: """
            Channel compression with pictures, grayscale as a fixed and a learned 1×1 convolution, PCA vs \
            learned compression, bottleneck and Inception savings, FPN alignment, Network-in-Network's \
            nonlinearity, multispectral land cover with the learned band weights, the reference loops vs \
            the fast path, and — when the EfficientNet-Lite0 weights are stored (`pointwise models fetch \
            efficientnet-lite0`) and a photo is given or found — a classified photo and its dense class map. \
            No network access; under a minute in a release build.
            """)

    @Option(help: ArgumentHelp("The folder for the pictures and report.md.", valueName: "DIR"))
    var output = "pointwise-tour"

    @Option(parsing: .unconditional, help: "Worker threads for the timed steps (default: every CPU).")
    var threads: Int?

    @Option(help: ArgumentHelp("A photo for the classifier step (default: the shared fixture's chelsea.png when present).",
                               valueName: "PICTURE.png"))
    var photo: String?

    @Option(help: ArgumentHelp("EfficientNet-Lite0 weights (default: the stored file, if any).", valueName: "FILE"))
    var weights: String?

    func run() throws {
        let threads = try threadCount(self.threads)
        // The photo and weights given are read now, not after every other step.
        try checkFiles(inputs: [("--photo", photo), ("--weights", weights)], outputs: [], folders: [("--output", output)])
        if let photo { _ = try readPicture(photo, argument: "--photo") }
        if let weights { _ = try loadModel(weights: weights) }
        let fixture = "../shared/fixtures/efficientnet-lite0/chelsea.png"
        let tour = Tour(output: output, threads: threads,
                        weights: weights ?? ModelStore().cachedPath(for: .efficientnetLite0),
                        photo: photo ?? (FileManager.default.isReadableFile(atPath: fixture) ? fixture : nil))
        let start = Date()
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: output)).map(Set.init)
        do {
            _ = try tour.run { print($0) }
        } catch {
            // What this run wrote goes: the folder if it made it, else the files it added.
            if let existing {
                let added = Set((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).subtracting(existing)
                let folder = URL(fileURLWithPath: output)
                for name in added { try? FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
            } else {
                try? FileManager.default.removeItem(atPath: output)
            }
            if let error = error as? FileAccessError { throw CLIError("--output", error) }
            throw error
        }
        let report = URL(fileURLWithPath: output).appendingPathComponent("report.md").path
        print(String(format: "\nwrote the pictures and %@ in %.1f s", report, Date().timeIntervalSince(start)))
    }
}
