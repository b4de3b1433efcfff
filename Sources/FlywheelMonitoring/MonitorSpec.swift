import FlywheelCore
import FlywheelRegistry
import FlywheelYAML
import Foundation
import Yams

/// A monitor as written in `monitor.yaml`: what to watch (a deployment's logged traffic, or a
/// query over the log), against what, how often, and what to do when it breaches.
///
/// ```yaml
/// monitor: iris-drift
/// deployment: iris
/// every: 24h
/// window: 24h
/// reference: training                      # or: {window: 7d, offset: 7d}
/// methods: auto                            # or per feature: {petal_length: psi}
/// thresholds: {psi: 0.2}
/// performance: {metric: accuracy, min: 0.9}
/// on_alert: [{webhook: "http://127.0.0.1:9000/hook"}, {run_pipeline: iris}, {rollback: iris}]
/// ```
public struct MonitorSpec: Hashable, Sendable {
    /// What the current window is compared with.
    public enum Reference: Hashable, Sendable {
        /// The training data's profile stored in the model version that served the window (skew).
        case training
        /// An earlier window of the same log: `length` seconds ending `offset` seconds before the current window's end (drift).
        case window(length: Double, offset: Double)
    }

    /// Accuracy-like metrics breach below their bound; error metrics above it.
    public struct Performance: Hashable, Sendable {
        public var metric: String
        public var bound: Double
        /// Fewer labelled predictions than this in the window: `insufficient data`, no verdict.
        public var minLabels = 20
        public init(metric: String, bound: Double, minLabels: Int = 20) {
            self.metric = metric
            self.bound = bound
            self.minLabels = minLabels
        }
        public var breachesBelow: Bool { Self.higherIsBetter.contains(metric) }
        public static let higherIsBetter: Set<String> = ["accuracy", "balanced_accuracy", "f1", "r2"]
        public static let metrics = ["accuracy", "balanced_accuracy", "f1", "rmse", "mae", "r2"]
    }

    /// A SQL query over the log whose first row's `value` column (or first column) is compared with a bound.
    public struct Query: Hashable, Sendable {
        public var sql: String
        public var bound: Double
        /// Breach when the value is below the bound (`below:`), else when above it (`above:`).
        public var breachesBelow: Bool
        public init(sql: String, bound: Double, breachesBelow: Bool) {
            self.sql = sql
            self.bound = bound
            self.breachesBelow = breachesBelow
        }
    }

    public enum Action: Hashable, Sendable {
        case webhook(url: String, attempts: Int)
        case runPipeline(name: String, params: [String: String])
        /// A deployment name (its routed aliases go back) or `MODEL@ALIAS`.
        case rollback(target: String)

        public var kind: String {
            switch self {
            case .webhook: "webhook"
            case .runPipeline: "run_pipeline"
            case .rollback: "rollback"
            }
        }
        public var target: String {
            switch self {
            case .webhook(let url, _): url
            case .runPipeline(let name, _): name
            case .rollback(let t): t
            }
        }
    }

    /// Rule names an alert carries.
    public static let rules = ["feature_drift", "prediction_drift", "performance", "query"]

    public var name: String
    public var deployment: String?
    /// How often the scheduler checks it (nil: only `flywheel monitor run`).
    public var every: Double?
    /// The current window's length in seconds, ending at the check's time.
    public var window: Double = 86_400
    public var reference: Reference = .training
    /// One method for every feature (nil: Evidently's choice per feature).
    public var method: DriftMethod?
    public var featureMethods: [String: DriftMethod] = [:]
    public var thresholds: [DriftMethod: Double] = [:]
    public var driftShare = 0.5
    /// A window (or reference window) with fewer logged records than this is `insufficient data`.
    public var minRows = 30
    /// The share of a window's logged records a check reads (a fixed subset: by a hash of each
    /// record's request id and index, so a check is reproducible).
    public var sampleRate = 1.0
    /// The features to watch (nil: the model's inputs, or every logged field against a window).
    public var features: [String]?
    /// Watch the answers' distribution too (label, confidence, value, out-of-range share).
    public var predictions = true
    /// With a training reference, a regression's share of answers outside the training target's range that breaches.
    public var outOfRange = 0.05
    public var performance: Performance?
    public var query: Query?
    /// The rules that raise alerts (default: every rule the monitor measures).
    public var alertOn: [String]?
    /// After an alert's actions ran, a rule's actions wait this long before running again.
    public var cooldown: Double = 3600
    public var actions: [Action] = []

