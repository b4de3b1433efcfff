import FlywheelCore
import FlywheelData
import FlywheelRegistry
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the caller provides for actions this module cannot take alone.
public protocol AlertHooks: Sendable {
    /// Starts the named pipeline (continuous training) and returns what happened, for the record
    /// (the run's id and status).
    func runPipeline(_ name: String, params: [String: String], reason: String) async throws -> String
    /// The `MODEL@ALIAS` references a deployment's routes name.
    func routedAliases(deployment: String) async throws -> [String]
}

/// What a check did to one of the monitor's rules.
public struct AlertTransition: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// A new alert: its actions ran, or were suppressed by the cooldown.
        case fired
        /// Still breached: the firing alert was seen again; nothing new was sent.
        case repeated
        case resolved
    }
    public var kind: Kind
    public var alert: Alert
    public var actions: [AlertActionRecord]
}

/// Turns checks into alerts: one alert per episode of a rule being breached (later breaches
/// while it fires are counted on it, not sent again), resolved by the first check that measures
/// the rule within its threshold (a window with too little data resolves nothing), and actions
/// that run when an alert fires unless the rule's previous actions ran less than `cooldown` ago.
/// Rules that fire in the same check share one round of actions (the others record theirs as
/// grouped). Every action's outcome is recorded.
public struct AlertEngine: Sendable {
    public let store: any MetadataStore
    public let registry: ModelRegistry
    public let hooks: (any AlertHooks)?
    /// The first retry's wait for a webhook; each next one doubles it.
    public var webhookBackoff: Double = 0.5
    public var webhookTimeout: Double = 5

    public init(store: any MetadataStore, blobs: any BlobStore, hooks: (any AlertHooks)?, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.registry = ModelRegistry(store: store, blobs: blobs, clock: clock)
        self.hooks = hooks
    }

    public func evaluate(_ spec: MonitorSpec, _ check: MonitorCheck) async throws -> [AlertTransition] {
        var out: [AlertTransition] = []
        let now = check.time
        // Rules that fire in one check share one round of actions (one retrain, not three).
        var ranWith: Alert?
        for rule in spec.activeRules {
            if check.breachedRules.contains(rule) {
                // Opening the alert and counting a repeat are one transaction each in the store,
                // so a check running at the same time cannot open a second alert for the rule.
                let raised = try await store.raiseAlert(
                    monitor: spec.name, rule: rule, message: Self.message(rule, check), at: now, checkID: check.id)
                guard raised.opened else {
                    out.append(AlertTransition(kind: .repeated, alert: raised.alert, actions: []))
                    continue
                }
                var alert = raised.alert
                var records: [AlertActionRecord] = []
                if let last = raised.previousActionsAt, Double(now.millisecondsSince1970 - last.millisecondsSince1970) / 1000 < spec.cooldown {
                    for a in spec.actions {
                        records.append(AlertActionRecord(
                            alertID: alert.id, time: now, kind: a.kind, target: a.target, outcome: .suppressed, attempts: 0,
                            message: "cooldown: this rule's actions last ran at \(last); cooldown \(Int(spec.cooldown))s"))
                    }
                    // Carried forward, so the cooldown keeps counting from the actions that really ran.
                    alert = try await store.setAlertActionsTime(alertID: alert.id, last)
                } else if let first = ranWith {
                    for a in spec.actions {
                        records.append(AlertActionRecord(
                            alertID: alert.id, time: now, kind: a.kind, target: a.target, outcome: .suppressed, attempts: 0,
                            message: "grouped: ran once for this check, with alert \(first.id) (\(first.rule))"))
                    }
                    alert = try await store.setAlertActionsTime(alertID: alert.id, now)
                } else if !spec.actions.isEmpty {
                    // Recorded before the actions run: a retraining pipeline can take a while, and a
                    // check in the meantime that resolves this alert and fires a new one must
                    // already see the cooldown running.
                    alert = try await store.setAlertActionsTime(alertID: alert.id, now)
                    for a in spec.actions { records.append(await perform(a, alert: alert, spec: spec, check: check)) }
                    ranWith = alert
                }
                for r in records { try await store.recordAlertAction(r) }
                out.append(AlertTransition(kind: .fired, alert: alert, actions: records))
            } else if Self.measuredWithin(rule, check), let resolved = try await store.resolveAlert(monitor: spec.name, rule: rule, at: now) {
                out.append(AlertTransition(kind: .resolved, alert: resolved, actions: []))
            }
        }
        return out
    }

    /// Whether the check measured the rule (rather than lacking data for it).
    static func measuredWithin(_ rule: String, _ check: MonitorCheck) -> Bool {
        guard check.status == .ok || check.status == .breached else { return false }
        let kind = ["feature_drift": "dataset", "prediction_drift": "prediction", "performance": "performance", "query": "query"][rule] ?? rule
        return check.results.contains { $0.kind == kind && $0.status == "ok" }
    }

