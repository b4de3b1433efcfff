/// SplitMix64: small, fast, and the same sequence on every platform, so a seed fixes a result.
public struct SeededRandom: RandomNumberGenerator, Sendable, Codable, Hashable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform integer in `0..<n` (n > 0), without modulo bias.
    public mutating func below(_ n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

    /// An independent generator for sub-task `index` (a tree, a fold), derived from this seed.
    public func derived(_ index: Int) -> SeededRandom {
        var g = SeededRandom(seed: state ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return g
    }
}
