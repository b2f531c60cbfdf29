import CPointwiseSystem

/// Removal of half-written temporary files when the process is interrupted.
///
/// Every writer in Pointwise fills a hidden temporary file beside its destination and renames it
/// into place at the end (`AtomicFile`), so an interrupted run never leaves a partial output and
/// never damages the previous one. What an interruption can leave is the hidden temporary file;
/// after `install()`, SIGINT, SIGTERM and SIGHUP remove those too, then end the process by the
/// same signal (exit status 130 for Ctrl-C). SIGKILL cannot be caught: it may leave a hidden
/// `.NAME.UUID.tmp` file, never a partial `NAME`.
///
/// A library does not take over signals by itself: the `pointwise` tool calls `install()` at
/// start; an application that handles signals its own way can call `removeRegisteredFiles()`
/// from its handler instead.
public enum InterruptCleanup {
    /// Installs the signal handlers (idempotent) and unblocks those signals on the calling thread
    /// (a blocked mask inherited from a parent would keep them from ever arriving). Signals the
    /// process was started ignoring stay ignored, as `nohup` and shells intend.
    /// - Returns: whether the handlers are in place.
    @discardableResult
    public static func install() -> Bool {
        pw_cleanup_install() == 0
    }

    /// Removes every registered temporary file now (async-signal-safe).
    /// - Returns: how many files were removed.
    @discardableResult
    public static func removeRegisteredFiles() -> Int {
        Int(pw_cleanup_run())
    }

    /// Registers `path` for removal on interruption; pass the result to `unregister(_:)` once
    /// the file is renamed or removed.
    static func register(_ path: String) -> Int32 {
        pw_cleanup_register(path)
    }

    /// Forgets a registration made by `register(_:)`.
    static func unregister(_ slot: Int32) {
        pw_cleanup_unregister(slot)
    }
}
