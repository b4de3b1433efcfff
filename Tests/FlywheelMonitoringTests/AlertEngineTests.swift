import FlywheelCore
import FlywheelMonitoring
import FlywheelRegistry
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

/// Records the pipeline runs an alert asks for, standing in for the CLI's runner (which the
/// CLI tests drive for real).
final class RecordingHooks: AlertHooks, @unchecked Sendable {
    private let lock = NSLock()
    private var started: [(String, [String: String])] = []
    let fail: Bool
    let routes: [String]
    init(fail: Bool = false, routes: [String] = []) {
        self.fail = fail
        self.routes = routes
    }
    var runs: [(String, [String: String])] { lock.withLock { started } }
    func runPipeline(_ name: String, params: [String: String], reason: String) async throws -> String {
        lock.withLock { started.append((name, params)) }
        if fail { throw FlywheelError.failedPrecondition("pipeline run p1 failed") }
        return "pipeline run p\(runs.count) succeeded"
    }
    func routedAliases(deployment: String) async throws -> [String] { routes }
}

/// Runs `body` while a pipeline "runs", and keeps what it returned.
final class DuringHooks: AlertHooks, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [AlertTransition]?
    let body: @Sendable () async throws -> [AlertTransition]
    init(_ body: @escaping @Sendable () async throws -> [AlertTransition]) { self.body = body }
    var result: [AlertTransition]? { lock.withLock { kept } }
    func runPipeline(_ name: String, params: [String: String], reason: String) async throws -> String {
        let r = try await body()
        lock.withLock { kept = r }
        return "pipeline run p1 succeeded"
    }
    func routedAliases(deployment: String) async throws -> [String] { [] }
}

@Suite struct AlertEngineTests {
    /// A recorded check of `monitor` at `minute` that breached the given rules.
    func check(_ store: any MetadataStore, _ monitor: String, minute: Int64, breached: [String]) async throws -> MonitorCheck {
        let t = Timestamp(millisecondsSince1970: 1_795_900_000_000 + minute * 60_000)
        let share = breached.contains("feature_drift") ? 0.75 : 0.25
        return try await store.recordMonitorCheck(MonitorCheck(
            monitor: monitor, time: t, windowStart: t, windowEnd: t, reference: "training data of iris/1", referenceRows: 150,
            currentRows: 150, status: breached.isEmpty ? .ok : .breached, message: "", breachedRules: breached,
            results: [
                MonitorResult(kind: "feature", name: "petal_length", method: "ks", score: breached.isEmpty ? 0.4 : 0.001, threshold: 0.05, breached: !breached.isEmpty),
                MonitorResult(kind: "dataset", name: "drift_share", method: "share", score: share, threshold: 0.5, breached: share >= 0.5, detail: "3 of 4 tested features drifted"),
            ]))
    }

    @Test func anAlertFiresOnceIsDeduplicatedAndResolves() async throws {
        try await WebhookReceiver.with(statuses: [503]) { receiver, url in
            let store: any MetadataStore = InMemoryMetadataStore()
            let engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: nil)
            var spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\non_alert: [{webhook: \"\(url)\"}]\n")
            spec.predictions = false
            let e2 = { var e = engine; e.webhookBackoff = 0.01; return e }()

            let first = try await e2.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift"]))
            #expect(first.map(\.kind) == [.fired])
            // The first POST got 503; the retry got 200.
            let hook = try #require(first.first?.actions.first)
            #expect(hook.outcome == .succeeded && hook.attempts == 2 && hook.message == "HTTP 200")
            let bodies = await receiver.bodies
            #expect(bodies.count == 2 && bodies[0] == bodies[1])
            let payload = try JSONSerialization.jsonObject(with: bodies[0]) as? [String: Any]
            let alert = payload?["alert"] as? [String: Any]
            #expect(alert?["rule"] as? String == "feature_drift" && alert?["state"] as? String == "firing" && payload?["deployment"] as? String == "iris")
            #expect((payload?["check"] as? [String: Any])?["breachedRules"] as? [String] == ["feature_drift"])

            // Still breached: the same alert, seen twice, and nothing sent.
            let second = try await e2.evaluate(spec, try await check(store, "m", minute: 60, breached: ["feature_drift"]))
            #expect(second.map(\.kind) == [.repeated] && second[0].alert.id == first[0].alert.id && second[0].alert.occurrences == 2)
            #expect(await receiver.bodies.count == 2)
            // Within thresholds: resolved.
            let third = try await e2.evaluate(spec, try await check(store, "m", minute: 120, breached: []))
            #expect(third.map(\.kind) == [.resolved] && third[0].alert.state == .resolved)
            #expect(try await store.alerts(monitor: "m", state: .firing, limit: 10).isEmpty)
            #expect(try await store.alertActions(alertID: first[0].alert.id).map(\.outcome) == [.succeeded])
        }
    }

