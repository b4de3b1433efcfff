import FlywheelCore
import FlywheelData
import Foundation

/// Every column's drift between a reference table and a current one, and the dataset's verdict.
public struct DriftReport: Hashable, Codable, Sendable {
    public var columns: [ColumnDriftResult]
    public var referenceRows: Int
    public var currentRows: Int
    /// Columns tested (status ok) and how many drifted.
    public var testedColumns: Int
    public var driftedColumns: Int
    public var driftShare: Double
    /// Dataset drift: the share of drifted columns among those tested is at least `driftShareThreshold`.
    public var datasetDrift: Bool
    public var driftShareThreshold: Double

    /// Compares every column present in either table (`columns` limits it), in parallel across cores.
    public static func compare(reference: Table, current: Table, columns names: [String]? = nil, options: DriftOptions = DriftOptions()) -> DriftReport {
        var wanted = names ?? reference.columnNames
        if names == nil { for c in current.columnNames where !wanted.contains(c) { wanted.append(c) } }
        let all = wanted
        let results = inParallel(all.count) { i in compareColumn(all[i], reference.column(named: all[i]), current.column(named: all[i]), options) }
        return summarize(results, referenceRows: reference.rowCount, currentRows: current.rowCount, options: options)
    }

    static func compareColumn(_ name: String, _ r: Column?, _ c: Column?, _ options: DriftOptions) -> ColumnDriftResult {
        guard let r, let c else {
            return ColumnDriftResult(
                column: name, status: r == nil ? .missingInReference : .missingInCurrent, kind: (r ?? c).map(kind) ?? "numeric",
                referenceCount: 0, currentCount: 0, result: nil, scores: [:],
                message: r == nil ? "only the current data has this column" : "only the reference data has this column")
        }
        return ColumnDrift.compare(name, reference: sample(r), current: sample(c), options: options)
    }

    static func kind(_ c: Column) -> String { c.type == .numeric ? "numeric" : "categorical" }

    /// A column's values for drift: numbers as numbers (non-finite dropped), categories and booleans as category counts.
    public static func sample(_ c: Column) -> ColumnSample {
        switch c.storage {
        case .numeric(let x): return .numbers(x)
        case .categorical(let codes, let categories):
            var counts = [Int](repeating: 0, count: categories.count)
            for code in codes where code >= 0 { counts[Int(code)] += 1 }
            var out: [String: Int] = [:]
            for (i, n) in counts.enumerated() where n > 0 { out[categories[i], default: 0] += n }
            return .categorical(out)
        case .boolean(let b):
            var t = 0, f = 0
            for v in b {
                if v == 1 { t += 1 } else if v == 0 { f += 1 }
            }
            var out: [String: Int] = [:]
            if t > 0 { out["true"] = t }
            if f > 0 { out["false"] = f }
            return .categorical(out)
        }
    }
}

/// `body(i)` for i in 0..<count, the columns spread over the cores (each column's work is independent).
func inParallel(_ count: Int, _ body: @Sendable (Int) -> ColumnDriftResult) -> [ColumnDriftResult] {
    var results = [ColumnDriftResult?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { out in
        let buffer = UncheckedSendable(out)
        DispatchQueue.concurrentPerform(iterations: count) { i in buffer.value[i] = body(i) }
    }
    return results.compactMap { $0 }
}

/// Lets `concurrentPerform` iterations write disjoint slots of one buffer.
struct UncheckedSendable<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

extension DriftReport {
    /// Compares current data with a stored reference profile (a model version's training
    /// profile), so the reference is never recomputed from raw data: numbers use the profile's
    /// sample (every value when the training set was small enough, else a uniform sample),
    /// categories its counts.
    public static func compare(reference: Profile, current: Table, columns names: [String]? = nil, options: DriftOptions = DriftOptions()) -> DriftReport {
        let wanted = names ?? reference.columns.map(\.name)
        let results = inParallel(wanted.count) { i in
            let name = wanted[i]
            guard let p = reference.column(named: name), let c = current.column(named: name) else {
                var r = compareColumn(name, nil, current.column(named: name), options)
                if reference.column(named: name) != nil {
                    r.status = .missingInCurrent
                    r.message = "only the reference data has this column"
                }
                return r
            }
            return ColumnDrift.compare(name, reference: sample(p), current: sample(c), options: options)
        }
        return summarize(results, referenceRows: reference.rows, currentRows: current.rowCount, options: options)
    }

    /// A profile column as a drift sample.
    public static func sample(_ p: ColumnProfile) -> ColumnSample {
        if let n = p.numeric { return .numeric(n.sample.filter(\.isFinite)) }
        return .categorical(p.frequencies ?? [:])
    }

    static func summarize(_ cols: [ColumnDriftResult], referenceRows: Int, currentRows: Int, options: DriftOptions) -> DriftReport {
        let tested = cols.filter { $0.status == .ok }
        let drifted = tested.filter(\.drifted).count
        let share = tested.isEmpty ? 0 : Double(drifted) / Double(tested.count)
        return DriftReport(
            columns: cols, referenceRows: referenceRows, currentRows: currentRows, testedColumns: tested.count, driftedColumns: drifted,
            driftShare: share, datasetDrift: !tested.isEmpty && share >= options.driftShare, driftShareThreshold: options.driftShare)
    }
}
