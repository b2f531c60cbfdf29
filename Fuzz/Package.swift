// swift-tools-version: 5.4
import PackageDescription

// libFuzzer targets for Pointwise's file parsers, one executable per format. A package of its own
// so that Pointwise's package keeps no unsafe flags: scripts/fuzz.sh builds these with
// `-sanitize=fuzzer,address -parse-as-library` (libFuzzer supplies `main`), and a plain
// `swift build` here does not link. Tools version 5.4, as swift-protobuf's FuzzTesting keeps:
// from 5.5 on, SwiftPM links executables against a renamed Swift `main` that these never define.
let pointwise: Target.Dependency = .product(name: "Pointwise", package: "Pointwise")

let package = Package(
    name: "PointwiseFuzz",
    dependencies: [.package(name: "Pointwise", path: "..")],
    targets: [
        // MARK: - Fuzz targets (one per format; Corpus/<target>/ holds each one's seeds)
        .executableTarget(name: "FuzzNPY", dependencies: [pointwise]),
        .executableTarget(name: "FuzzNPZ", dependencies: [pointwise]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: [pointwise]),
        .executableTarget(name: "FuzzPNG", dependencies: [pointwise]),
        .executableTarget(name: "FuzzTorchCheckpoint", dependencies: [pointwise]),
    ]
)
