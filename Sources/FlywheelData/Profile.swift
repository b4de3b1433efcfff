import FlywheelCore

/// Per-column statistics of a dataset: what a person looks at, what validation infers from, and
/// the reference that drift monitoring compares new data with.
public struct Profile: Hashable, Codable, Sendable {
    public var rows: Int
    public var columns: [ColumnProfile]

    public func column(named name: String) -> ColumnProfile? { columns.first { $0.name == name } }
}

public struct ColumnProfile: Hashable, Codable, Sendable {
    public var name: String
    public var type: ColumnType
    /// Values present.
    public var count: Int
    public var missing: Int
    public var numeric: NumericSummary?
    /// Category (or `true`/`false`) → rows, for categorical and boolean columns; at most
    /// ``ProfileAccumulator/maxCategories`` kept, the rest summed in `otherCount`.
    public var frequencies: [String: Int]?
    public var otherCount: Int?
}

/// What a numeric column's values look like.
public struct NumericSummary: Hashable, Codable, Sendable {
    public var mean: Double
    /// Sample standard deviation (n − 1), as pandas' `describe`.
    public var std: Double
    /// Population standard deviation (n), as drift statistics normalise by.
    public var populationStd: Double
    public var min: Double
    public var max: Double
    /// `p1`, `p5`, `p25`, `p50`, `p75`, `p95`, `p99`: linear interpolation between order
    /// statistics (numpy's default), from `sample`.
    public var quantiles: [String: Double]
    /// Equal-width bins from `min` to `max`; counts scaled to the column's count when the sample
    /// is not the whole column.
    public var histogram: Histogram
    /// A uniform random sample of the values, sorted; the whole column (exact) when it has at most
    /// ``ProfileAccumulator/sampleCapacity`` values. Drift tests (KS, Wasserstein, PSI) use it.
    public var sample: [Double]
    public var sampleIsExact: Bool
}

public struct Histogram: Hashable, Codable, Sendable {
    /// `bins + 1` increasing edges; the last bin includes its right edge.
    public var edges: [Double]
    public var counts: [Double]
}

/// Accumulates a profile chunk by chunk; accumulators of different chunks merge exactly
/// (moments by Chan's formula, counts by addition, samples by keeping the lowest priorities).
public struct ProfileAccumulator: Sendable {
    public static let sampleCapacity = 20_000
    public static let maxCategories = 1_000

    struct NumericState: Sendable {
        var n = 0
        var mean = 0.0
        var m2 = 0.0
        var min = Double.infinity
        var max = -Double.infinity
        /// (priority, value): the lowest `sampleCapacity` priorities form a uniform sample.
        var sample: [(UInt64, Double)] = []
    }

    struct ColumnState: Sendable {
        var name: String
        var type: ColumnType
        var count = 0
        var missing = 0
        var numeric = NumericState()
        var frequencies: [String: Int] = [:]
    }

    var columns: [ColumnState] = []
    public private(set) var rows = 0

    public init() {}

