import Foundation
import Testing
@testable import Pointwise

/// Tests of the safetensors reader and writer against files written by the `safetensors` Python
/// package (scripts/make_format_fixtures.py).
@Suite("SafeTensors")
struct SafeTensorsTests {
    static func fixture(_ name: String) -> String {
        FormatFixtures.path("safetensors/\(name)")
    }

    // MARK: - Reading

    @Suite("reading")
    struct Reading {
        @Test("NumPy's file: every dtype, scalar, empty and 4-D shapes, metadata, values exact")
        func numpyFile() throws {
            let file = try SafeTensorsFile(path: fixture("numpy.safetensors"))
            // The reference writer orders tensors by dtype (widest first), then name.
            #expect(file.names == ["i64_5", "f64_scalar", "f32_0x3", "f32_4d", "i32_3x1", "f16_2x3",
                                   "i16_2x2", "i8_7", "u8_2x5", "bool_6"])
            #expect(file.metadata == ["format": "np"])
            let expected: [String: (ElementType, [Int])] = [
                "f32_4d": (.float32, [2, 3, 4, 5]), "f16_2x3": (.float16, [2, 3]),
                "f64_scalar": (.float64, []), "i64_5": (.int64, [5]), "i32_3x1": (.int32, [3, 1]),
                "i16_2x2": (.int16, [2, 2]), "i8_7": (.int8, [7]), "u8_2x5": (.uint8, [2, 5]),
                "bool_6": (.bool, [6]), "f32_0x3": (.float32, [0, 3]),
            ]
            for (name, array) in file.arrays {
                let (type, shape) = try #require(expected[name])
                #expect(array.elementType == type, "\(name)")
                #expect(array.shape == shape, "\(name)")
                let ramp = FormatFixtures.ramp(type, count: array.elementCount)
                #expect(FormatFixtures.values(array) == ramp, "\(name)")
            }
        }

        @Test("PyTorch's file: bfloat16")
        func torchFile() throws {
            let file = try SafeTensorsFile(path: fixture("torch.safetensors"))
            #expect(file.names == ["i64_scalar", "f32_3", "bf16_2x2x2"])
            #expect(file.metadata == ["format": "pt"])
            let bf16 = try file.array(named: "bf16_2x2x2")
            #expect(bf16.elementType == .bfloat16 && bf16.shape == [2, 2, 2])
            #expect(FormatFixtures.values(bf16) == FormatFixtures.ramp(.bfloat16, count: 8))
            #expect(try file.array(named: "i64_scalar").integers() == [-3])
        }

        @Test("each type's extremes: integer limits, subnormals, signed zero, infinities")
        func edges() throws {
            let file = try SafeTensorsFile(path: fixture("edges.safetensors"))
            #expect(file.metadata.isEmpty)
            #expect(try file.array(named: "i64").integers() == [.min, -1, 0, 1, .max])
            #expect(try file.array(named: "i32").integers() == [Int64(Int32.min), -1, 0, 1, Int64(Int32.max)])
            #expect(try file.array(named: "i16").integers() == [Int64(Int16.min), -1, 0, 1, Int64(Int16.max)])
            #expect(try file.array(named: "i8").integers() == [-128, -1, 0, 1, 127])
            #expect(try file.array(named: "u8").integers() == [0, 1, 0, 1, 255])
            #expect(try file.array(named: "bool").integers() == [1, 0])
            let floats: [(String, [Float])] = [
                ("f16", [0x1p-24, 65504, -0.0, .infinity, -.infinity]),
                ("bf16", [0x1p-133, 0x1.FEp127, -0.0, .infinity, 1 + 0x1p-7]),
                ("f32", [.leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0, -.infinity]),
            ]
            for (name, expected) in floats {
                let observed = try file.array(named: name).floats()
                #expect(observed.map(\.bitPattern) == expected.map(\.bitPattern), "\(name): \(observed)")
            }
            let f64 = FormatFixtures.values(try file.array(named: "f64"))
            let expected: [Double] = [0.1, 1e300, -.leastNonzeroMagnitude, .infinity]
            #expect(f64.map(\.bitPattern) == expected.map(\.bitPattern))
        }

        @Test("names that need JSON escapes or are not ASCII, and several metadata strings")
        func escapesAndMetadata() throws {
            let file = try SafeTensorsFile(path: fixture("metadata.safetensors"))
            #expect(Set(file.names) == ["quote\"back\\slash", "tab\tnewline\n", "café ☃ 😀"])
            #expect(file.metadata == [
                "format": "np", "empty": "", "unicode": "é☃😀",
                "escapes": "\"\\/\u{08}\u{0C}\n\r\t\u{01}\u{1F}",
            ])
            #expect(try file.array(named: "café ☃ 😀").floats() == [-3, -2.5, -2])
        }

        @Test("a file with no tensors, and one whose tensors are all empty")
        func emptyFiles() throws {
            let empty = try SafeTensorsFile(path: fixture("empty.safetensors"))
            #expect(empty.names.isEmpty && empty.metadata.isEmpty && empty.arrays.isEmpty)
            let zeroSize = try SafeTensorsFile(path: fixture("zero_size.safetensors"))
            // Both lie at offset 0; header order breaks the tie.
            #expect(zeroSize.names == ["b", "a"])
            #expect(zeroSize["a"]?.shape == [0] && zeroSize["b"]?.shape == [2, 0])
            #expect(zeroSize["b"]?.elementType == .int64 && zeroSize["b"]?.bytes.count == 0)
        }

        @Test("arrays are views of the mapped file, not copies")
        func zeroCopy() throws {
            let file = try SafeTensorsFile(path: fixture("numpy.safetensors"))
            let mapping = file.file.bytes
            for (name, array) in file.arrays where array.bytes.count > 0 {
                let start = try #require(array.bytes.baseAddress)
                let mapped = try #require(mapping.baseAddress)
                #expect(start >= mapped && start + array.bytes.count <= mapped + mapping.count, "\(name)")
                #expect(array.owner === file.file, "\(name)")
            }
            // The mapping outlives the file object while an array holds it.
            var array: RawArray?
            do {
                array = try SafeTensorsFile(path: fixture("torch.safetensors")).array(named: "f32_3")
            }
            #expect(array?.floats() == [-3, -2.5, -2])
        }

        @Test("a file in memory reads as the same file does; errors carry the given name")
        func fromData() throws {
            let data = try FormatFixtures.data("safetensors/numpy.safetensors")
            let fromFile = try SafeTensorsFile(path: fixture("numpy.safetensors"))
            let fromData = try SafeTensorsFile(data: data, name: "upload.safetensors")
            #expect(fromData.path == "upload.safetensors" && fromData.names == fromFile.names)
            #expect(fromData.metadata == fromFile.metadata)
            #expect(fromData.arrays.map { FormatFixtures.values($0.array) }
                == fromFile.arrays.map { FormatFixtures.values($0.array) })
            #expect(throws: SafeTensorsError.tooShort(path: "upload.safetensors", size: 4)) {
                try SafeTensorsFile(data: data.prefix(4), name: "upload.safetensors")
            }
        }

        @Test("an unknown name, and dtypes Pointwise does not support")
        func lookupsAndUnsupported() throws {
            let path = fixture("torch.safetensors")
            let file = try SafeTensorsFile(path: path)
            #expect(file["nope"] == nil)
            #expect(throws: SafeTensorsError.tensorNotFound(path: path, name: "nope")) {
                try file.array(named: "nope")
            }
            let unsupported = fixture("unsupported.safetensors")
            // The first entry in the header (PyTorch wrote complex64 first) is the one reported.
            let error = SafeTensorsError.unsupportedDtype(path: unsupported, tensor: "c", dtype: "C64")
            #expect(throws: error) { try SafeTensorsFile(path: unsupported) }
            #expect(error.description.hasPrefix("\(unsupported): tensor 'c' has dtype C64, which is not"))
        }

        @Test("a missing file names its path")
        func missing() {
            let path = fixture("missing.safetensors")
            let missing = FileAccessError(path: path, reason: "no such file", isMissing: true)
            #expect(throws: SafeTensorsError.fileAccess(missing)) { try SafeTensorsFile(path: path) }
        }
    }

    // MARK: - Writing

    @Suite("writing")
    struct Writing {
        @Test("writing what was read reproduces the reference writer's bytes", arguments: [
            "numpy.safetensors", "torch.safetensors", "edges.safetensors", "empty.safetensors",
            "zero_size.safetensors",
        ])
        func byteIdentical(name: String) throws {
            let file = try SafeTensorsFile(path: fixture(name))
            let output = FormatFixtures.scratchPath("byteIdentical", extension: "safetensors")
            defer { try? FileManager.default.removeItem(atPath: output) }
            try SafeTensors.write(file.arrays, metadata: file.metadata, to: output)
            let ours = try Data(contentsOf: URL(fileURLWithPath: output))
            #expect(ours == (try FormatFixtures.data("safetensors/\(name)")))
        }

        @Test("metadata keys are sorted, so output is deterministic; strings are escaped as serde_json does")
        func metadataRoundTrip() throws {
            let file = try SafeTensorsFile(path: fixture("metadata.safetensors"))
            let output = FormatFixtures.scratchPath("metadata", extension: "safetensors")
            defer { try? FileManager.default.removeItem(atPath: output) }
            try SafeTensors.write(file.arrays, metadata: file.metadata, to: output)
            let first = try Data(contentsOf: URL(fileURLWithPath: output))
            try SafeTensors.write(file.arrays, metadata: file.metadata, to: output)
            #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == first)

            let copy = try SafeTensorsFile(path: output)
            #expect(copy.names == file.names && copy.metadata == file.metadata)
            // The Python file's metadata order varies, but each escaped pair appears in it verbatim.
            let reference = String(decoding: try FormatFixtures.data("safetensors/metadata.safetensors"),
                                   as: UTF8.self)
            for (key, value) in file.metadata {
                let pair = SafeTensors.quoted(key) + ":" + SafeTensors.quoted(value)
                #expect(reference.contains(pair), "\(key)")
            }
            for name in file.names {
                #expect(reference.contains(SafeTensors.quoted(name) + ":{"), "\(name)")
            }
        }

        @Test("tensors are laid out in the order given, every dtype round-trips")
        func orderAndRoundTrip() throws {
            let source = try SafeTensorsFile(path: fixture("numpy.safetensors"))
            let bf16 = try SafeTensorsFile(path: fixture("torch.safetensors")).array(named: "bf16_2x2x2")
            let arrays = Array(source.arrays.reversed()) + [(name: "bf16", array: bf16)]
            let output = FormatFixtures.scratchPath("order", extension: "safetensors")
            defer { try? FileManager.default.removeItem(atPath: output) }
            try SafeTensors.write(arrays, to: output)
            let copy = try SafeTensorsFile(path: output)
            #expect(copy.names == arrays.map(\.name))
            #expect(copy.metadata.isEmpty)
            for (name, array) in arrays {
                let read = try copy.array(named: name)
                #expect(read.elementType == array.elementType && read.shape == array.shape, "\(name)")
                #expect(Array(read.bytes) == Array(array.bytes), "\(name)")
            }
            // The header is padded to a multiple of 8 bytes, like the reference writer's.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
            #expect(bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) } % 8 == 0)
        }

        @Test("duplicate and reserved names are rejected before touching the disk")
        func invalidNames() throws {
            let directory = try FormatFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("out.safetensors").path
            let a = RawArray(shape: [2], floats: [1, 2])
            #expect(throws: SafeTensorsError.duplicateName(path: path, name: "a")) {
                try SafeTensors.write([("a", a), ("b", a), ("a", a)], to: path)
            }
            #expect(throws: SafeTensorsError.reservedName(path: path)) {
                try SafeTensors.write([("__metadata__", a)], to: path)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }

        @Test("an unwritable destination is a file access error naming it")
        func unwritable() throws {
            let path = FormatFixtures.scratchPath("missing-directory", extension: "d") + "/out.safetensors"
            let error = #expect(throws: SafeTensorsError.self) {
                try SafeTensors.write([("a", RawArray(shape: [1], floats: [1]))], to: path)
            }
            #expect(error?.description.hasPrefix(path) == true)
        }
    }
}
