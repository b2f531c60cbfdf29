/// A map from values in 0…1 to colours, by linear interpolation between evenly spaced stops.
public struct Colormap: Sendable, Equatable {
    /// The stops' colours (R, G, B in 0…255), from 0 to 1.
    public let stops: [(UInt8, UInt8, UInt8)]

    /// A colormap through `stops`, evenly spaced from 0 to 1 (at least two).
    public init(stops: [(UInt8, UInt8, UInt8)]) {
        precondition(stops.count >= 2, "a colormap needs at least two stops")
        self.stops = stops
    }

    /// The colour of `value`, clamped to 0…1 (NaN maps to 0).
    public func color(_ value: Float) -> (UInt8, UInt8, UInt8) {
        let t = value.isNaN ? 0 : min(max(value, 0), 1) * Float(stops.count - 1)
        let index = min(Int(t), stops.count - 2)
        let fraction = t - Float(index)
        let (a, b) = (stops[index], stops[index + 1])
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Float(x) + (Float(y) - Float(x)) * fraction).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// Matplotlib's viridis (perceptually uniform, readable in grey and by colour-blind readers),
    /// through its colours at 0, 1/8, …, 1: the colormap for feature maps.
    public static let viridis = Colormap(stops: [
        (68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (109, 205, 89), (253, 231, 37),
    ])

    /// A diverging blue–white–red map (ColorBrewer's RdBu, reversed): negative values blue, zero
    /// white, positive red — for weights, with 0.5 meaning zero.
    public static let blueWhiteRed = Colormap(stops: [
        (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240), (247, 247, 247),
        (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
    ])

    public static func == (a: Colormap, b: Colormap) -> Bool {
        a.stops.count == b.stops.count && zip(a.stops, b.stops).allSatisfy { $0 == $1 }
    }
}