    public init(name: String) { self.name = name }

    /// The drift options this spec asks for.
    public var driftOptions: DriftOptions {
        var o = DriftOptions(method: method)
        o.columnMethods = featureMethods
        for (m, t) in thresholds { o.thresholds[m] = t }
        o.driftShare = driftShare
        return o
    }

    /// The rules this monitor measures and alerts on.
    public var activeRules: [String] {
        var measured: [String] = []
        if deployment != nil { measured.append("feature_drift") }
        if deployment != nil && predictions { measured.append("prediction_drift") }
        if performance != nil { measured.append("performance") }
        if query != nil { measured.append("query") }
        return measured.filter { alertOn?.contains($0) ?? true }
    }

    static let topKeys = [
        "monitor", "description", "deployment", "every", "window", "reference", "methods", "thresholds", "drift_share", "min_rows",
        "features", "predictions", "performance", "query", "alert_on", "cooldown", "on_alert", "sample_rate",
    ]

    /// Parses a monitor file, reporting every problem with its line and column.
    public static func parse(_ text: String) -> (spec: MonitorSpec?, diagnostics: [Diagnostic]) {
        var r = SpecReader()
        guard let root = r.compose(text) else { return (nil, r.diagnostics) }
        guard let top = root.mapping else {
            r.report(root, "expected a mapping with 'monitor:' and 'deployment:' (or 'query:')")
            return (nil, r.diagnostics)
        }
        r.checkKeys(top, allowed: topKeys, what: "monitor")
        var spec = MonitorSpec(name: "")
        if let n = top["monitor"] {
            if let s = SpecReader.scalar(n), SpecReader.isName(s) { spec.name = s } else {
                r.report(n, "'monitor' must be a name of letters, digits, '-', '_' or '.'")
            }
        } else { r.report(root, "missing 'monitor:' (the monitor's name)") }
        if let n = top["deployment"] {
            if let s = SpecReader.scalar(n), SpecReader.isName(s) { spec.deployment = s } else {
                r.report(n, "'deployment' must name a deployment")
            }
        }
        if let n = top["every"] { spec.every = duration(n, "every", &r) }
        if let n = top["window"], let d = duration(n, "window", &r) { spec.window = d }
        if let n = top["cooldown"] {
            if let s = SpecReader.scalar(n), let d = DurationText.seconds(s), d <= maxDuration { spec.cooldown = d } else {
                r.report(n, "'cooldown' must be a duration like 30m, 6h or 0 (at most 100 years)")
            }
        }
        if let n = top["reference"] { spec.reference = reference(n, &r) }
        if let n = top["methods"] {
            if let s = SpecReader.scalar(n) {
                if s != "auto" {
                    if let m = DriftMethod(rawValue: s) { spec.method = m } else { r.report(n, "'methods': '\(s)' is not auto or a method (\(methodList))") }
                }
            } else if let m = n.mapping {
                for (k, v) in m {
                    guard let feature = k.string else { continue }
                    if let s = SpecReader.scalar(v), let dm = DriftMethod(rawValue: s) { spec.featureMethods[feature] = dm } else {
                        r.report(v, "'methods.\(feature)' must be a method: \(methodList)")
                    }
                }
            } else { r.report(n, "'methods' must be auto, a method, or {feature: method}") }
        }
        if let n = top["thresholds"] {
            if let m = n.mapping {
                for (k, v) in m {
                    guard let key = k.string else { continue }
                    guard let dm = DriftMethod(rawValue: key) else {
                        r.report(k, "'thresholds': '\(key)' is not a method (\(methodList))")
                        continue
                    }
                    if let d = r.number(v, "thresholds.\(key)") {
                        if d < 0 || !d.isFinite { r.report(v, "'thresholds.\(key)' must be 0 or more") } else { spec.thresholds[dm] = d }
                    }
                }
            } else { r.report(n, "'thresholds' must be {method: value}, e.g. {psi: 0.2}") }
        }
        if let n = top["drift_share"], let d = r.number(n, "drift_share") {
            if (0...1).contains(d) { spec.driftShare = d } else { r.report(n, "'drift_share' must be between 0 and 1") }
        }
        if let n = top["min_rows"], let d = r.number(n, "min_rows") {
            if d >= 1 && d <= 1e9 && d == d.rounded() { spec.minRows = Int(d) } else { r.report(n, "'min_rows' must be a whole number from 1 to 1,000,000,000") }
        }
        if let n = top["sample_rate"], let d = r.number(n, "sample_rate") {
            if d > 0 && d <= 1 { spec.sampleRate = d } else { r.report(n, "'sample_rate' must be more than 0 and at most 1") }
        }
        if let n = top["features"] {
            if case .sequence(let seq) = n, !seq.isEmpty { spec.features = seq.compactMap { r.string($0, "features") } } else {
                r.report(n, "'features' must be a non-empty list of field names")
            }
        }
        if let n = top["predictions"] {
            if let b = n.bool { spec.predictions = b } else if let m = n.mapping {
                r.checkKeys(m, allowed: ["out_of_range"], what: "predictions")
                if let o = m["out_of_range"], let d = r.number(o, "out_of_range") {
                    if (0...1).contains(d) { spec.outOfRange = d } else { r.report(o, "'out_of_range' must be a share between 0 and 1") }
                }
            } else { r.report(n, "'predictions' must be true, false or {out_of_range: 0.05}") }
        }
        if let n = top["performance"] { spec.performance = performance(n, &r) }
        if let n = top["query"] { spec.query = query(n, &r) }
        if let n = top["alert_on"] {
            if case .sequence(let seq) = n {
                spec.alertOn = seq.compactMap { item in
                    guard let s = SpecReader.scalar(item), rules.contains(s) else {
                        r.report(item, "'alert_on' entries must be rules: \(rules.joined(separator: ", "))")
                        return nil
                    }
                    return s
                }
            } else { r.report(n, "'alert_on' must be a list of rules: \(rules.joined(separator: ", "))") }
        }
        if let n = top["on_alert"] {
            if case .sequence(let seq) = n { spec.actions = seq.compactMap { action($0, &r) } } else {
                r.report(n, "'on_alert' must be a list like [{webhook: URL}, {run_pipeline: NAME}, {rollback: DEPLOYMENT}]")
            }
        }
        if spec.deployment == nil && spec.query == nil && !spec.name.isEmpty {
            r.report(root, "a monitor needs 'deployment:' (to watch its logged traffic) or 'query:' (SQL over the prediction log)")
        }
        if spec.deployment == nil, let p = top["performance"] { r.report(p, "'performance' needs 'deployment:' (its logged predictions and their feedback)") }
        if case .window(let length, let offset) = spec.reference, offset < length, top["reference"] != nil {
            r.report(top["reference"], "'reference.offset' (\(Int(offset))s) must be at least its window (\(Int(length))s), so the reference ends before the current window starts")
        }
        let sorted = r.diagnostics.sorted { ($0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.location?.line ?? 0, $1.location?.column ?? 0) }
        return (sorted.isEmpty ? spec : nil, sorted)
    }

