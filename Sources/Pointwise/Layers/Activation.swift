import CPointwiseKernels
import Foundation

/// The activation applied after a convolution, fused into its epilogue, or on its own as a layer
/// (`Activation+Layer.swift`).
///
/// The raw values are the names the CLI accepts (`--activation relu6`).
public enum Activation: String, CaseIterable, Sendable, CustomStringConvertible {
    /// No activation: y = z.
    case identity = "none"
    /// max(z, 0).
    case relu
    /// min(max(z, 0), 6), MobileNet's clipped ReLU.
    case relu6
    /// 1 / (1 + e^-z).
    case sigmoid
    /// tanh(z).
    case tanh
    /// z · sigmoid(z), also called swish.
    case silu
    /// z · relu6(z + 3) / 6, MobileNetV3's hard-swish (PyTorch's `Hardswish`).
    case hardSwish = "hardswish"

    /// The CLI name (`none`, `relu`, …).
    public var description: String { rawValue }

    var kernelCode: Int32 {
        switch self {
        case .identity: Int32(PW_ACTIVATION_IDENTITY.rawValue)
        case .relu: Int32(PW_ACTIVATION_RELU.rawValue)
        case .relu6: Int32(PW_ACTIVATION_RELU6.rawValue)
        case .sigmoid: Int32(PW_ACTIVATION_SIGMOID.rawValue)
        case .tanh: Int32(PW_ACTIVATION_TANH.rawValue)
        case .silu: Int32(PW_ACTIVATION_SILU.rawValue)
        case .hardSwish: Int32(PW_ACTIVATION_HARDSWISH.rawValue)
        }
    }

    /// The activation in double precision: the reference the fast kernels are tested against.
    public func reference(_ z: Double) -> Double {
        switch self {
        case .identity: z
        case .relu: Swift.max(z, 0)
        case .relu6: Swift.min(Swift.max(z, 0), 6)
        case .sigmoid: 1 / (1 + Foundation.exp(-z))
        case .tanh: Foundation.tanh(z)
        case .silu: z / (1 + Foundation.exp(-z))
        case .hardSwish: z * Swift.min(Swift.max(z + 3, 0), 6) / 6
        }
    }

    /// The derivative with respect to the pre-activation z, in double precision. At the kinks of
    /// ReLU and ReLU6 it follows PyTorch: the gradient passes only where 0 < z (< 6).
    public func referenceDerivative(_ z: Double) -> Double {
        switch self {
        case .identity: return 1
        case .relu: return z > 0 ? 1 : 0
        case .relu6: return z > 0 && z < 6 ? 1 : 0
        case .sigmoid:
            let s = 1 / (1 + Foundation.exp(-z))
            return s * (1 - s)
        case .tanh:
            let t = Foundation.tanh(z)
            return 1 - t * t
        case .silu:
            let s = 1 / (1 + Foundation.exp(-z))
            return s * (1 + z * (1 - s))
        case .hardSwish:
            return z < -3 ? 0 : z <= 3 ? z / 3 + 0.5 : 1
        }
    }
}
