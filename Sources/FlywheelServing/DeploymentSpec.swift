import FlywheelCore
import FlywheelRegistry
import FlywheelYAML
import Foundation
import Yams

/// A deployment as written in `deploy.yaml`: which model versions answer a name, in what shares,
/// with what safety nets and what logging.
///
/// ```yaml
/// deployment: iris
/// routes: [{model: iris@production, weight: 90}, {model: iris@staging, weight: 10}]
/// sticky: {header: x-user-id}
/// shadow: [iris@challenger]
/// fallback: {model: iris@previous}
/// review_below_confidence: 0.6
/// log: {sample_rate: 0.1, redact: [email, phone, card]}
/// ```
public struct DeploymentSpec: Hashable, Sendable {
    public struct Route: Hashable, Sendable {
        /// A model reference: `NAME@ALIAS` or `NAME/VERSION`.
        public var model: String
        public var weight: Double
        public init(model: String, weight: Double) {
            self.model = model
            self.weight = weight
        }
    }

    /// What answers when the routed version fails or misses the deadline.
    public enum Fallback: Hashable, Sendable {
        case model(String)
        case answer(JSONValue)
    }

    /// What to do with a category the model never saw in training.
    public enum UnseenCategories: String, Hashable, Sendable {
        /// Answer 400 naming the field and value.
        case reject
        /// Encode it as a missing value, as training-time preprocessing does.
        case missing
    }

    public struct LogPolicy: Hashable, Sendable {
        /// Share of requests logged, 0...1.
        public var sampleRate: Double = 1
        /// `email`, `phone`, `card` (patterns in any string field) and field names (their values removed).
        public var redact: [String] = []
        public init(sampleRate: Double = 1, redact: [String] = []) {
            self.sampleRate = sampleRate
            self.redact = redact
        }
    }

    public var name: String
    public var routes: [Route]
    /// The header whose value picks the route by hash, so one caller always meets one version.
    public var stickyHeader: String?
    public var shadow: [String] = []
    public var fallback: Fallback?
    public var reviewBelowConfidence: Double?
    public var log = LogPolicy()
    public var unseenCategories: UnseenCategories = .missing
    /// The per-request deadline.
    public var timeout: Duration = .seconds(1)

    public init(name: String, routes: [Route]) {
        self.name = name
        self.routes = routes
    }

    /// Every model reference the deployment names (routes, shadows, fallback), in that order, once each.
    public var references: [String] {
        var seen: Set<String> = []
        var out: [String] = []
        var all = routes.map(\.model) + shadow
        if case .model(let m) = fallback { all.append(m) }
        for m in all where seen.insert(m).inserted { out.append(m) }
        return out
    }

    static let topKeys = ["deployment", "description", "routes", "sticky", "shadow", "fallback", "review_below_confidence", "log",
                          "unseen_categories", "timeout"]

