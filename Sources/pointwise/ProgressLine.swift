import Foundation

/// A progress line on standard error, redrawn at most a few times a second: percent done,
/// throughput and time left. Only for terminals, so logs and pipes stay clean.
final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let start = Date()
    private var lastDrawn = Date.distantPast
    private let lock = NSLock()

    private init(label: String) { self.label = label }

    /// A progress callback for `label`, or nil when standard error is not a terminal.
    static func ifTerminal(_ label: String) -> (@Sendable (Int, Int) -> Void)? {
        guard isatty(STDERR_FILENO) != 0 else { return nil }
        let line = ProgressLine(label: label)
        return { done, total in line.update(done: done, total: total) }
    }

    private func update(done: Int, total: Int) {
        lock.withLock {
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDrawn) >= 0.25 else { return }
            lastDrawn = now
            let elapsed = now.timeIntervalSince(start)
            let fraction = total == 0 ? 1 : Double(done) / Double(total)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let left = rate > 0 ? Double(total - done) / rate : 0
            let text = String(format: "\r%@: %5.1f%%  %.1f Mpixel/s  %@ left", label, 100 * fraction, rate / 1e6,
                              Self.duration(left))
            FileHandle.standardError.write(Data((text + (done == total ? "\n" : "")).utf8))
        }
    }

    private static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
