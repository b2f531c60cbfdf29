import Foundation

/// Training progress on standard error: on a terminal, one line redrawn at most ten times a second
/// (epoch, step, loss, pixels/s, ETA); otherwise one line per epoch, so logs are not flooded.
struct ProgressReporter {
    private let output: ProgressOutput
    private let isTerminal: Bool
    private let epochs: Int, steps: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var pixels = 0

    init(output: ProgressOutput, epochs: Int, steps: Int) {
        self.output = output
        isTerminal = isatty(STDERR_FILENO) != 0
        self.epochs = epochs
        self.steps = steps
    }

    mutating func stepFinished(epoch: Int, step: Int, pixels: Int, loss: Float) {
        self.pixels += pixels
        guard output == .standardError, isTerminal, Date().timeIntervalSince(lastDraw) >= 0.1 || step == steps - 1 else {
            return
        }
        lastDraw = Date()
        let done = epoch * steps + step + 1
        let width = 24, filled = width * (step + 1) / steps
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\u{1B}[K" + line(epoch: epoch, done: done, loss: loss, step: "step \(step + 1)/\(steps) [\(bar)]"))
    }

    mutating func epochFinished(epoch: Int, loss: Float) {
        guard output == .standardError else { return }
        if isTerminal {
            write("\n")
        } else {
            write(line(epoch: epoch, done: (epoch + 1) * steps, loss: loss, step: "\(steps) steps") + "\n")
        }
    }

    private func line(epoch: Int, done: Int, loss: Float, step: String) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(pixels) / max(elapsed, 1e-9)
        let remaining = elapsed / Double(done) * (Double(epochs) * Double(steps) - Double(done))
        return String(format: "epoch %d/%d %@ loss %.5g %@ px/s ETA %@", epoch + 1, epochs, step, loss,
                      ProgressReporter.abbreviated(rate), ProgressReporter.clock(remaining))
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    /// 1234567 → "1.23M".
    static func abbreviated(_ value: Double) -> String {
        value >= 1e6 ? String(format: "%.2fM", value / 1e6) : value >= 1e3 ? String(format: "%.1fk", value / 1e3)
            : String(format: "%.0f", value)
    }

    /// Seconds as m:ss.
    static func clock(_ seconds: Double) -> String {
        // Clamped: a run of absurdly many epochs has an ETA beyond Int.
        let total = Int(min(seconds.rounded(), 1e15))
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}
