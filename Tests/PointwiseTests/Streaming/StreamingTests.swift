import Foundation
import Testing
@testable import Pointwise

/// Streaming a 1×1 convolution through files in bounded memory: the same numbers as the
/// in-memory layer, tiles that cross nothing they should not, shards that merge into the
/// single run's file byte for byte.
@Suite struct StreamingTests {
    /// Files in a fresh directory: X, W, bias and the convolution they make.
    struct Job {
        let directory: URL
        let input: Tensor
        let conv: Conv1x1
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    }

    /// X `[2, 5, 37, 61]` (2,257 pixels per image, so 1,024-pixel tiles leave a ragged last tile)
    /// written in `layout`, and a 5→6 convolution.
    static func makeJob(layout: Layout = .channelsFirst, stride: Int = 1, groups: Int = 1,
                        activation: Activation = .identity) throws -> Job {
        let directory = try FormatFixtures.temporaryDirectory()
        var random = SplitMix64(seed: 11)
        let shape = [2, 5, 37, 61]
        let x = try Tensor(shape: shape, values: TestSupport.randomValues(shape.reduce(1, *), using: &random))
        let stored = layout == .channelsFirst ? x : x.converted(to: .channelsLast)
        try NPY.write(NPYArray(shape: stored.memoryShape, values: stored.scalars),
                      to: directory.appendingPathComponent("x.npy"))
        let weight = try Tensor(shape: [6, 5 / groups], values: TestSupport.randomValues(30 / groups, using: &random))
        let conv = try Conv1x1(weight: weight, bias: TestSupport.randomValues(6, using: &random), stride: stride,
                               groups: groups, activation: activation)
        return Job(directory: directory, input: stored, conv: conv)
    }

    /// Options whose budget makes tiles of exactly `tile` pixels for `job`'s 5→6 convolution.
    static func options(tile: Int, shard: Shard? = nil, residual: Bool = false) -> StreamingOptions {
        let perPixel = 5 * (4 + 4) + (residual ? 6 * (4 + 4) : 0) + 4 * 6
        return StreamingOptions(maxMemory: StreamingOptions.fixedAllowance + tile * perPixel, shard: shard,
                                execution: ExecutionOptions(threads: 2))
    }

    @Test("streamed output equals the in-memory convolution bit for bit", arguments: [
        (Layout.channelsFirst, 1, 1), (.channelsLast, 1, 1), (.channelsFirst, 2, 1), (.channelsLast, 3, 1),
    ])
    func matchesInMemory(layout: Layout, stride: Int, groups: Int) throws {
        let job = try Self.makeJob(layout: layout, stride: stride, groups: groups, activation: .relu6)
        defer { try? FileManager.default.removeItem(at: job.directory) }
        var options = Self.options(tile: 1024)
        options.dropsPages = stride == 1  // drop-behind, as a job larger than memory runs
        let report = try job.conv.stream(input: job.path("x.npy"), layout: layout, output: job.path("y.npy"),
                                         options: options)
        let expected = try job.conv(job.input, options: ExecutionOptions(threads: 1))
        let written = try NPY.read(contentsOf: URL(fileURLWithPath: job.path("y.npy")))
        #expect(written.shape == expected.memoryShape)
        #expect(written.values == expected.scalars)
        #expect(report.tilePixels == 1024)
        #expect(report.pixels == 0..<expected.count / 6)
    }