    /// Priority of global row `row` in column `column`: a fixed hash, so chunks agree.
    static func priority(_ row: Int, _ column: Int) -> UInt64 {
        var g = SeededRandom(seed: UInt64(truncatingIfNeeded: row) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: column))
        return g.next()
    }

    /// Adds a chunk whose first row is global row `rowOffset`.
    public mutating func add(_ table: Table, rowOffset: Int) throws {
        if columns.isEmpty, rows == 0 {
            columns = table.columns.map { ColumnState(name: $0.name, type: $0.type) }
        }
        guard table.columns.map(\.name) == columns.map(\.name), table.columns.map(\.type) == columns.map(\.type) else {
            throw FlywheelError.invalidArgument("a chunk's columns or types differ from the first chunk's")
        }
        for (ci, col) in table.columns.enumerated() {
            var s = columns[ci]
            columns[ci].numeric = NumericState()
            columns[ci].frequencies = [:]
            switch col.storage {
            case .numeric(let v):
                var st = s.numeric
                s.numeric = NumericState()  // so `st.sample` is uniquely referenced while it grows
                for (r, x) in v.enumerated() {
                    if x.isNaN { s.missing += 1; continue }
                    s.count += 1
                    st.n += 1
                    let d = x - st.mean
                    st.mean += d / Double(st.n)
                    st.m2 += d * (x - st.mean)
                    if x < st.min { st.min = x }
                    if x > st.max { st.max = x }
                    st.sample.append((Self.priority(rowOffset + r, ci), x))
                    if st.sample.count >= 2 * Self.sampleCapacity { Self.trim(&st.sample) }
                }
                s.numeric = st
            case .categorical(let codes, let cats):
                var local = [Int](repeating: 0, count: cats.count)
                for c in codes {
                    if c < 0 { s.missing += 1 } else { local[Int(c)] += 1 }
                }
                for (i, k) in local.enumerated() where k > 0 {
                    s.frequencies[cats[i], default: 0] += k
                    s.count += k
                }
            case .boolean(let b):
                for x in b {
                    if x > 1 { s.missing += 1; continue }
                    s.count += 1
                    s.frequencies[x == 1 ? "true" : "false", default: 0] += 1
                }
            }
            columns[ci] = s
        }
        rows += table.rowCount
    }

    static func trim(_ sample: inout [(UInt64, Double)]) {
        guard sample.count > sampleCapacity else { return }
        sample.sort { $0.0 < $1.0 }
        sample.removeLast(sample.count - sampleCapacity)
    }

    /// Adds another accumulator's rows (of the same columns).
    public mutating func merge(_ other: ProfileAccumulator) throws {
        if columns.isEmpty { self = other; return }
        if other.columns.isEmpty { return }
        guard other.columns.map(\.name) == columns.map(\.name), other.columns.map(\.type) == columns.map(\.type) else {
            throw FlywheelError.invalidArgument("cannot merge profiles of different columns")
        }
        for i in columns.indices {
            var a = columns[i]
            let b = other.columns[i]
            a.count += b.count
            a.missing += b.missing
            for (k, v) in b.frequencies { a.frequencies[k, default: 0] += v }
            let x = a.numeric, y = b.numeric
            if y.n > 0 {
                if x.n == 0 {
                    a.numeric = y
                } else {
                    var m = NumericState()
                    m.n = x.n + y.n
                    let delta = y.mean - x.mean
                    m.mean = x.mean + delta * Double(y.n) / Double(m.n)
                    m.m2 = x.m2 + y.m2 + delta * delta * Double(x.n) * Double(y.n) / Double(m.n)
                    m.min = Swift.min(x.min, y.min)
                    m.max = Swift.max(x.max, y.max)
                    m.sample = x.sample + y.sample
                    Self.trim(&m.sample)
                    a.numeric = m
                }
            }
            columns[i] = a
        }
        rows += other.rows
    }

    /// The finished profile.
    public func finish(histogramBins: Int = 20) -> Profile {
        Profile(rows: rows, columns: columns.map { s in
            var p = ColumnProfile(name: s.name, type: s.type, count: s.count, missing: s.missing)
            switch s.type {
            case .numeric:
                guard s.numeric.n > 0 else { break }
                var sample = s.numeric.sample
                Self.trim(&sample)
                let values = sample.map(\.1).sorted()
                let exact = s.numeric.n <= Self.sampleCapacity
                let st = s.numeric
                let quantiles = Dictionary(uniqueKeysWithValues: [1, 5, 25, 50, 75, 95, 99].map {
                    ("p\($0)", Self.quantile(values, Double($0) / 100))
                })
                p.numeric = NumericSummary(
                    mean: st.mean, std: st.n > 1 ? (st.m2 / Double(st.n - 1)).squareRoot() : 0,
                    populationStd: (st.m2 / Double(st.n)).squareRoot(), min: st.min, max: st.max, quantiles: quantiles,
                    histogram: Self.histogram(values, min: st.min, max: st.max, bins: histogramBins,
                                              scale: Double(st.n) / Double(values.count)),
                    sample: values, sampleIsExact: exact)
            case .categorical, .boolean:
                let sorted = s.frequencies.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                p.frequencies = Dictionary(uniqueKeysWithValues: sorted.prefix(Self.maxCategories).map { ($0.key, $0.value) })
                if sorted.count > Self.maxCategories { p.otherCount = sorted.dropFirst(Self.maxCategories).reduce(0) { $0 + $1.value } }
            }
            return p
        })
    }

    /// numpy's default (linear) quantile of sorted values.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    /// numpy.histogram's binning: edges `min + i·width`, index `⌊(v − min)·bins/(max − min)⌋`
    /// corrected against the edges, the last bin closed.
    static func histogram(_ sorted: [Double], min: Double, max: Double, bins: Int, scale: Double) -> Histogram {
        let b = Swift.max(bins, 1)
        if !(max > min) { return Histogram(edges: [min, max], counts: [Double(sorted.count) * scale]) }
        let step = (max - min) / Double(b)
        var edges = (0...b).map { Double($0) * step + min }
        edges[b] = max
        let norm = Double(b) / (max - min)
        var counts = [Double](repeating: 0, count: b)
        for v in sorted {
            var i = Int((v - min) * norm)
            if i >= b { i = b - 1 }
            if i < 0 { i = 0 }
            if v < edges[i] { i -= 1 } else if i != b - 1, v >= edges[i + 1] { i += 1 }
            counts[Swift.max(0, Swift.min(b - 1, i))] += 1
        }
        return Histogram(edges: edges, counts: counts.map { $0 * scale })
    }
}

extension Profile {
    /// Profiles a whole table.
    public init(of table: Table) {
        var acc = ProfileAccumulator()
        // invariant: the first chunk defines the columns, so it cannot mismatch.
        try! acc.add(table, rowOffset: 0)
        self = acc.finish()
    }
}
