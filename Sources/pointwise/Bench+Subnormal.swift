import Foundation
import Pointwise

extension Bench {
    /// `bench --subnormal`: the slowdown of subnormal data per shape.
    func runSubnormals(threads: Int) throws {
        let shapes = shapes.isEmpty && suite == nil
            ? [BenchmarkShape(name: "1x256to256-56x56", n: 1, cin: 256, cout: 256, h: 56, w: 56)]
            : try loadSuite().shapes
        print("shape                      data        median ms   slowdown")
        for shape in shapes {
            for timing in try Benchmark.subnormalSlowdowns(shape, threads: threads) {
                let name = shape.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                let data = timing.data.padding(toLength: 10, withPad: " ", startingAt: 0)
                print(name + " " + data + String(format: " %10.3f %9.2f×", timing.milliseconds, timing.slowdown))
            }
        }
    }
}