    static func message(_ rule: String, _ check: MonitorCheck) -> String {
        let kind = ["feature_drift": "feature", "prediction_drift": "prediction", "performance": "performance", "query": "query"][rule] ?? rule
        let breached = check.results.filter { $0.kind == kind && $0.breached }.map { r in
            "\(r.name) \(r.method) \(r.score.map(short) ?? "-") (threshold \(r.threshold.map(short) ?? "-"))"
        }
        var text = "\(check.monitor): \(rule.replacingOccurrences(of: "_", with: " "))"
        if rule == "feature_drift", let share = check.results.first(where: { $0.kind == "dataset" }) {
            text += " (\(share.detail ?? ""))"
        }
        if !breached.isEmpty { text += ": " + breached.prefix(5).joined(separator: "; ") }
        return text
    }

    /// Four significant digits, for messages.
    static func short(_ d: Double) -> String { String(format: "%.4g", d) }

    func perform(_ action: MonitorSpec.Action, alert: Alert, spec: MonitorSpec, check: MonitorCheck) async -> AlertActionRecord {
        var record = AlertActionRecord(
            alertID: alert.id, time: check.time, kind: action.kind, target: action.target, outcome: .failed, attempts: 1, message: "")
        switch action {
        case .webhook(let url, let attempts):
            (record.outcome, record.attempts, record.message) = await webhook(url, attempts: attempts, payload: Self.payload(alert, spec, check))
        case .runPipeline(let name, let params):
            guard let hooks else {
                record.message = "no pipeline runner here: run the monitor from the CLI or the scheduler"
                return record
            }
            do {
                record.message = try await hooks.runPipeline(name, params: params, reason: "alert \(alert.id): \(alert.message)")
                record.outcome = .succeeded
            } catch { record.message = Self.describe(error) }
        case .rollback(let target):
            do {
                record.message = try await rollback(target, alert: alert)
                record.outcome = .succeeded
            } catch { record.message = Self.describe(error) }
        }
        return record
    }

    /// Moves each alias back to the version it named before its latest move.
    func rollback(_ target: String, alert: Alert) async throws -> String {
        var refs: [String]
        if target.contains("@") { refs = [target] } else {
            guard let hooks else { throw FlywheelError.unsupported("rolling back a deployment needs its routes; name MODEL@ALIAS instead") }
            refs = try await hooks.routedAliases(deployment: target)
            guard !refs.isEmpty else { throw FlywheelError.failedPrecondition("deployment '\(target)' routes to no alias, so there is nothing to roll back") }
        }
        var moves: [String] = [], skipped: [String] = []
        for ref in refs {
            let uri = try ModelURI(parsing: ref)
            guard case .alias(let alias) = uri.selector else { continue }
            let events = try await store.registryEvents(model: uri.name)
            guard let last = events.last(where: { $0.kind == .aliasSet && $0.alias == alias }), let previous = last.previousVersion,
                  let current = last.version else {
                skipped.append("\(ref) named no earlier version")
                continue
            }
            _ = try await registry.setAlias(
                alias, model: uri.name, version: previous,
                by: Attribution(actor: "monitor:\(alert.monitor)", reason: "rollback by alert \(alert.id) (\(alert.rule))"))
            moves.append("\(ref): v\(current) → v\(previous)")
        }
        guard !moves.isEmpty else {
            throw FlywheelError.failedPrecondition("nothing to roll back: " + skipped.joined(separator: "; "))
        }
        return (moves + skipped.map { "skipped: \($0)" }).joined(separator: "; ")
    }

    static func payload(_ alert: Alert, _ spec: MonitorSpec, _ check: MonitorCheck) -> Data {
        struct Payload: Encodable {
            var alert: Alert
            var deployment: String?
            var check: MonitorCheck
        }
        var c = check
        c.results = check.results.filter { $0.breached }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(Payload(alert: alert, deployment: spec.deployment, check: c))) ?? Data()
    }

    /// POSTs JSON, retrying a network error or a 5xx/429 answer with doubling waits; a 2xx is success.
    func webhook(_ url: String, attempts: Int, payload: Data) async -> (AlertActionOutcome, Int, String) {
        guard let u = URL(string: url) else { return (.failed, 0, "'\(url)' is not a URL") }
        var request = URLRequest(url: u, timeoutInterval: webhookTimeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("flywheel-monitor", forHTTPHeaderField: "User-Agent")
        request.httpBody = payload
        var last = ""
        for attempt in 1...max(attempts, 1) {
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if (200..<300).contains(status) { return (.succeeded, attempt, "HTTP \(status)") }
                last = "HTTP \(status)"
                if status < 500 && status != 429 { return (.failed, attempt, last + " (not retried)") }
            } catch { last = error.localizedDescription }
            // Doubling waits, each at most 30 s, so ten attempts take under five minutes.
            if attempt < attempts { try? await Task.sleep(nanoseconds: UInt64(min(webhookBackoff * pow(2, Double(attempt - 1)), 30) * 1e9)) }
        }
        return (.failed, max(attempts, 1), "\(last) after \(attempts) attempt(s)")
    }

    static func describe(_ error: any Error) -> String { FlywheelError.message(of: error) }
}
