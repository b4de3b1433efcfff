import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import Foundation

/// Checks a monitor over one window of the prediction log and records the outcome: feature
/// skew (against the training profile stored in the serving model version) or drift (against
/// an earlier window), the answers' distribution, performance from feedback labels, or a query's
/// value. The check and every result it measured are stored, so a report can draw any feature's
/// score over time.
public struct MonitorRunner: Sendable {
    public let store: any MetadataStore
    public let blobs: any BlobStore
    /// The most logged records one window reads.
    public var maxRows = 1_000_000

    public init(store: any MetadataStore, blobs: any BlobStore) {
        self.store = store
        self.blobs = blobs
    }

    /// Checks `spec` over the window ending at `now` and records the check. A failure to read
    /// the model or run the query is recorded as a `failed` check, not thrown.
    public func check(_ spec: MonitorSpec, at now: Timestamp) async throws -> MonitorCheck {
        let start = Timestamp(millisecondsSince1970: now.millisecondsSince1970 - Int64(spec.window * 1000))
        var check = MonitorCheck(
            monitor: spec.name, time: now, windowStart: start, windowEnd: now, reference: "", referenceRows: 0, currentRows: 0,
            status: .ok, message: "")
        do {
            if let deployment = spec.deployment { try await measureDeployment(spec, deployment, &check) }
            if let q = spec.query { try await measureQuery(spec, q, &check) }
        } catch let e as FlywheelError {
            check.status = .failed
            check.message = e.message
        }
        if check.status != .failed {
            check.breachedRules = Self.breachedRules(check.results)
            if !check.breachedRules.isEmpty {
                check.status = .breached
                check.message = "breached: " + check.breachedRules.joined(separator: ", ")
            } else if check.status == .ok && check.message.isEmpty {
                check.message = "within thresholds"
            }
        }
        return try await store.recordMonitorCheck(check)
    }

    static func breachedRules(_ results: [MonitorResult]) -> [String] {
        var rules: [String] = []
        if results.contains(where: { $0.kind == "dataset" && $0.breached }) { rules.append("feature_drift") }
        if results.contains(where: { $0.kind == "prediction" && $0.breached }) { rules.append("prediction_drift") }
        if results.contains(where: { $0.kind == "performance" && $0.breached }) { rules.append("performance") }
        if results.contains(where: { $0.kind == "query" && $0.breached }) { rules.append("query") }
        return rules
    }

    func window(_ deployment: String, from: Timestamp, to: Timestamp, sampleRate: Double) async throws -> PredictionWindow {
        let records = try await store.predictions(PredictionQuery(deployment: deployment, since: from, until: to, limit: maxRows))
        return PredictionWindow(sampleRate < 1 ? records.filter { PredictionWindow.sampled($0, rate: sampleRate) } : records)
    }

