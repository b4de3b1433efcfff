import Dispatch
import FlywheelCore

/// Maps each feature's values to at most 255 bins by quantiles, plus one bin for missing values.
///
/// A feature with few distinct values gets one bin per value (edges halfway between them).
/// Value `v` falls in the first bin `b` with `v <= edges[b]`, or in the last bin past every edge;
/// a missing value falls in bin `binCount(f)`, just past the last (at most 255, so a byte holds it).
struct FeatureBinner: Codable, Sendable, Hashable {
    /// Upper edges per feature; feature `f` has `edges[f].count + 1` non-missing bins.
    var edges: [[Double]]

    private init(edges: [[Double]]) { self.edges = edges }

    /// Learns the edges on `x` and bins it, column-major (feature `f` of row `i` at `f * rows + i`),
    /// feature by feature on up to `threads` threads. Each feature is handled whole by one thread,
    /// so the result doesn't depend on `threads`.
    static func fitted(_ x: Matrix, maxBins: Int, threads: Int) -> (binner: FeatureBinner, bins: [UInt8]) {
        let columns = columnMajor(x, threads: threads)
        var edges = [[Double]](repeating: [], count: x.columns)
        var bins = [UInt8](repeating: 0, count: x.rows * x.columns)
        let n = x.rows
        columns.withUnsafeBufferPointer { columnBuffer in
            edges.withUnsafeMutableBufferPointer { edgeBuffer in
                bins.withUnsafeMutableBufferPointer { binBuffer in
                    guard let c = columnBuffer.baseAddress, let e = edgeBuffer.baseAddress,
                          let b = binBuffer.baseAddress else { return }
                    let shared = FeatureJob(columns: c, edges: e, bins: b, rows: n)
                    forEachFeature(x.columns, threads: threads) { f in
                        let column = UnsafeBufferPointer(start: shared.columns + f * shared.rows, count: shared.rows)
                        let featureEdges = quantileEdges(column, maxBins: maxBins)
                        shared.edges[f] = featureEdges
                        binColumn(column, edges: featureEdges, into: shared.bins + f * shared.rows)
                    }
                }
            }
        }
        return (FeatureBinner(edges: edges), bins)
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

    /// Upper edges of one feature's bins from its values (NaN skipped).
    private static func quantileEdges(_ column: UnsafeBufferPointer<Double>, maxBins: Int) -> [Double] {
        let values = sortedValues(column)
        var distinct = [Double]()
        for v in values where distinct.last != v {
            distinct.append(v)
            if distinct.count > maxBins { break }
        }
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

    /// The column's values without NaN, in increasing order (−0 before +0), by a least-significant-digit
    /// radix sort on the values' bits: 6 passes of 11 bits, skipping a digit that every value shares.
    static func sortedValues(_ column: UnsafeBufferPointer<Double>) -> [Double] {
        // Keys that sort as unsigned integers in the values' order: flip every bit of a negative
        // value, only the sign bit of a positive one.
        var keys = [UInt64]()
        keys.reserveCapacity(column.count)
        for v in column where !v.isNaN {
            let bits = v.bitPattern
            keys.append(bits >> 63 == 1 ? ~bits : bits | (1 << 63))
        }
        let n = keys.count
        guard n > 1 else { return keys.isEmpty ? [] : [Double(bitPattern: keys[0] & ~(1 << 63))] }
        let digits = 6, radix = 2048
        var counts = [Int](repeating: 0, count: digits * radix)
        var scratch = [UInt64](repeating: 0, count: n)
        keys.withUnsafeMutableBufferPointer { keyBuffer in
            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                counts.withUnsafeMutableBufferPointer { countBuffer in
                    guard var source = keyBuffer.baseAddress, var destination = scratchBuffer.baseAddress,
                          let count = countBuffer.baseAddress else { return }
                    var i = 0
                    while i < n {
                        let k = source[i]
                        var d = 0
                        while d < digits { count[d * radix + Int((k >> UInt64(11 * d)) & 2047)] += 1; d += 1 }
                        i += 1
                    }
                    for d in 0..<digits {
                        let c = count + d * radix
                        // Every key has the same digit here: the pass would not move anything.
                        if c[Int((source[0] >> UInt64(11 * d)) & 2047)] == n { continue }
                        var total = 0
                        for b in 0..<radix { let m = c[b]; c[b] = total; total += m }
                        i = 0
                        while i < n {
                            let k = source[i]
                            let b = Int((k >> UInt64(11 * d)) & 2047)
                            destination[c[b]] = k
                            c[b] += 1
                            i += 1
                        }
                        swap(&source, &destination)
                    }
                    // An odd number of passes leaves the result in the scratch buffer.
                    if source != keyBuffer.baseAddress { keyBuffer.baseAddress?.update(from: source, count: n) }
                }
            }
        }
        return keys.map { k in Double(bitPattern: k >> 63 == 1 ? k & ~(1 << 63) : ~k) }
    }

    /// Bins one column: the count of edges below each value (as `bin(_:feature:)`), without branches
    /// on the value: the edges are padded to 255 with +∞ and searched in 8 fixed halving steps.
    private static func binColumn(_ column: UnsafeBufferPointer<Double>, edges: [Double], into out: UnsafeMutablePointer<UInt8>) {
        var padded = [Double](repeating: .infinity, count: 255)
        for (i, e) in edges.enumerated() { padded[i] = e }
        let missing = UInt8(edges.count + 1)
        padded.withUnsafeBufferPointer { buffer in
            guard let e = buffer.baseAddress, let c = column.baseAddress else { return }
            var i = 0
            let n = column.count
            while i < n {
                let v = c[i]
                var lo = 0
                lo += e[lo + 127] < v ? 128 : 0
                lo += e[lo + 63] < v ? 64 : 0
                lo += e[lo + 31] < v ? 32 : 0
                lo += e[lo + 15] < v ? 16 : 0
                lo += e[lo + 7] < v ? 8 : 0
                lo += e[lo + 3] < v ? 4 : 0
                lo += e[lo + 1] < v ? 2 : 0
                lo += e[lo] < v ? 1 : 0
                out[i] = v.isNaN ? missing : UInt8(truncatingIfNeeded: lo)
                i += 1
            }
        }
    }

    /// `x` transposed: feature `f` of row `i` at `f * rows + i`, copied in row blocks on up to `threads` threads.
    private static func columnMajor(_ x: Matrix, threads: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.rows * x.columns)
        let n = x.rows, d = x.columns
        guard n > 0, d > 0 else { return out }
        x.values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                guard let s = source.baseAddress, let o = destination.baseAddress else { return }
                let shared = Transpose(source: s, destination: o)
                let block = 1024
                let blocks = (n + block - 1) / block
                let body: @Sendable (Int) -> Void = { k in
                    let lo = k * block, hi = min(n, lo + block)
                    var f = 0
                    while f < d {
                        let column = shared.destination + f * n
                        var r = lo
                        while r < hi { column[r] = shared.source[r * d + f]; r += 1 }
                        f += 1
                    }
                }
                if threads > 1 && blocks > 1 {
                    DispatchQueue.concurrentPerform(iterations: blocks, execute: body)
                } else {
                    for k in 0..<blocks { body(k) }
                }
            }
        }
        return out
    }

    private static func forEachFeature(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        if threads > 1 && count > 1 {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        } else {
            for f in 0..<count { body(f) }
        }
    }
}

/// Buffers shared by the per-feature workers; `@unchecked Sendable` because each feature's
/// column, edges and bins are touched by one worker only, inside the owning arrays' scopes.
private struct FeatureJob: @unchecked Sendable {
    let columns: UnsafePointer<Double>
    let edges: UnsafeMutablePointer<[Double]>
    let bins: UnsafeMutablePointer<UInt8>
    let rows: Int
}

/// A transpose's buffers; each row block is written by one worker (`@unchecked Sendable`, as `FeatureJob`).
private struct Transpose: @unchecked Sendable {
    let source: UnsafePointer<Double>
    let destination: UnsafeMutablePointer<Double>
}
