import ArgumentParser
import Foundation
import Pointwise

/// `pointwise cost`: the articles' cost arguments for 1×1 convolutions, counted and timed.
struct Cost: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parameters, multiply-adds, bytes moved and roofline time of the articles' 1×1 comparisons, next to measured times.",
        discussion: """
            Each comparison costs two ways of doing the same job: a 3×3 convolution on 512 channels vs \
            ResNet's 1×1 bottleneck, GoogLeNet's 5×5 branch with and without its 1×1 reduction, FPN's \
            lateral alignment of C3–C6 with 1×1 vs 3×3 convolutions, and MobileNet's depthwise-separable \
            vs a standard 3×3 convolution. Bytes moved count Float32 input, output and weights once each; \
            the roofline time is the larger of FLOPs / FMA peak and bytes / copy bandwidth, both measured \
            on this machine first; the measured time runs the convolutions with random weights.
            """)

    @Option(parsing: .unconditional, help: "Worker threads for the measurements (default: every CPU).")
    var threads: Int?

    @Flag(help: "Only count; do not measure the machine or time the layers.")
    var skipMeasure = false

    func run() throws {
        let threads = try threadCount(self.threads)
        var machine: MachineProfile? = nil
        if !skipMeasure {
            printError("measuring this machine's FMA peak and copy bandwidth on \(threads) thread(s)…")
            machine = try MachineProfile.measure(threads: threads)
            print(String(format: "machine: FMA peak %.1f GFLOP/s, copy bandwidth %.1f GB/s, %d thread(s); "
                         + "ridge point %.1f FLOP/byte", machine!.fmaPeakGflops, machine!.copyGbps, threads,
                         machine!.fmaPeakGflops / machine!.copyGbps))
        }
        for comparison in CostComparison.articles {
            print("\n\(comparison.title)\n  \(comparison.claim)")
            print("  alternative                                      parameters  M mult-adds  MB moved  FLOP/B"
                  + (machine == nil ? "" : "  roofline ms  measured ms"))
            for alternative in comparison.alternatives {
                let cost = alternative.cost
                let parameters = cost.parameters.grouped
                var line = String(format: "  %@ %@ %12.1f %9.2f %7.1f",
                                  alternative.name.padding(toLength: 47, withPad: " ", startingAt: 0),
                                  String(repeating: " ", count: Swift.max(11 - parameters.count, 0)) + parameters,
                                  Double(cost.multiplyAdds) / 1e6,
                                  Double(cost.bytesMoved) / 1e6, cost.arithmeticIntensity)
                if let machine {
                    let predicted = cost.rooflineMilliseconds(peakGflops: machine.fmaPeakGflops,
                                                              bandwidthGBps: machine.copyGbps)
                    let measured = try Benchmark.measure(alternative, threads: threads)
                    line += String(format: " %12.3f %12.3f", predicted, measured)
                }
                print(line)
            }
            for alternative in comparison.alternatives.dropFirst() {
                let savings = comparison.savings(of: alternative)
                print(String(format: "  → %@: %.1f× fewer parameters, %.1f× fewer multiply-adds than %@",
                             alternative.name, savings.parameters, savings.multiplyAdds, comparison.alternatives[0].name))
            }
        }
    }
}
