import FlywheelCore

/// Maps each feature's values to at most 255 bins by quantiles, plus one bin for missing values.
///
/// A feature with few distinct values gets one bin per value (edges halfway between them).
/// Value `v` falls in the first bin `b` with `v <= edges[b]`, or in the last bin past every edge;
/// a missing value falls in bin `binCount(f)`, just past the last (at most 255, so a byte holds it).
struct FeatureBinner: Codable, Sendable, Hashable {
    /// Upper edges per feature; feature `f` has `edges[f].count + 1` non-missing bins.
    var edges: [[Double]]

    init(_ x: Matrix, maxBins: Int) {
        edges = (0..<x.columns).map { f in
            var values = [Double]()
            values.reserveCapacity(x.rows)
            for r in 0..<x.rows {
                let v = x.values[r * x.columns + f]
                if !v.isNaN { values.append(v) }
            }
            values.sort()
            var distinct = [Double]()
            for v in values where distinct.last != v { distinct.append(v) }
            if distinct.count <= maxBins {
                return zip(distinct, distinct.dropFirst()).map { a, b in a + (b - a) / 2 }
            }
            var cuts = [Double]()
            let m = Double(values.count - 1)
            for k in 1..<maxBins {
                let position = Double(k) / Double(maxBins) * m
                let lo = Int(position)
                let hi = min(lo + 1, values.count - 1)
                let cut = values[lo] + (values[hi] - values[lo]) * (position - Double(lo))
                if cuts.last.map({ cut > $0 }) ?? true { cuts.append(cut) }
            }
            // The last edge must leave the maximum in a bin of its own side.
            if let last = cuts.last, let top = values.last, last >= top { cuts.removeLast() }
            return cuts
        }
    }

    func binCount(_ feature: Int) -> Int { edges[feature].count + 1 }

    func bin(_ value: Double, feature: Int) -> UInt8 {
        let e = edges[feature]
        if value.isNaN { return UInt8(e.count + 1) }
        var lo = 0, hi = e.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if value <= e[mid] { hi = mid } else { lo = mid + 1 }
        }
        return UInt8(lo)
    }

    /// Column-major bins: feature `f` of row `i` at `f * rows + i`.
    func transform(_ x: Matrix) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: x.rows * x.columns)
        for f in 0..<x.columns {
            for r in 0..<x.rows { out[f * x.rows + r] = bin(x.values[r * x.columns + f], feature: f) }
        }
        return out
    }
}