    func measureDeployment(_ spec: MonitorSpec, _ deployment: String, _ check: inout MonitorCheck) async throws {
        let current = try await window(deployment, from: check.windowStart, to: check.windowEnd, sampleRate: spec.sampleRate)
        check.currentRows = current.count
        guard current.count >= spec.minRows else {
            check.status = .insufficientData
            check.message = "the window holds \(current.count) logged predictions of \(deployment); at least \(spec.minRows) are needed (min_rows)"
            check.reference = spec.reference == MonitorSpec.Reference.training ? "training data" : "earlier window"
            return
        }
        var options = spec.driftOptions
        switch spec.reference {
        case .training:
            let (model, version) = Self.mostServed(current.records)
            let bundle = try await self.bundle(model, version)
            check.reference = "training data of \(model)/\(version)"
            check.referenceRows = bundle.profile.rows
            let inputs = bundle.signature.map(\.name)
            let features = spec.features ?? inputs
            let report = DriftReport.compare(reference: bundle.profile, current: try current.features(features), columns: features, options: options)
            check.results += Self.results(report, options)
            if spec.predictions { check.results += Self.predictionSkew(bundle, current, spec, options) }
        case .window(let length, let offset):
            let end = Timestamp(millisecondsSince1970: check.windowEnd.millisecondsSince1970 - Int64(offset * 1000))
            let start = Timestamp(millisecondsSince1970: end.millisecondsSince1970 - Int64(length * 1000))
            let reference = try await window(deployment, from: start, to: end, sampleRate: spec.sampleRate)
            check.reference = "window \(start) – \(end)"
            check.referenceRows = reference.count
            guard reference.count >= spec.minRows else {
                check.status = .insufficientData
                check.message = "the reference window holds \(reference.count) logged predictions; at least \(spec.minRows) are needed (min_rows)"
                return
            }
            let features = spec.features ?? Array(Set(reference.featureNames).union(current.featureNames)).sorted()
            let report = DriftReport.compare(
                reference: try reference.features(features), current: try current.features(features), columns: features, options: options)
            check.results += Self.results(report, options)
            if spec.predictions {
                options.driftShare = 1
                let (ref, cur) = (try reference.outputs(), try current.outputs())
                let out = DriftReport.compare(reference: ref, current: cur, options: options)
                check.results += out.columns.map { c in
                    var r = Self.result(c, kind: "prediction")
                    if c.column == "label", let a = ref.column(named: "label"), let b = cur.column(named: "label"),
                       case .categorical(let x) = DriftReport.sample(a), case .categorical(let y) = DriftReport.sample(b) {
                        r.detail = Self.positiveRate(x, y) ?? r.detail
                    }
                    return r
                }
            }
        }
        if let p = spec.performance {
            if let (value, labelled) = current.performance(p.metric, minLabels: p.minLabels), value.isFinite {
                let breached = p.breachesBelow ? value < p.bound : value > p.bound
                check.results.append(MonitorResult(
                    kind: "performance", name: p.metric, method: p.breachesBelow ? "min" : "max", score: value, threshold: p.bound,
                    breached: breached, detail: "\(labelled) labelled predictions"))
            } else {
                let labelled = current.records.filter { $0.feedback != nil }.count
                check.results.append(MonitorResult(
                    kind: "performance", name: p.metric, method: p.breachesBelow ? "min" : "max", score: nil, threshold: p.bound,
                    breached: false, status: "insufficient data", detail: "\(labelled) labelled predictions; \(p.minLabels) needed (min_labels)"))
            }
        }
    }

    /// The model version that answered most of the window's records (ties: the newest).
    static func mostServed(_ records: [PredictionRecord]) -> (String, Int) {
        var counts: [String: (model: String, version: Int, n: Int)] = [:]
        for r in records { counts["\(r.model)/\(r.version)", default: (r.model, r.version, 0)].n += 1 }
        let best = counts.values.max { ($0.n, $0.version) < ($1.n, $1.version) }!
        return (best.model, best.version)
    }

    func bundle(_ model: String, _ version: Int) async throws -> ModelBundle {
        guard let v = try await store.modelVersion(model: model, version: version) else {
            throw FlywheelError.notFound("model version \(model)/\(version), which served the window, is not in the registry")
        }
        guard let digest = v.digest else { throw FlywheelError.notFound("\(model)/\(version) has no model file, so no training profile") }
        return try ModelBundle.decode(try await blobs.data(digest), source: "\(model)/\(version)")
    }

    static func results(_ report: DriftReport, _ options: DriftOptions) -> [MonitorResult] {
        report.columns.map { result($0, kind: "feature") } + [
            MonitorResult(
                kind: "dataset", name: "drift_share", method: "share", score: report.driftShare, threshold: report.driftShareThreshold,
                breached: report.datasetDrift, status: report.testedColumns == 0 ? "insufficient data" : "ok",
                detail: "\(report.driftedColumns) of \(report.testedColumns) tested features drifted")
        ]
    }