    /// Parses a deployment file, reporting every problem with its line and column.
    public static func parse(_ text: String) -> (spec: DeploymentSpec?, diagnostics: [Diagnostic]) {
        var r = SpecReader()
        guard let root = r.compose(text) else { return (nil, r.diagnostics) }
        guard let top = root.mapping else {
            r.report(root, "expected a mapping with 'deployment:' and 'routes:'")
            return (nil, r.diagnostics)
        }
        r.checkKeys(top, allowed: topKeys, what: "deployment")
        var spec = DeploymentSpec(name: "", routes: [])
        if let n = top["deployment"] {
            if let s = SpecReader.scalar(n), SpecReader.isName(s) { spec.name = s } else {
                r.report(n, "'deployment' must be a name of letters, digits, '-', '_' or '.'")
            }
        } else { r.report(root, "missing 'deployment:' (the name clients call: /predict/NAME)") }

        if let n = top["routes"] {
            if case .sequence(let seq) = n, !seq.isEmpty {
                for item in seq {
                    if let m = modelReference(item, &r, what: "route") {
                        var weight = 100.0
                        if let map = item.mapping {
                            r.checkKeys(map, allowed: ["model", "weight"], what: "route")
                            if let w = map["weight"] {
                                if let d = r.number(w, "weight") {
                                    if d < 0 || !d.isFinite { r.report(w, "'weight' must be 0 or more") } else { weight = d }
                                }
                            }
                        }
                        spec.routes.append(Route(model: m, weight: weight))
                    }
                }
                if !spec.routes.isEmpty && spec.routes.allSatisfy({ $0.weight == 0 }) {
                    r.report(n, "every route has weight 0: at least one must carry traffic")
                }
            } else { r.report(n, "'routes' must be a non-empty list like [{model: iris@production, weight: 100}]") }
        } else { r.report(root, "missing 'routes:' (which model versions answer, e.g. [{model: iris@production}])") }

        if let n = top["sticky"] {
            if let m = n.mapping, let h = m["header"], let s = SpecReader.scalar(h), !s.isEmpty {
                r.checkKeys(m, allowed: ["header"], what: "sticky")
                spec.stickyHeader = s.lowercased()
            } else { r.report(n, "'sticky' must be {header: NAME}, the request header whose value keeps a caller on one version") }
        }
        if let n = top["shadow"] {
            if case .sequence(let seq) = n {
                spec.shadow = seq.compactMap { modelReference($0, &r, what: "shadow") }
            } else if let m = modelReference(n, &r, what: "shadow") { spec.shadow = [m] }
        }
        if let n = top["fallback"] {
            if let m = n.mapping {
                r.checkKeys(m, allowed: ["model", "answer"], what: "fallback")
                if let a = m["answer"] {
                    spec.fallback = .answer(SpecReader.json(a))
                } else if let mv = m["model"], let ref = modelReference(mv, &r, what: "fallback") {
                    spec.fallback = .model(ref)
                } else if m["model"] == nil { r.report(n, "'fallback' needs 'model: NAME@ALIAS' or 'answer: VALUE'") }
            } else { r.report(n, "'fallback' must be {model: NAME@ALIAS} or {answer: VALUE}") }
        }
        if let n = top["review_below_confidence"], let d = r.number(n, "review_below_confidence") {
            if d < 0 || d > 1 { r.report(n, "'review_below_confidence' must be between 0 and 1") } else { spec.reviewBelowConfidence = d }
        }
        if let n = top["log"] {
            if let m = n.mapping {
                r.checkKeys(m, allowed: ["sample_rate", "redact"], what: "log")
                if let s = m["sample_rate"], let d = r.number(s, "sample_rate") {
                    if d < 0 || d > 1 { r.report(s, "'sample_rate' must be between 0 and 1") } else { spec.log.sampleRate = d }
                }
                if let red = m["redact"] {
                    if case .sequence(let seq) = red {
                        spec.log.redact = seq.compactMap { r.string($0, "redact") }
                    } else { r.report(red, "'redact' must be a list: email, phone, card or field names") }
                }
            } else { r.report(n, "'log' must be {sample_rate: 0.1, redact: [email, phone, card]}") }
        }
        if let n = top["unseen_categories"] {
            if let s = SpecReader.scalar(n), let u = UnseenCategories(rawValue: s) { spec.unseenCategories = u } else {
                r.report(n, "'unseen_categories' must be reject or missing")
            }
        }
        if let n = top["timeout"] {
            if let s = SpecReader.scalar(n), let d = parseDuration(s), d > .zero { spec.timeout = d } else {
                r.report(n, "'timeout' must be a duration like 250ms, 2s or 1m")
            }
        }
        return (r.diagnostics.isEmpty ? spec : nil, r.diagnostics)
    }

    /// `250ms`, `2s`, `1.5s`, `1m` (a bare number is seconds).
    static func parseDuration(_ s: String) -> Duration? {
        DurationText.seconds(s).map { .milliseconds(Int64(($0 * 1000).rounded())) }
    }

    /// A model reference written as a string or as `{model: REF}`.
    static func modelReference(_ n: Node, _ r: inout SpecReader, what: String) -> String? {
        let node = n.mapping?["model"] ?? n
        guard let s = SpecReader.scalar(node) else {
            r.report(n, "\(what) must name a model as NAME@ALIAS or NAME/VERSION")
            return nil
        }
        do { _ = try ModelURI(parsing: s) } catch let e as FlywheelError {
            r.report(node, "\(what): \(e.message)")
            return nil
        } catch { return nil }
        return s
    }
}