    static var methodList: String { DriftMethod.allCases.map(\.rawValue).joined(separator: ", ") }

    /// The longest duration a monitor takes (100 years): windows and periods stay in range of
    /// millisecond arithmetic.
    static let maxDuration = 100 * 365.25 * 86_400

    static func duration(_ n: Node, _ what: String, _ r: inout SpecReader) -> Double? {
        if let s = SpecReader.scalar(n), let d = DurationText.seconds(s), d > 0, d <= maxDuration { return d }
        r.report(n, "'\(what)' must be a duration like 30m, 24h or 7d (at most 100 years)")
        return nil
    }

    static func reference(_ n: Node, _ r: inout SpecReader) -> Reference {
        if let s = SpecReader.scalar(n) {
            if s == "training" { return .training }
            r.report(n, "'reference' must be training or {window: 7d, offset: 7d}")
            return .training
        }
        guard let m = n.mapping, let w = m["window"] else {
            r.report(n, "'reference' must be training or {window: 7d, offset: 7d}")
            return .training
        }
        r.checkKeys(m, allowed: ["window", "offset"], what: "reference")
        let length = duration(w, "reference.window", &r) ?? 86_400
        var offset = length
        if let o = m["offset"] { offset = duration(o, "reference.offset", &r) ?? length }
        return .window(length: length, offset: offset)
    }