    static func result(_ c: ColumnDriftResult, kind: String) -> MonitorResult {
        MonitorResult(
            kind: kind, name: c.column, method: c.result?.method.rawValue ?? "-", score: c.result?.score, threshold: c.result?.threshold,
            breached: c.drifted, status: c.status.rawValue, detail: c.message)
    }

    /// The answers against the training data: a classifier's labels against the target's class
    /// frequencies, a regressor's values against the target's sample and range.
    static func predictionSkew(_ bundle: ModelBundle, _ current: PredictionWindow, _ spec: MonitorSpec, _ options: DriftOptions) -> [MonitorResult] {
        guard let target = bundle.profile.column(named: bundle.target), let outputs = try? current.outputs() else { return [] }
        var out: [MonitorResult] = []
        switch bundle.task {
        case .classification:
            guard let labels = outputs.column(named: "label") else { return [] }
            let reference = target.frequencies ?? [:], current = DriftReport.sample(labels)
            var r = result(ColumnDrift.compare("label", reference: .categorical(reference), current: current, options: options), kind: "prediction")
            if case .categorical(let counts) = current, let rate = positiveRate(reference, counts) { r.detail = rate }
            out.append(r)
        case .regression:
            guard let values = outputs.column(named: "value"), let summary = target.numeric else { return [] }
            let c = ColumnDrift.compare("value", reference: DriftReport.sample(target), current: DriftReport.sample(values), options: options)
            out.append(result(c, kind: "prediction"))
            if case .numeric(let xs) = values.storage {
                let finite = xs.filter(\.isFinite)
                let outside = finite.filter { $0 < summary.min || $0 > summary.max }.count
                let share = finite.isEmpty ? 0 : Double(outside) / Double(finite.count)
                out.append(MonitorResult(
                    kind: "prediction", name: "out_of_range", method: "share", score: share, threshold: spec.outOfRange,
                    breached: share > spec.outOfRange,
                    detail: "\(outside) of \(finite.count) answers outside the training target's range [\(NumberFormatting.shortest(summary.min)), \(NumberFormatting.shortest(summary.max))]"))
            }
        }
        return out
    }

    /// For two classes, the positive rate (the later class in sorted order, as scikit-learn's
    /// `classes_[1]`) on each side, for people reading the label's result.
    static func positiveRate(_ reference: [String: Int], _ current: [String: Int]) -> String? {
        let classes = Set(reference.keys).union(current.keys).sorted()
        guard classes.count == 2 else { return nil }
        let positive = classes[1]
        func rate(_ c: [String: Int]) -> Double {
            let n = c.values.reduce(0, +)
            return n == 0 ? 0 : Double(c[positive] ?? 0) / Double(n)
        }
        return String(format: "positive rate (%@): %.4g now, %.4g in the reference", positive, rate(current), rate(reference))
    }

    func measureQuery(_ spec: MonitorSpec, _ q: MonitorSpec.Query, _ check: inout MonitorCheck) async throws {
        let rows = try await store.queryPredictionLog(sql: q.sql, since: check.windowStart, until: check.windowEnd)
        if spec.deployment == nil {
            check.reference = "query"
            check.currentRows = rows.count
        }
        let value: Double? = rows.first.flatMap { row in row["value"]?.numberValue ?? row.sorted { $0.key < $1.key }.lazy.compactMap(\.value.numberValue).first }
        guard let value, value.isFinite else {
            check.results.append(MonitorResult(
                kind: "query", name: "value", method: q.breachesBelow ? "min" : "max", score: nil, threshold: q.bound, breached: false,
                status: "insufficient data", detail: rows.isEmpty ? "the query returned no rows" : "the query's value is null (no rows in the window?)"))
            if spec.deployment == nil {
                check.status = .insufficientData
                check.message = "the query gave no value for this window"
            }
            return
        }
        let breached = q.breachesBelow ? value < q.bound : value > q.bound
        check.results.append(MonitorResult(
            kind: "query", name: "value", method: q.breachesBelow ? "min" : "max", score: value, threshold: q.bound, breached: breached,
            detail: "\(rows.count) row(s)"))
    }
}
