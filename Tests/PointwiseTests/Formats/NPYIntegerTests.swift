import Foundation
import Testing
import Pointwise

@Suite struct NPYIntegerTests {
    @Test("a NumPy int64 file reads as labels")
    func numpyFile() throws {
        let labels = try NPY.readIntegers(contentsOf: NPYTests.fixture("i8_5.npy"))
        #expect(labels == NPYIntegers(shape: [5], values: [0, 1, 2, 3, 4]))
    }

    @Test("every integer dtype, both byte orders", arguments: [
        ("'|i1'", [0xFF, 0x02], [-1, 2]), ("'|u1'", [0xFF, 0x02], [255, 2]), ("'<i2'", [0xFE, 0xFF, 3, 0], [-2, 3]),
        ("'>i2'", [0xFF, 0xFE, 0, 3], [-2, 3]), ("'>u2'", [0x01, 0x00, 0, 3], [256, 3]),
        ("'<i4'", [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], [1, -1]), ("'>u4'", [0, 0, 1, 0, 0, 0, 0, 7], [256, 7]),
        ("'<i8'", [7, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [7, -1]),
        ("'>u8'", [0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 1, 0], [9, 256]),
    ] as [(String, [UInt8], [Int])])
    func dtypes(descr: String, bytes: [UInt8], expected: [Int]) throws {
        let data = NPYTests.npy(header: NPYTests.dict(descr: descr, shape: "(2,)"), data: bytes)
        #expect(try NPY.decodeIntegers(data, name: "y.npy") == NPYIntegers(shape: [2], values: expected))
    }

    @Test("float and other dtypes are rejected with a message that asks for integers")
    func rejected() throws {
        let data = NPYTests.npy(header: NPYTests.dict(descr: "'<f4'", shape: "(1,)"), data: NPYTests.float32Bytes([1]))
        #expect(throws: NPYError.integerDtypeExpected(name: "y.npy", descr: "<f4")) { try NPY.decodeIntegers(data, name: "y.npy") }
        #expect(NPYError.integerDtypeExpected(name: "y.npy", descr: "<f4").description.contains("astype(np.int64)"))
        let url = NPYTests.fixture("bool_3.npy")
        #expect(throws: NPYError.integerDtypeExpected(name: url.path, descr: "|b1")) { try NPY.readIntegers(contentsOf: url) }
        #expect(throws: NPYError.self) { try NPY.read(contentsOf: NPYTests.fixture("i8_5.npy")) }
    }
}
