import Foundation

/// Reference and current counts over shared bins: the input of PSI, KL, Jensen–Shannon and
/// Hellinger, binned the way Evidently does so the scores agree with its reports.
public struct Binning: Hashable, Sendable {
    /// Numeric bins: `edges.count == bins + 1`; nil for one bin per distinct value.
    public var edges: [Double]?
    /// One label per bin (the value for per-value bins, the range otherwise).
    public var labels: [String]
    public var referenceCounts: [Int]
    public var currentCounts: [Int]

    public var referenceShares: [Double] { Self.shares(referenceCounts) }
    public var currentShares: [Double] { Self.shares(currentCounts) }

    static func shares(_ counts: [Int]) -> [Double] {
        let n = Double(counts.reduce(0, +))
        return counts.map { n > 0 ? Double($0) / n : 0 }
    }

    /// Shares with empty bins filled, as Evidently does before PSI and KL: each zero becomes
    /// (smallest non-zero share ÷ 10⁶) when that share is at most 1e-4, else 1e-4; per side, not renormalised.
    static func filled(_ shares: [Double]) -> [Double] {
        guard shares.contains(0) else { return shares }
        let smallest = shares.filter { $0 > 0 }.min() ?? 1
        let fill = smallest <= 1e-4 ? smallest / 1e6 : 1e-4
        return shares.map { $0 == 0 ? fill : $0 }
    }

    /// Numbers: Sturges equal-width bins over both samples when the reference has more than 20
    /// distinct values (as `numpy.histogram_bin_edges(…, "sturges")`), else one bin per distinct value.
    /// Both arrays sorted ascending and finite.
    public static func numeric(reference: [Double], current: [Double], referenceDistinct: Int) -> Binning {
        if referenceDistinct > 20 { return sturges(reference: reference, current: current) }
        var keys = Set(reference)
        keys.formUnion(current)
        let sorted = keys.sorted()
        var index: [Double: Int] = [:]
        for (i, k) in sorted.enumerated() { index[k] = i }
        var r = [Int](repeating: 0, count: sorted.count), c = r
        for v in reference { if let i = index[v] { r[i] += 1 } }
        for v in current { if let i = index[v] { c[i] += 1 } }
        return Binning(edges: nil, labels: sorted.map { "\($0)" }, referenceCounts: r, currentCounts: c)
    }

    /// Equal-width bins over both samples, as many as Sturges' rule gives for `binCountFor`
    /// values (default: both samples together).
    static func sturges(reference: [Double], current: [Double], binCountFor size: Int? = nil) -> Binning {
        let n = size ?? (reference.count + current.count)
        let lo = min(reference.first ?? 0, current.first ?? 0)
        let hi = max(reference.last ?? 0, current.last ?? 0)
        var first = lo, last = hi
        // numpy widens an empty range by 0.5 on each side.
        if first == last {
            first -= 0.5
            last += 0.5
        }
        let width = (hi - lo) / (log2(Double(n)) + 1)
        let bins = width > 0 ? max(1, Int((( hi - lo) / width).rounded(.up))) : 1
        // numpy.linspace: start + step * i, with the last edge exactly `last`.
        let step = (last - first) / Double(bins)
        var edges = (0...bins).map { first + Double($0) * step }
        edges[bins] = last
        func counts(_ values: [Double]) -> [Int] {
            var out = [Int](repeating: 0, count: bins)
            let norm = Double(bins) / (last - first)
            for v in values {
                // numpy.histogram's uniform-bin index with its two edge corrections.
                var i = Int(((v - first) * norm).rounded(.down))
                if i >= bins { i = bins - 1 }
                if i < 0 { i = 0 }
                if v < edges[i] { i -= 1 }
                if i + 1 < bins, v >= edges[i + 1] { i += 1 }
                out[max(0, min(bins - 1, i))] += 1
            }
            return out
        }
        let labels = (0..<bins).map { "[\(edges[$0]), \(edges[$0 + 1])\($0 == bins - 1 ? "]" : ")")" }
        return Binning(edges: edges, labels: labels, referenceCounts: counts(reference), currentCounts: counts(current))
    }

    /// Categories: one bin per value seen on either side, in sorted order.
    public static func categorical(reference: [String: Int], current: [String: Int]) -> Binning {
        let keys = Set(reference.keys).union(current.keys).sorted()
        return Binning(edges: nil, labels: keys, referenceCounts: keys.map { reference[$0] ?? 0 }, currentCounts: keys.map { current[$0] ?? 0 })
    }
}
