import FlywheelCore
import Foundation

/// One column's values on one side, after cleaning (non-finite numbers and missing values dropped).
public enum ColumnSample: Sendable {
    case numeric([Double])
    case categorical([String: Int])

    /// Numbers with NaN and ±inf dropped (as Evidently cleans them).
    public static func numbers(_ raw: [Double]) -> ColumnSample {
        // Usually nothing is dropped: then the column's own storage is shared, not copied.
        .numeric(raw.allSatisfy(\.isFinite) ? raw : raw.filter(\.isFinite))
    }

    /// Category counts, missing values (nil) dropped.
    public static func categories(_ raw: [String?]) -> ColumnSample {
        var counts: [String: Int] = [:]
        for case let v? in raw { counts[v, default: 0] += 1 }
        return .categorical(counts)
    }

    public var count: Int {
        switch self {
        case .numeric(let x): x.count
        case .categorical(let c): c.values.reduce(0, +)
        }
    }
}

/// How a column's comparison came out, beside its score.
public enum ColumnDriftStatus: String, Hashable, Codable, Sendable {
    case ok
    /// Too few rows on a side (after dropping missing values) to test.
    case insufficientData = "insufficient data"
    /// Numbers on one side, categories on the other.
    case typeMismatch = "type mismatch"
    case missingInReference = "missing in reference"
    case missingInCurrent = "missing in current"
}

/// One measure's outcome.
public struct DriftScore: Hashable, Codable, Sendable {
    public var method: DriftMethod
    public var score: Double
    public var threshold: Double
    public var drifted: Bool
}

/// A column's comparison: the chosen method's verdict and, when asked, every other measure.
public struct ColumnDriftResult: Hashable, Codable, Sendable {
    public var column: String
    public var status: ColumnDriftStatus
    /// `numeric` or `categorical`.
    public var kind: String
    public var referenceCount: Int
    public var currentCount: Int
    /// The verdict (nil unless status is ok).
    public var result: DriftScore?
    /// Every measure computed, by method.
    public var scores: [String: Double]
    public var message: String?

    public var drifted: Bool { result?.drifted ?? false }
}

/// Settings for a drift comparison; defaults follow Evidently's.
public struct DriftOptions: Sendable {
    /// Nil: choose per column as Evidently does (see `defaultMethod`).
    public var method: DriftMethod?
    /// Per-column methods, overriding `method`.
    public var columnMethods: [String: DriftMethod] = [:]
    /// Thresholds by method (p-values: drift below; distances: drift at or above).
    public var thresholds: [DriftMethod: Double] = DriftOptions.defaultThresholds
    /// Fewer rows than this on either side (after cleaning) is `insufficient data`.
    public var minimumRows = 5
    /// Dataset drift when the share of drifted columns is at least this.
    public var driftShare = 0.5
    /// Compute every applicable measure per column, not only the chosen one.
    public var allMeasures = false

    public init(method: DriftMethod? = nil) { self.method = method }

    public static let defaultThresholds: [DriftMethod: Double] = [
        .ks: 0.05, .chisquare: 0.05, .z: 0.05, .wasserstein: 0.1, .jensenshannon: 0.1, .kl: 0.1, .psi: 0.1, .hellinger: 0.1,
        .linf: 0.1, .psiDeciles: 0.1,
    ]
}

public enum ColumnDrift {
    /// Evidently's default test: with a reference of at most 1,000 rows, KS for numbers with more
    /// than 5 distinct values (reference and current together), else chi-square for more than 2
    /// categories and the z-test for 2; with a larger reference, Wasserstein (normed) for numbers
    /// with more than 5 distinct values and Jensen–Shannon otherwise.
    public static func defaultMethod(numeric: Bool, referenceRows: Int, distinctValues: Int) -> DriftMethod {
        if referenceRows <= 1000 {
            if numeric && distinctValues > 5 { return .ks }
            return distinctValues > 2 ? .chisquare : .z
        }
        return numeric && distinctValues > 5 ? .wasserstein : .jensenshannon
    }

