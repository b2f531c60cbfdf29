// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Pointwise",
    // MARK: - Public products
    products: [
        .library(name: "Pointwise", targets: ["Pointwise"]),
        .executable(name: "pointwise", targets: ["pointwise"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // MARK: - Implementation targets
        // The SIMD microkernels are C with per-function `target("avx2,fma")` attributes and runtime
        // CPU dispatch: no unsafe build flags, so the package stays usable as a versioned dependency
        // and runs at full speed without any flags from the people who depend on it.
        .target(name: "CPointwiseKernels"),
        // System calls best made from C: the async-signal-safe removal of temporary files on
        // SIGINT/SIGTERM (what runs inside a signal handler must be controlled), and the Linux
        // file calls Swift's Glibc module does not expose (starting writeback early).
        .target(name: "CPointwiseSystem"),
        // The system zlib (a real boundary: a C library), for PNG's compressed image data.
        .systemLibrary(name: "CPointwiseZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "Pointwise",
            dependencies: [
                "CPointwiseKernels",
                "CPointwiseSystem",
                "CPointwiseZlib",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .executableTarget(
            name: "pointwise",
            dependencies: [
                "Pointwise",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources/shapes.json")]
        ),
        // MARK: - Tests
        .testTarget(name: "PointwiseTests", dependencies: ["Pointwise"], exclude: ["Fixtures"]),
    ]
)
