/// The tour's built-in data: small synthetic pictures and scenes made from formulas and a fixed
/// seed, so the tour needs no files and no network and gives the same numbers every run.
enum TourData {
    /// A colourful 96×128 RGB picture in 0…1: a sky gradient, a sun, hills and a red house.
    static func picture() throws -> Tensor {
        let (height, width) = (96, 128), plane = height * width
        var values = [Float](repeating: 0, count: 3 * plane)
        for y in 0..<height {
            for x in 0..<width {
                let (fy, fx) = (Float(y) / Float(height), Float(x) / Float(width))
                var rgb: (Float, Float, Float) = (0.35 + 0.3 * fy, 0.55 + 0.3 * fy, 0.95)   // sky
                let sun = (fx - 0.8) * (fx - 0.8) + (fy - 0.2) * (fy - 0.2)
                if sun < 0.006 { rgb = (1.0, 0.85, 0.2) }
                let hill = 0.62 + 0.08 * sin(fx * 9)
                if fy > hill { rgb = (0.2 + 0.2 * fx, 0.55 - 0.2 * (fy - hill), 0.15) }                   // grass
                if fx > 0.25 && fx < 0.45 && fy > 0.5 && fy < 0.75 { rgb = (0.75, 0.15, 0.12) }          // house
                if fx > 0.32 && fx < 0.38 && fy > 0.62 && fy < 0.75 { rgb = (0.35, 0.2, 0.1) }           // door
                values[y * width + x] = rgb.0
                values[plane + y * width + x] = rgb.1
                values[2 * plane + y * width + x] = rgb.2
            }
        }
        return try Tensor(shape: [1, 3, height, width], values: values)
    }

    /// A `[1, 64, 48, 48]` feature map whose 64 channels mix 16 smooth patterns (plus a little
    /// noise): 16 channels' worth of information spread over 64, which a 64→16 1×1 convolution
    /// can keep.
    static func redundantFeatures(random: inout SplitMix64) throws -> Tensor {
        let (channels, patterns, size) = (64, 16, 48), plane = size * size
        let mixing = (0..<channels * patterns).map { _ in random.nextFloat(in: -1...1) }
        var values = [Float](repeating: 0, count: channels * plane)
        for p in 0..<patterns {
            let (a, b, phase) = (Float(p % 4 + 1) * 0.13, Float(p / 4 + 1) * 0.11, Float(p) * 0.7)
            for s in 0..<plane {
                let (y, x) = (Float(s / size), Float(s % size))
                let pattern = sin(a * x + phase) * cos(b * y - phase)
                for c in 0..<channels { values[c * plane + s] += mixing[c * patterns + p] * pattern }
            }
        }
        for i in values.indices { values[i] += 0.02 * random.nextFloat(in: -1...1) }
        return try Tensor(shape: [1, channels, size, size], values: values)
    }

    /// Sentinel-2's band names, in the order of `spectra`.
    static let bandNames = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"]

    /// Reflectance of four land covers in Sentinel-2's 13 bands (coastal aerosol to SWIR-2).
    static let landCovers = ["water", "vegetation", "bare soil", "built-up"]
    static let spectra: [[Float]] = [
        [0.09, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01],
        [0.05, 0.05, 0.08, 0.05, 0.12, 0.30, 0.38, 0.42, 0.44, 0.20, 0.05, 0.24, 0.13],
        [0.10, 0.12, 0.16, 0.20, 0.23, 0.25, 0.27, 0.28, 0.29, 0.10, 0.04, 0.33, 0.30],
        [0.16, 0.17, 0.19, 0.21, 0.22, 0.23, 0.23, 0.24, 0.24, 0.08, 0.03, 0.26, 0.24],
    ]

    /// A 48×48 13-band scene with a lake, a forest, a town and fields; each pixel its class's
    /// spectrum with brightness variation and sensor noise. `shift` moves the layout.
    static func landCoverScene(shift: Int, random: inout SplitMix64) throws -> (image: Tensor, labels: [Int]) {
        let (size, bands) = (48, 13), plane = size * size
        var labels: [Int] = [], values = [Float](repeating: 0, count: bands * plane)
        for row in 0..<size {
            for column in 0..<size {
                let (r, c) = ((row + shift) % size, (column + 2 * shift) % size)
                let label = (r - 14) * (r - 14) + (c - 16) * (c - 16) < 100 ? 0 : r > 33 ? 1 : (c > 30 && r < 20) ? 3 : 2
                labels.append(label)
                let brightness = random.nextFloat(in: 0.8...1.2)
                for band in 0..<bands {
                    let noise = (random.nextFloat(in: -1...1) + random.nextFloat(in: -1...1)) * 0.02
                    values[band * plane + row * size + column] = brightness * spectra[label][band] + noise
                }
            }
        }
        return (try Tensor(shape: [1, bands, size, size], values: values), labels)
    }

    /// XOR of two binary channels: 64 pixels of each of the four patterns, `[256, 2]`, and labels.
    static func xor() throws -> (pixels: Tensor, labels: [Int]) {
        let patterns: [(Float, Float, Int)] = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<256 {
            let p = patterns[i % 4]
            values += [p.0, p.1]
            labels.append(p.2)
        }
        return (try Tensor(shape: [256, 2], values: values), labels)
    }
}

import Foundation
