/// Where the channel axis sits in memory.
///
/// A tensor's `shape` is always the logical `[N, C, *spatial]`, as in PyTorch; the layout only
/// says how the elements are ordered in memory (PyTorch's `memory_format`).
public enum Layout: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `[N, C, *spatial]` in memory: each channel is a contiguous plane (NCHW, PyTorch's default).
    case channelsFirst = "nchw"
    /// `[N, *spatial, C]` in memory: each pixel is a contiguous channel vector (NHWC).
    case channelsLast = "nhwc"

    /// `nchw` or `nhwc`.
    public var description: String { rawValue }
}
