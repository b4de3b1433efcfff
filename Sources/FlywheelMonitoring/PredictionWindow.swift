import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation

/// One window of a deployment's prediction log, turned into what the checks compare: a table
/// of the logged features, and the answers as columns (`label`, `confidence`, `value`).
public struct PredictionWindow: Sendable {
    public var records: [PredictionRecord]

    public init(_ records: [PredictionRecord]) { self.records = records }

    public var count: Int { records.count }

    /// Whether a record falls in a `rate` sample: FNV-1a of its request id and index, mapped to
    /// [0, 1), below `rate`. The same record is in or out every time.
    public static func sampled(_ r: PredictionRecord, rate: Double) -> Bool {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in r.requestID.utf8 {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        for b in withUnsafeBytes(of: UInt64(r.index).littleEndian, Array.init) {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        return Double(h >> 11) / Double(1 << 53) < rate
    }

    /// Every feature name logged in the window, sorted.
    public var featureNames: [String] {
        var names: Set<String> = []
        for r in records { names.formUnion(r.features.keys) }
        return names.sorted()
    }

    /// The named features as a table: a field whose values are all numbers becomes a numeric
    /// column, all booleans a boolean one, anything else categories (numbers written as text).
    /// A field a record lacks, or holds null, is missing.
    public func features(_ names: [String]) throws -> Table {
        try Table(columns: names.map { name in Self.column(name, records.map { $0.features[name] }) })
    }

    /// The answers as a table: `label` (categories), `confidence` (the top class probability) and
    /// `value` (a regression's answer), each only when some record has it.
    public func outputs() throws -> Table {
        var label: [String?] = [], confidence: [Double] = [], value: [Double] = []
        var hasLabel = false, hasConfidence = false, hasValue = false
        for r in records {
            let o = r.output
            let l = o["label"].flatMap(Self.text)
            label.append(l)
            hasLabel = hasLabel || l != nil
            if case .object(let p)? = o["probabilities"] {
                let top = p.values.compactMap(\.numberValue).max()
                confidence.append(top ?? .nan)
                hasConfidence = hasConfidence || top != nil
            } else { confidence.append(.nan) }
            if let v = o["value"]?.numberValue {
                value.append(v)
                hasValue = true
            } else { value.append(.nan) }
        }
        var columns: [Column] = []
        if hasLabel { columns.append(.categorical("label", label)) }
        if hasConfidence { columns.append(.numeric("confidence", confidence)) }
        if hasValue { columns.append(.numeric("value", value)) }
        return try Table(columns: columns)
    }

    static func column(_ name: String, _ values: [JSONValue?]) -> Column {
        let present = values.compactMap { v -> JSONValue? in
            guard let v, v != .null else { return nil }
            return v
        }
        if !present.isEmpty && present.allSatisfy({ $0.numberValue != nil }) {
            return .numeric(name, values.map { $0?.numberValue ?? .nan })
        }
        if !present.isEmpty && present.allSatisfy({ if case .bool = $0 { true } else { false } }) {
            return .boolean(name, values.map { if case .bool(let b)? = $0 { b } else { nil } })
        }
        return .categorical(name, values.map { $0.flatMap(text) })
    }

    /// A scalar as category text (numbers in their shortest form); nil for null, lists and objects.
    static func text(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s
        case .number(let d): return NumberFormatting.shortest(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// A metric over the window's records that have a feedback label; nil when fewer than
    /// `minLabels` have one. Classifiers compare the answer's `label` with the feedback as text,
    /// regressors its `value` with the feedback as a number.
    public func performance(_ metric: String, minLabels: Int) -> (value: Double, labelled: Int)? {
        if ["rmse", "mae", "r2"].contains(metric) {
            var truth: [Double] = [], predicted: [Double] = []
            for r in records {
                guard let f = r.feedback?.numberValue ?? r.feedback.flatMap(Self.text).flatMap(Double.init),
                      let v = r.output["value"]?.numberValue, f.isFinite, v.isFinite else { continue }
                truth.append(f)
                predicted.append(v)
            }
            guard truth.count >= minLabels, !truth.isEmpty else { return nil }
            let value = switch metric {
            case "rmse": RegressionMetrics.rootMeanSquaredError(yTrue: truth, yPred: predicted)
            case "mae": RegressionMetrics.meanAbsoluteError(yTrue: truth, yPred: predicted)
            default: RegressionMetrics.r2(yTrue: truth, yPred: predicted)
            }
            return (value, truth.count)
        }
        var codes: [String: Int] = [:]
        func code(_ s: String) -> Int {
            if let c = codes[s] { return c }
            codes[s] = codes.count
            return codes.count - 1
        }
        var truth: [Int] = [], predicted: [Int] = []
        for r in records {
            guard let f = r.feedback.flatMap(Self.text), let l = r.output["label"].flatMap(Self.text) else { continue }
            truth.append(code(f))
            predicted.append(code(l))
        }
        guard truth.count >= minLabels, !truth.isEmpty else { return nil }
        let value = switch metric {
        case "balanced_accuracy": ClassificationMetrics.balancedAccuracy(yTrue: truth, yPred: predicted)
        case "f1": (try? ClassificationMetrics.f1(yTrue: truth, yPred: predicted, average: .macro)) ?? .nan
        default: ClassificationMetrics.accuracy(yTrue: truth, yPred: predicted)
        }
        return (value, truth.count)
    }
}