    static func performance(_ n: Node, _ r: inout SpecReader) -> Performance? {
        guard let m = n.mapping, let metricNode = m["metric"], let metric = SpecReader.scalar(metricNode) else {
            r.report(n, "'performance' must be {metric: accuracy, min: 0.9} (or {metric: rmse, max: 2.5})")
            return nil
        }
        r.checkKeys(m, allowed: ["metric", "min", "max", "min_labels"], what: "performance")
        guard Performance.metrics.contains(metric) else {
            r.report(metricNode, "'performance.metric': '\(metric)' is not one of \(Performance.metrics.joined(separator: ", "))")
            return nil
        }
        let higher = Performance.higherIsBetter.contains(metric)
        let key = higher ? "min" : "max"
        guard let b = m[key] else {
            r.report(n, "'performance' with \(metric) needs '\(key):' (\(higher ? "a breach is a value below it" : "a breach is a value above it"))")
            return nil
        }
        if m[higher ? "max" : "min"] != nil { r.report(m[higher ? "max" : "min"], "'performance' with \(metric) takes '\(key):', not '\(higher ? "max" : "min")'") }
        guard let bound = r.number(b, "performance.\(key)") else { return nil }
        var p = Performance(metric: metric, bound: bound)
        if let l = m["min_labels"], let d = r.number(l, "performance.min_labels") {
            if d >= 1 && d <= 1e9 && d == d.rounded() { p.minLabels = Int(d) } else { r.report(l, "'min_labels' must be a whole number from 1 to 1,000,000,000") }
        }
        return p
    }

    static func query(_ n: Node, _ r: inout SpecReader) -> Query? {
        guard let m = n.mapping, let sqlNode = m["sql"], let sql = SpecReader.scalar(sqlNode), !sql.isEmpty else {
            r.report(n, "'query' must be {sql: \"SELECT …\", below: 0.9} (or above:)")
            return nil
        }
        r.checkKeys(m, allowed: ["sql", "below", "above"], what: "query")
        let head = sql.trimmingCharacters(in: .whitespacesAndNewlines).prefix(6).uppercased()
        if !(head.hasPrefix("SELECT") || head.hasPrefix("WITH")) { r.report(sqlNode, "'query.sql' must be one SELECT statement") }
        switch (m["below"], m["above"]) {
        case (let b?, nil): return r.number(b, "query.below").map { Query(sql: sql, bound: $0, breachesBelow: true) }
        case (nil, let a?): return r.number(a, "query.above").map { Query(sql: sql, bound: $0, breachesBelow: false) }
        default:
            r.report(n, "'query' needs exactly one of 'below:' or 'above:' (the value that breaches)")
            return nil
        }
    }

    static func action(_ n: Node, _ r: inout SpecReader) -> Action? {
        guard let m = n.mapping, m.count >= 1 else {
            r.report(n, "an action must be {webhook: URL}, {run_pipeline: NAME} or {rollback: DEPLOYMENT}")
            return nil
        }
        if let u = m["webhook"] {
            r.checkKeys(m, allowed: ["webhook", "attempts"], what: "webhook action")
            guard let url = SpecReader.scalar(u), let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                r.report(u, "'webhook' must be an http(s) URL")
                return nil
            }
            var attempts = 4
            if let a = m["attempts"], let d = r.number(a, "attempts") {
                if d >= 1 && d <= 20 && d == d.rounded() { attempts = Int(d) } else { r.report(a, "'attempts' must be a whole number from 1 to 20") }
            }
            return .webhook(url: url, attempts: attempts)
        }
        if let p = m["run_pipeline"] {
            r.checkKeys(m, allowed: ["run_pipeline", "params"], what: "run_pipeline action")
            guard let name = SpecReader.scalar(p), SpecReader.isName(name) else {
                r.report(p, "'run_pipeline' must name a pipeline")
                return nil
            }
            var params: [String: String] = [:]
            if let pm = m["params"] {
                if let mm = pm.mapping {
                    for (k, v) in mm { if let key = k.string, let value = SpecReader.scalar(v) { params[key] = value } else { r.report(v, "'params' values must be scalars") } }
                } else { r.report(pm, "'params' must be {name: value}") }
            }
            return .runPipeline(name: name, params: params)
        }
        if let t = m["rollback"] {
            r.checkKeys(m, allowed: ["rollback"], what: "rollback action")
            guard let target = SpecReader.scalar(t), SpecReader.isName(target) || target.contains("@") else {
                r.report(t, "'rollback' must name a deployment or MODEL@ALIAS")
                return nil
            }
            if target.contains("@") {
                do { _ = try ModelURI(parsing: target) } catch {
                    r.report(t, "'rollback': \((error as? FlywheelError)?.message ?? "not NAME@ALIAS")")
                    return nil
                }
            }
            return .rollback(target: target)
        }
        r.report(n, "an action must be {webhook: URL}, {run_pipeline: NAME} or {rollback: DEPLOYMENT}")
        return nil
    }
}
