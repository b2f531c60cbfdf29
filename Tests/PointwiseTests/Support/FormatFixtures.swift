import Foundation
import Pointwise

/// The safetensors and .npz fixtures written by scripts/make_format_fixtures.py, the values its
/// documented formulas put in them, and scratch files for tests that write.
enum FormatFixtures {
    /// Tests/PointwiseTests/Fixtures.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures")
        .standardizedFileURL

    /// The path of a fixture, e.g. `path("npz/stored.npz")`.
    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// The script's ramp: element i is i·0.5 − 3 (floats), i − 3 (signed), 255 − i (uint8) or
    /// i mod 3 = 0 (bool).
    static func ramp(_ type: ElementType, count: Int) -> [Double] {
        (0..<count).map { i in
            switch type {
            case .float16, .bfloat16, .float32, .float64: Double(i) * 0.5 - 3
            case .int8, .int16, .int32, .int64: Double(i - 3)
            case .uint8: Double(255 - i)
            case .bool: i % 3 == 0 ? 1 : 0
            }
        }
    }

    /// Every element as a Double (exact for every value the fixtures hold), read straight from
    /// the little-endian bytes for float64 and int64 and through the array's conversions otherwise.
    static func values(_ array: RawArray) -> [Double] {
        switch array.elementType {
        case .float64:
            (0..<array.elementCount).map {
                array.bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)
            }
        case .int64, .int32, .int16, .int8, .uint8, .bool:
            array.integers().map(Double.init)
        case .float32, .float16, .bfloat16:
            array.floats().map(Double.init)
        }
    }

    /// The bytes of a fixture.
    static func data(_ relative: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relative))
    }

    /// A unique path in the temporary directory, for a test to write and remove.
    static func scratchPath(_ label: String, extension ext: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("pointwise-\(label)-\(UUID().uuidString).\(ext)").path
    }

    /// A fresh empty directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pointwise-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