    @Test func aClientErrorIsNotRetriedAndAnUnreachableHookFails() async throws {
        try await WebhookReceiver.with(statuses: [404]) { receiver, url in
            let store: any MetadataStore = InMemoryMetadataStore()
            var engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: nil)
            engine.webhookBackoff = 0.01
            let spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\non_alert: [{webhook: \"\(url)\"}, {webhook: \"http://127.0.0.1:9/x\", attempts: 3}]\n")
            let fired = try await engine.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift"]))
            let actions = try #require(fired.first?.actions)
            #expect(actions[0].outcome == .failed && actions[0].attempts == 1 && actions[0].message.contains("404"))
            #expect(actions[1].outcome == .failed && actions[1].attempts == 3)
            #expect(await receiver.bodies.count == 1)
        }
    }

    @Test func aCooldownSuppressesActionsOfARefiringRule() async throws {
        let store: any MetadataStore = InMemoryMetadataStore()
        let hooks = RecordingHooks()
        let engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: hooks)
        var spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\ncooldown: 6h\non_alert: [{run_pipeline: retrain, params: {why: drift}}]\n")
        spec.predictions = false
        let first = try await engine.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift"]))
        #expect(hooks.runs.count == 1 && hooks.runs[0].0 == "retrain" && hooks.runs[0].1 == ["why": "drift"])
        _ = try await engine.evaluate(spec, try await check(store, "m", minute: 60, breached: []))
        // Fires again two hours after the actions: a new alert, its action suppressed and recorded so.
        let again = try await engine.evaluate(spec, try await check(store, "m", minute: 120, breached: ["feature_drift"]))
        #expect(again.map(\.kind) == [.fired] && again[0].actions.map(\.outcome) == [.suppressed])
        // It carries the time the actions really ran, so the cooldown keeps counting from there.
        #expect(again[0].alert.actionsAt == first[0].alert.actionsAt && hooks.runs.count == 1)
        #expect(try await store.alertActions(alertID: again[0].alert.id).first?.message.contains("cooldown") == true)
        // A third episode still inside the six hours is suppressed too (not freed by the suppressed one).
        _ = try await engine.evaluate(spec, try await check(store, "m", minute: 180, breached: []))
        let third = try await engine.evaluate(spec, try await check(store, "m", minute: 240, breached: ["feature_drift"]))
        #expect(third[0].actions.map(\.outcome) == [.suppressed] && hooks.runs.count == 1)
        // After the cooldown (counted from the last actions that ran), actions run again.
        _ = try await engine.evaluate(spec, try await check(store, "m", minute: 300, breached: []))
        let later = try await engine.evaluate(spec, try await check(store, "m", minute: 7 * 60, breached: ["feature_drift"]))
        #expect(later[0].actions.map(\.outcome) == [.succeeded] && hooks.runs.count == 2)
        #expect(try await store.alerts(monitor: "m", state: nil, limit: 10).count == 4)
    }

    /// The scheduler and `flywheel monitor run` may check one monitor at the same moment, each
    /// with its own connection to the database: the breach opens one alert, runs its actions
    /// once, and is counted twice.
    @Test func twoChecksAtOnceOpenOneAlertAndActOnce() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-alerts-\(UUID().uuidString).db").path
        let stores: [any MetadataStore] = [try SQLiteMetadataStore(path: path), try SQLiteMetadataStore(path: path)]
        let hooks = RecordingHooks()
        var spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\non_alert: [{run_pipeline: retrain}]\n")
        spec.predictions = false
        for round in 0..<5 {
            let name = "m\(round)"
            spec.name = name
            let checks = [try await check(stores[0], name, minute: 0, breached: ["feature_drift"]), try await check(stores[1], name, minute: 0, breached: ["feature_drift"])]
            let kinds = try await withThrowingTaskGroup(of: [AlertTransition.Kind].self) { group in
                for i in 0..<2 {
                    let engine = AlertEngine(store: stores[i], blobs: InMemoryBlobStore(), hooks: hooks)
                    let s = spec, c = checks[i]
                    group.addTask { try await engine.evaluate(s, c).map(\.kind) }
                }
                var all: [AlertTransition.Kind] = []
                for try await k in group { all += k }
                return all
            }
            #expect(kinds.sorted { $0.rawValue < $1.rawValue } == [.fired, .repeated], "round \(round): \(kinds)")
            let alerts = try await stores[0].alerts(monitor: name, state: nil, limit: 10)
            #expect(alerts.count == 1 && alerts.first?.occurrences == 2)
        }
        #expect(hooks.runs.count == 5)
    }

    /// A retraining pipeline takes a while. A check that resolves the alert while it runs, and a
    /// next one that fires it again, must already see the cooldown running.
    @Test func checksDuringTheActionsSeeTheCooldown() async throws {
        let store: any MetadataStore = InMemoryMetadataStore()
        var spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\ncooldown: 6h\non_alert: [{run_pipeline: retrain}]\n")
        spec.predictions = false
        let others = RecordingHooks()
        let otherEngine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: others)
        let during = try await check(store, "m", minute: 1, breached: []), again = try await check(store, "m", minute: 2, breached: ["feature_drift"])
        let fixed = spec
        let hooks = DuringHooks {
            _ = try await otherEngine.evaluate(fixed, during)
            return try await otherEngine.evaluate(fixed, again)
        }
        let engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: hooks)
        let first = try await engine.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift"]))
        #expect(first.first?.actions.map(\.outcome) == [.succeeded])
        let nested = try #require(hooks.result)
        #expect(nested.map(\.kind) == [.fired] && nested.first?.actions.map(\.outcome) == [.suppressed])
        #expect(others.runs.isEmpty)
    }

    @Test func insufficientDataResolvesNothing() async throws {
        let store: any MetadataStore = InMemoryMetadataStore()
        let engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: nil)
        var spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\n")
        spec.predictions = false
        _ = try await engine.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift"]))
        let empty = try await store.recordMonitorCheck(MonitorCheck(
            monitor: "m", time: Timestamp(millisecondsSince1970: 1_795_900_000_000 + 3_600_000), windowStart: .init(millisecondsSince1970: 0),
            windowEnd: .init(millisecondsSince1970: 0), reference: "", referenceRows: 0, currentRows: 3, status: .insufficientData, message: ""))
        #expect(try await engine.evaluate(spec, empty).isEmpty)
        #expect(try await store.alerts(monitor: "m", state: .firing, limit: 10).count == 1)
    }

    @Test func rollbackMovesAnAliasBackAndIsRecorded() async throws {
        let f = MonitorFixture()
        try await f.register()
        try await f.register()  // v2 becomes production; production named v1 before.
        #expect(try await f.store.aliases(model: "iris")["production"] == 2)
        let hooks = RecordingHooks(routes: ["iris@production"])
        let engine = AlertEngine(store: f.store, blobs: f.blobs, hooks: hooks)
        let spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\nalert_on: [feature_drift]\non_alert: [{rollback: iris}]\n")
        let fired = try await engine.evaluate(spec, try await check(f.store, "m", minute: 0, breached: ["feature_drift"]))
        let action = try #require(fired.first?.actions.first)
        #expect(action.outcome == .succeeded && action.message == "iris@production: v2 → v1")
        #expect(try await f.store.aliases(model: "iris")["production"] == 1)
        let event = try #require(try await f.store.registryEvents(model: "iris").last)
        #expect(event.kind == .aliasSet && event.version == 1 && event.previousVersion == 2 && event.actor == "monitor:m")
        #expect(event.reason.contains("rollback by alert \(fired[0].alert.id)"))

        // An alias that never moved has nothing to go back to: the action fails and says why.
        _ = try await f.registry.setAlias("fresh", model: "iris", version: 1, by: MonitorFixture.who)
        let g = AlertEngine(store: f.store, blobs: f.blobs, hooks: nil)
        let spec2 = try MonitorFixture.spec("monitor: m2\ndeployment: iris\nalert_on: [feature_drift]\non_alert: [{rollback: iris@fresh}, {rollback: iris}, {run_pipeline: p}]\n")
        let failed = try await g.evaluate(spec2, try await check(f.store, "m2", minute: 0, breached: ["feature_drift"]))
        let outcomes = try #require(failed.first?.actions)
        #expect(outcomes.map(\.outcome) == [.failed, .failed, .failed])
        #expect(outcomes[0].message.contains("iris@fresh named no earlier version"))
        #expect(outcomes[1].message.contains("MODEL@ALIAS") && outcomes[2].message.contains("no pipeline runner"))
        #expect(try await f.store.aliases(model: "iris")["fresh"] == 1)
    }

    @Test func aFailedPipelineRunIsAFailedAction() async throws {
        let store: any MetadataStore = InMemoryMetadataStore()
        let engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: RecordingHooks(fail: true))
        let spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\nalert_on: [feature_drift]\non_alert: [{run_pipeline: retrain}]\n")
        let fired = try await engine.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift"]))
        #expect(fired.first?.actions.first?.outcome == .failed && fired.first?.actions.first?.message == "pipeline run p1 failed")
    }

    @Test func rulesFiringInOneCheckShareOneRoundOfActions() async throws {
        let store: any MetadataStore = InMemoryMetadataStore()
        let hooks = RecordingHooks()
        let engine = AlertEngine(store: store, blobs: InMemoryBlobStore(), hooks: hooks)
        let spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\nperformance: {metric: accuracy, min: 0.9}\non_alert: [{run_pipeline: retrain}]\n")
        let fired = try await engine.evaluate(spec, try await check(store, "m", minute: 0, breached: ["feature_drift", "performance"]))
        #expect(fired.map(\.alert.rule) == ["feature_drift", "performance"] && hooks.runs.count == 1)
        #expect(fired.map { $0.actions.map(\.outcome) } == [[.succeeded], [.suppressed]])
        #expect(fired[1].actions[0].message.contains("with alert \(fired[0].alert.id)"))
    }
}
