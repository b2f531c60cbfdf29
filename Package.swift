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
    ],
    targets: [
        // MARK: - Implementation targets
        // The SIMD microkernels are C with per-function `target("avx2,fma")` attributes and runtime
        // CPU dispatch: no unsafe build flags, so the package stays usable as a versioned dependency
        // and runs at full speed without any flags from the people who depend on it.
        .target(name: "CPointwiseKernels"),
        .target(name: "Pointwise", dependencies: ["CPointwiseKernels"]),
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