    @Test("grouped convolutions and the residual stream like the layer")
    func groupsAndResidual() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix64(seed: 3)
        let x = try Tensor(shape: [1, 6, 50, 50], values: TestSupport.randomValues(15_000, using: &random))
        let r = try Tensor(shape: [1, 4, 50, 50], values: TestSupport.randomValues(10_000, using: &random))
        let conv = try Conv1x1(weight: Tensor(shape: [4, 3], values: TestSupport.randomValues(12, using: &random)),
                               groups: 2, activation: .silu)
        for (name, tensor) in [("x", x), ("r", r)] {
            try NPY.write(NPYArray(shape: tensor.shape, values: tensor.scalars),
                          to: directory.appendingPathComponent("\(name).npy"))
        }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        try conv.stream(input: path("x.npy"), residual: path("r.npy"), output: path("y.npy"),
                        options: StreamingOptions(maxMemory: 64 << 20, execution: ExecutionOptions(threads: 1)))
        let expected = try conv(x, residual: r, options: ExecutionOptions(threads: 1))
        #expect(try NPY.read(contentsOf: URL(fileURLWithPath: path("y.npy"))).values == expected.scalars)
    }

    @Test("float16 and big-endian float64 inputs are converted a tile at a time, as NPY.read converts them")
    func otherElementTypes() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let conv = try Conv1x1(weight: Tensor(shape: [2, 3], values: [1, -2, 0.5, 0.25, 1, -1]))
        // A [1, 3, 20_000] float16 file and a big-endian float64 copy, written byte by byte: each
        // channel's row is longer than the reader's staging buffer, so conversion runs in steps.
        let shape = [1, 3, 20_000]
        let values: [Float] = (0..<60_000).map { Float($0 % 97) * 0.5 - 2 }
        let half = NPY.makeHeader(shape: shape, descr: "<f2") + values.flatMap { value -> [UInt8] in
            withUnsafeBytes(of: Float16(value).bitPattern.littleEndian, Array.init)
        }
        let double = NPY.makeHeader(shape: shape, descr: ">f8") + values.flatMap { value -> [UInt8] in
            withUnsafeBytes(of: Double(value).bitPattern.bigEndian, Array.init)
        }
        let expected = try conv(Tensor(shape: shape, values: values))
        for (name, bytes) in [("half.npy", half), ("double.npy", double)] {
            let input = directory.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: input))
            let output = directory.appendingPathComponent("y-" + name).path
            try conv.stream(input: input, output: output)
            #expect(try NPY.read(contentsOf: URL(fileURLWithPath: output)).values == expected.scalars, "\(name)")
        }
    }

    @Test("shards of any count merge into the single run's file byte for byte", arguments: [
        (Layout.channelsFirst, 1), (.channelsFirst, 3), (.channelsFirst, 7), (.channelsLast, 4), (.channelsLast, 5),
    ])
    func shardsMerge(layout: Layout, count: Int) throws {
        let job = try Self.makeJob(layout: layout)
        defer { try? FileManager.default.removeItem(at: job.directory) }
        try job.conv.stream(input: job.path("x.npy"), layout: layout, output: job.path("y.npy"),
                            options: Self.options(tile: 4096))
        var parts: [String] = []
        for index in (0..<count).reversed() {
            // Different budgets per shard: the cut depends only on the pixel count.
            let part = job.path("part\(index).safetensors")
            try job.conv.stream(input: job.path("x.npy"), layout: layout, output: part,
                                options: Self.options(tile: 1024 + 512 * index, shard: try Shard(index: index, count: count)))
            parts.append(part)
        }
        let merged = job.path("merged.npy")
        try ShardMerge.merge(parts: parts, to: merged, dropsPages: count.isMultiple(of: 2))
        #expect(try Data(contentsOf: URL(fileURLWithPath: merged)) == Data(contentsOf: URL(fileURLWithPath: job.path("y.npy"))))
        // A part is an ordinary safetensors file: the shard's pixels as [C, pixels] (or [pixels, C]).
        let first = try SafeTensorsFile(path: parts.last!)
        let pixels = try Shard(index: 0, count: count).pixels(of: 2 * 37 * 61).count
        #expect(try first.array(named: "output").shape == (layout == .channelsFirst ? [6, pixels] : [pixels, 6]))
    }

    @Test("shard ranges partition the pixels exactly, even for huge counts")
    func shardRanges() throws {
        for total in [0, 1, 5, 1_000_003, Int(Int32.max) * 9] {
            for count in [1, 2, 3, 7, 64] {
                var next = 0
                for index in 0..<count {
                    let range = try Shard(index: index, count: count).pixels(of: total)
                    #expect(range.lowerBound == next)
                    #expect(range.count >= total / count && range.count <= total / count + 1)
                    next = range.upperBound
                }
                #expect(next == total)
            }
        }
        #expect(try Shard(parsing: "2/4") == Shard(index: 2, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] {
            #expect(throws: StreamingError.self, "\(bad)") { try Shard(parsing: bad) }
        }
    }

    @Test("an input smaller than the smallest tile needs the program's allowance and only its own pixels")
    func tinyInputBudget() throws {
        let directory = try FormatFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let x = try Tensor(shape: [2, 4, 3, 3], values: (0..<72).map { Float($0) / 8 })
        let path = directory.appendingPathComponent("x.npy").path, output = directory.appendingPathComponent("y.npy").path
        try NPY.write(NPYArray(shape: x.shape, values: x.scalars), to: URL(fileURLWithPath: path))
        let conv = try Conv1x1(weight: Tensor(shape: [8, 4], values: (0..<32).map { Float($0 % 5) - 2 }))
        // 9 pixels per image at well under 1 KiB each: the old floor asked for 1,024 of them.
        try conv.stream(input: path, output: output,
                        options: StreamingOptions(maxMemory: StreamingOptions.fixedAllowance + 9 << 10))
        #expect(try NPY.read(contentsOf: URL(fileURLWithPath: output)).values
                == conv(x, options: ExecutionOptions(threads: 1)).scalars)
    }

    @Test("merge refuses parts that do not make one whole job, naming the part")
    func mergeRefusals() throws {
        let job = try Self.makeJob()
        defer { try? FileManager.default.removeItem(at: job.directory) }
        let other = try Conv1x1(weight: Tensor(shape: [6, 5], values: [Float](repeating: 0.5, count: 30)))
        for index in 0..<3 {
            try job.conv.stream(input: job.path("x.npy"), output: job.path("p\(index)"),
                                options: StreamingOptions(shard: try Shard(index: index, count: 3)))
        }
        try other.stream(input: job.path("x.npy"), output: job.path("q1"), options: StreamingOptions(shard: try Shard(index: 1, count: 3)))
        try job.conv.stream(input: job.path("x.npy"), output: job.path("r1"), options: StreamingOptions(shard: try Shard(index: 1, count: 4)))
        try SafeTensors.write([("output", RawArray(shape: [2], floats: [1, 2]))], to: job.path("plain"))
        var tampered = try SafeTensorsFile(path: job.path("p2")).metadata
        tampered["pointwise.first_pixel"] = "5"
        try SafeTensors.write([("output", try SafeTensorsFile(path: job.path("p2")).array(named: "output"))],
                              metadata: tampered, to: job.path("t2"))
        var undecided = try SafeTensorsFile(path: job.path("p2")).metadata
        undecided["pointwise.channels_last"] = "maybe"
        try SafeTensors.write([("output", try SafeTensorsFile(path: job.path("p2")).array(named: "output"))],
                              metadata: undecided, to: job.path("u2"))
        let cases: [([String], String, String)] = [
            (["p0", "p1"], "p0", "2/3 are missing"),
            (["p0", "p1", "p1", "p2"], "p1", "also given"),
            (["p0", "q1", "p2"], "q1", "different job"),
            (["p0", "r1", "p2"], "r1", "is shard 1/4"),
            (["p0", "p1", "plain"], "plain", "not a Pointwise shard part"),
            (["p0", "p1", "t2"], "t2", "pixel range"),
            (["p0", "p1", "nothing"], "nothing", "no such file"),
            (["p0", "p1", "x.npy"], "x.npy", "is a .npy file, not a shard part"),
            (["p0", "p1", "u2"], "u2", "'maybe', not true or false"),
        ]
        for (names, culprit, problem) in cases {
            let output = job.path("y.npy")
            do {
                try ShardMerge.merge(parts: names.map(job.path), to: output)
                Issue.record("merged \(names)")
            } catch {
                #expect(error.description.contains(job.path(culprit)), "\(error)")
                #expect(error.description.contains(problem), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    @Test("bad inputs are refused before any output appears, naming the file or setting")
    func refusals() throws {
        let job = try Self.makeJob()
        defer { try? FileManager.default.removeItem(at: job.directory) }
        let output = job.path("y.npy")
        let wrongChannels = try Conv1x1(weight: Tensor(shape: [2, 4], values: [Float](repeating: 1, count: 8)))
        try NPY.write(NPYArray(shape: [2, 6, 37], values: [Float](repeating: 0, count: 444)),
                      to: URL(fileURLWithPath: job.path("r.npy")))
        let attempts: [(String, () throws(StreamingError) -> Void)] = [
            ("x.npy", { () throws(StreamingError) in try wrongChannels.stream(input: job.path("x.npy"), output: output) }),
            ("r.npy", { () throws(StreamingError) in
                try job.conv.stream(input: job.path("x.npy"), residual: job.path("r.npy"), output: output) }),
            ("missing.npy", { () throws(StreamingError) in try job.conv.stream(input: job.path("missing.npy"), output: output) }),
            ("budget", { () throws(StreamingError) in
                try job.conv.stream(input: job.path("x.npy"), output: output, options: StreamingOptions(maxMemory: 1 << 20)) }),
        ]
        for (subject, attempt) in attempts {
            #expect(throws: StreamingError.self, "\(subject)") { try attempt() }
            do { try attempt() } catch {
                let named = subject == "budget" ? error.description.contains("memory budget")
                    && error.description.contains("48 MiB for the program itself") : error.description.contains(subject)
                #expect(named, "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: job.directory.path).sorted() == ["r.npy", "x.npy"])
    }

    @Test("a per-pixel network streams its outputs and its class map; class-map shards merge exactly")
    func pixelNetwork() throws {
        let job = try Self.makeJob()
        defer { try? FileManager.default.removeItem(at: job.directory) }
        let network = try PixelNetwork(widths: [5, 7, 4], seed: 3)
        let expected = try network(job.input, options: ExecutionOptions(threads: 1))
        try network.stream(input: job.path("x.npy"), output: job.path("scores.npy"),
                           options: StreamingOptions(maxMemory: 50 << 20))
        #expect(try NPY.read(contentsOf: URL(fileURLWithPath: job.path("scores.npy"))).values == expected.scalars)

        try network.stream(input: job.path("x.npy"), output: job.path("classes.npy"), classMap: true,
                           options: StreamingOptions(maxMemory: 50 << 20))
        let classes = try NPY.readIntegers(contentsOf: URL(fileURLWithPath: job.path("classes.npy")))
        #expect(classes.shape == [2, 37, 61])
        let values = expected.scalars, pixels = 37 * 61
        let argmax = (0..<2 * pixels).map { g -> Int in
            let (n, p) = g.quotientAndRemainder(dividingBy: pixels)
            let scores = (0..<4).map { values[(n * 4 + $0) * pixels + p] }
            return scores.firstIndex(of: scores.max()!)!
        }
        #expect(classes.values == argmax)

        let parts = try (0..<3).map { index -> String in
            let part = job.path("classes\(index)")
            try network.stream(input: job.path("x.npy"), output: part, classMap: true,
                               options: StreamingOptions(shard: try Shard(index: index, count: 3)))
            return part
        }
        try ShardMerge.merge(parts: parts, to: job.path("merged.npy"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: job.path("merged.npy")))
                == Data(contentsOf: URL(fileURLWithPath: job.path("classes.npy"))))
    }

    @Test("argmax takes the first of equal scores and the first NaN, as NumPy does")
    func argmaxTies() throws {
        let scores = try Tensor(shape: [1, 3, 4], values: [1, 2, .nan, 0,  3, 2, 1, .nan,  3, 0, .nan, 0])
        let classes = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 4)
        defer { classes.deallocate() }
        PixelNetwork.argmax(scores, into: classes)
        #expect(Array(classes) == [1, 0, 0, 1])
    }
}