    /// Compares one column's reference and current samples.
    public static func compare(_ name: String, reference: ColumnSample, current: ColumnSample, options: DriftOptions) -> ColumnDriftResult {
        var out = ColumnDriftResult(
            column: name, status: .ok, kind: { if case .numeric = reference { "numeric" } else { "categorical" } }(),
            referenceCount: reference.count, currentCount: current.count, result: nil, scores: [:], message: nil)
        switch (reference, current) {
        case (.numeric(let r), .numeric(let c)):
            guard r.count >= options.minimumRows, c.count >= options.minimumRows else { return insufficient(out, options) }
            let rs = RadixSort.sorted(r), cs = RadixSort.sorted(c)
            // The default choice only asks "more than 5?"; Hellinger needs the exact count.
            let needsExact = options.allMeasures || options.columnMethods[name] == .hellinger || options.method == .hellinger
            let distinct = distinctCount(rs, cs, upTo: needsExact ? .max : 6)
            let chosen = options.columnMethods[name] ?? options.method
                ?? defaultMethod(numeric: true, referenceRows: r.count, distinctValues: distinct)
            let methods = options.allMeasures ? DriftMethod.allCases : [chosen]
            // Binning only when a binned measure is asked for (KS and Wasserstein need none).
            let binned = methods.contains { ![.ks, .wasserstein, .psiDeciles, .hellinger].contains($0) }
            var binning: Binning?
            if binned {
                var distinctRef = 0
                for (i, v) in rs.enumerated() where i == 0 || v != rs[i - 1] { distinctRef += 1 }
                binning = Binning.numeric(reference: rs, current: cs, referenceDistinct: distinctRef)
            }
            for m in methods {
                if let s = numericScore(m, rs, cs, binning, distinct: distinct) { out.scores[m.rawValue] = s }
            }
            return verdict(out, chosen, options)
        case (.categorical(let r), .categorical(let c)):
            guard r.values.reduce(0, +) >= options.minimumRows, c.values.reduce(0, +) >= options.minimumRows else { return insufficient(out, options) }
            let binning = Binning.categorical(reference: r, current: c)
            let chosen = options.columnMethods[name] ?? options.method
                ?? defaultMethod(numeric: false, referenceRows: r.values.reduce(0, +), distinctValues: binning.labels.count)
            let methods = options.allMeasures ? DriftMethod.allCases : [chosen]
            for m in methods {
                if let s = categoricalScore(m, binning) { out.scores[m.rawValue] = s }
            }
            return verdict(out, chosen, options)
        default:
            // A side with no values at all has no type to mismatch: it is simply too little data.
            if reference.count == 0 || current.count == 0 { return insufficient(out, options) }
            out.status = .typeMismatch
            out.message = "numbers on one side and categories on the other"
            return out
        }
    }

    static func insufficient(_ r: ColumnDriftResult, _ options: DriftOptions) -> ColumnDriftResult {
        var out = r
        out.status = .insufficientData
        out.message = "\(r.referenceCount) reference and \(r.currentCount) current values after dropping missing ones; at least \(options.minimumRows) each are needed"
        return out
    }

    static func verdict(_ r: ColumnDriftResult, _ method: DriftMethod, _ options: DriftOptions) -> ColumnDriftResult {
        var out = r
        guard let score = r.scores[method.rawValue] else {
            out.status = .typeMismatch
            out.message = "\(method.rawValue) does not apply to a \(r.kind) column"
            return out
        }
        let threshold = options.thresholds[method] ?? DriftOptions.defaultThresholds[method] ?? 0.1
        out.result = DriftScore(method: method, score: score, threshold: threshold, drifted: method.isPValue ? score < threshold : score >= threshold)
        return out
    }

    /// Distinct values of two sorted arrays together, counting no further than `limit`.
    static func distinctCount(_ a: [Double], _ b: [Double], upTo limit: Int = .max) -> Int {
        var i = 0, j = 0, n = 0
        var last: Double?
        while i < a.count || j < b.count {
            let x: Double
            if j >= b.count || (i < a.count && a[i] <= b[j]) {
                x = a[i]
                i += 1
            } else {
                x = b[j]
                j += 1
            }
            if x != last {
                n += 1
                last = x
                if n >= limit { return n }
            }
        }
        return n
    }

    static func numericScore(_ m: DriftMethod, _ r: [Double], _ c: [Double], _ binning: Binning?, distinct: Int) -> Double? {
        switch m {
        case .hellinger: return DriftStatistics.hellingerNumeric(sortedReference: r, sortedCurrent: c, distinct: distinct)
        case .ks: return KolmogorovSmirnov.twoSample(sortedA: r, sortedB: c).pvalue
        case .wasserstein:
            let std = DriftStatistics.meanAndStd(r).std
            let w = DriftStatistics.wasserstein(sortedReference: r, sortedCurrent: c)
            return std > 0 ? w / std : (w == 0 ? 0 : .infinity)
        case .psiDeciles: return DriftStatistics.psiOnReferenceDeciles(sortedReference: r, sortedCurrent: c).psi
        case .chisquare, .z, .linf:
            // Per-value bins only (a numeric column with few distinct values).
            guard let b = binning, b.edges == nil else { return nil }
            return categoricalScore(m, b)
        default: return binning.flatMap { categoricalScore(m, $0) }
        }
    }

    static func categoricalScore(_ m: DriftMethod, _ b: Binning) -> Double? {
        switch m {
        case .chisquare: DriftStatistics.chiSquare(b).pvalue
        case .z: b.labels.count == 2 ? DriftStatistics.zTest(b).pvalue : nil
        case .jensenshannon: DriftStatistics.jensenShannon(b)
        case .kl: DriftStatistics.kl(b)
        case .psi: DriftStatistics.psi(b)
        case .hellinger: DriftStatistics.hellinger(b)
        case .linf: DriftStatistics.lInfinity(b)
        case .ks, .wasserstein, .psiDeciles: nil
        }
    }
}
