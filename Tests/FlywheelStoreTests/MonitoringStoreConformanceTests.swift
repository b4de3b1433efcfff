import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

@Suite struct MonitoringStoreConformanceTests {
    @Test(arguments: Backend.allCases)
    func monitorsAreStoredByNameAndReplaced(_ b: Backend) async throws {
        let store: any MonitoringStore = try b.make()
        let m1 = try await store.applyMonitor(name: "iris-drift", spec: "a", actor: "ana", at: ts(10))
        #expect(m1.createdAt == ts(10) && m1.updatedAt == ts(10))
        _ = try await store.applyMonitor(name: "fraud", spec: "f", actor: "ana", at: ts(15))
        let m2 = try await store.applyMonitor(name: "iris-drift", spec: "b", actor: "bo", at: ts(20))
        // Replacing keeps the creation time and takes the new spec and actor.
        #expect(m2.spec == "b" && m2.actor == "bo" && m2.createdAt == ts(10) && m2.updatedAt == ts(20))
        #expect(try await store.monitor(named: "iris-drift") == m2)
        #expect(try await store.listMonitors().map(\.name) == ["fraud", "iris-drift"])
        try await store.deleteMonitor(named: "fraud")
        #expect(try await store.monitor(named: "fraud") == nil)
        await #expect(throws: FlywheelError.self) { try await store.deleteMonitor(named: "fraud") }
        await #expect(throws: FlywheelError.self) { try await store.applyMonitor(name: "no/slash", spec: "x", actor: "a", at: ts(1)) }
    }

    func check(_ monitor: String, at t: Int64, score: Double?) -> MonitorCheck {
        MonitorCheck(
            monitor: monitor, time: ts(t), windowStart: ts(t - 100), windowEnd: ts(t), reference: "training data of iris/1", referenceRows: 120,
            currentRows: 40, status: (score ?? 0) > 0.2 ? .breached : .ok, message: "m", breachedRules: (score ?? 0) > 0.2 ? ["feature_drift"] : [],
            results: [
                MonitorResult(kind: "feature", name: "x", method: "psi", score: score, threshold: 0.2, breached: (score ?? 0) > 0.2),
                MonitorResult(kind: "feature", name: "c", method: "-", score: nil, threshold: nil, breached: false, status: "type mismatch", detail: "d"),
            ])
    }

    @Test(arguments: Backend.allCases)
    func checksKeepTheirResultsInOrder(_ b: Backend) async throws {
        let store: any MonitoringStore = try b.make()
        var recorded: [MonitorCheck] = []
        for (i, s) in [0.05, 0.31, 0.12].enumerated() { recorded.append(try await store.recordMonitorCheck(check("m", at: Int64(1000 * (i + 1)), score: s))) }
        _ = try await store.recordMonitorCheck(check("other", at: 1500, score: 0.9))
        #expect(Set(recorded.map(\.id)).count == 3 && !recorded.contains { $0.id == 0 })
        let all = try await store.monitorChecks(monitor: "m", since: nil, limit: 10)
        #expect(all == recorded)
        #expect(all[1].results[0].score == 0.31 && all[1].breachedRules == ["feature_drift"] && all[1].status == .breached)
        #expect(all[0].results[1] == MonitorResult(kind: "feature", name: "c", method: "-", score: nil, threshold: nil, breached: false, status: "type mismatch", detail: "d"))
        // The latest `limit`, oldest first; `since` cuts earlier ones.
        #expect(try await store.monitorChecks(monitor: "m", since: nil, limit: 2).map(\.time) == [ts(2000), ts(3000)])
        #expect(try await store.monitorChecks(monitor: "m", since: ts(2000), limit: 10).map(\.time) == [ts(2000), ts(3000)])
        // A non-finite score or threshold is kept as none (SQL has no NaN), and the recorded check says so too.
        var odd = check("n", at: 10, score: .nan)
        odd.results[0].threshold = .infinity
        let nan = try await store.recordMonitorCheck(odd)
        #expect(nan.id != 0 && nan.results[0].score == nil && nan.results[0].threshold == nil)
        #expect(try await store.monitorChecks(monitor: "n", since: nil, limit: 1).first == nan)
    }

    @Test(arguments: Backend.allCases)
    func alertsAndTheirActionsAreRecorded(_ b: Backend) async throws {
        let store: any MonitoringStore = try b.make()
        let a = try await store.raiseAlert(monitor: "m", rule: "feature_drift", message: "x", at: ts(10), checkID: 1).alert
        #expect(a.id != 0)
        _ = try await store.resolveAlert(monitor: "m", rule: "feature_drift", at: ts(30))
        let b2 = try await store.raiseAlert(monitor: "m", rule: "feature_drift", message: "y", at: ts(40), checkID: 3).alert
        _ = try await store.raiseAlert(monitor: "q", rule: "query", message: "z", at: ts(50), checkID: 4)
        #expect(try await store.alerts(monitor: "m", state: nil, limit: 10).map(\.id) == [b2.id, a.id])
        #expect(try await store.alerts(monitor: nil, state: .firing, limit: 10).map(\.monitor) == ["q", "m"])
        #expect(try await store.alerts(monitor: "m", state: .resolved, limit: 10).first?.resolvedAt == ts(30))

        let hook = AlertActionRecord(alertID: a.id, time: ts(10), kind: "webhook", target: "http://127.0.0.1:1/h", outcome: .failed, attempts: 4, message: "HTTP 503")
        let roll = AlertActionRecord(alertID: a.id, time: ts(11), kind: "rollback", target: "iris", outcome: .succeeded, attempts: 1, message: "v2 → v1")
        try await store.recordAlertAction(hook)
        try await store.recordAlertAction(roll)
        try await store.recordAlertAction(AlertActionRecord(alertID: b2.id, time: ts(40), kind: "webhook", target: "u", outcome: .suppressed, attempts: 0, message: "cooldown"))
        #expect(try await store.alertActions(alertID: a.id) == [hook, roll])
        // An action of an alert that does not exist is refused alike.
        await #expect(throws: FlywheelError.self) {
            try await store.recordAlertAction(AlertActionRecord(alertID: 999, time: ts(1), kind: "webhook", target: "u", outcome: .failed, attempts: 1, message: ""))
        }
        // A negative limit is no rows on every backend.
        #expect(try await store.alerts(monitor: nil, state: nil, limit: -1).isEmpty)
        #expect(try await store.monitorChecks(monitor: "m", since: nil, limit: -1).isEmpty)
        #expect(try await store.alertActions(alertID: b2.id).map(\.outcome) == [.suppressed])
    }

    @Test(arguments: Backend.allCases)
    func alertsOpenCountAndResolveInOneStep(_ b: Backend) async throws {
        let store: any MonitoringStore = try b.make()
        let first = try await store.raiseAlert(monitor: "m", rule: "feature_drift", message: "psi 0.3", at: ts(10), checkID: 1)
        #expect(first.opened && first.previousActionsAt == nil && first.alert.occurrences == 1 && first.alert.state == .firing)
        // A repeat counts on the firing alert, takes the newer message, and opens nothing.
        let again = try await store.raiseAlert(monitor: "m", rule: "feature_drift", message: "psi 0.4", at: ts(20), checkID: 2)
        #expect(!again.opened && again.alert.id == first.alert.id && again.alert.occurrences == 2)
        #expect(again.alert.lastSeenAt == ts(20) && again.alert.message == "psi 0.4" && again.alert.checkID == 1)
        #expect(try await store.alerts(monitor: "m", state: .firing, limit: 1).first == again.alert)
        // A check of an earlier window counts, but leaves the newer message and time.
        let late = try await store.raiseAlert(monitor: "m", rule: "feature_drift", message: "psi 0.2", at: ts(15), checkID: 4)
        #expect(!late.opened && late.alert.occurrences == 3 && late.alert.lastSeenAt == ts(20) && late.alert.message == "psi 0.4")
        // Only the actions' time changes.
        let acted = try await store.setAlertActionsTime(alertID: first.alert.id, ts(11))
        #expect(acted.actionsAt == ts(11) && acted.occurrences == 3 && acted.message == "psi 0.4")
        await #expect(throws: FlywheelError.self) { try await store.setAlertActionsTime(alertID: 999, ts(1)) }
        // Other rules and monitors have nothing to resolve.
        #expect(try await store.resolveAlert(monitor: "m", rule: "performance", at: ts(30)) == nil)
        #expect(try await store.resolveAlert(monitor: "other", rule: "feature_drift", at: ts(30)) == nil)
        let resolved = try await store.resolveAlert(monitor: "m", rule: "feature_drift", at: ts(30))
        #expect(resolved?.state == .resolved && resolved?.resolvedAt == ts(30) && resolved?.occurrences == 3)
        #expect(try await store.resolveAlert(monitor: "m", rule: "feature_drift", at: ts(31)) == nil)
        // The next breach opens a new alert and hands over when the rule's actions last ran.
        let next = try await store.raiseAlert(monitor: "m", rule: "feature_drift", message: "psi 0.5", at: ts(40), checkID: 3)
        #expect(next.opened && next.alert.id != first.alert.id && next.previousActionsAt == ts(11) && next.alert.actionsAt == nil)
        #expect(try await store.alerts(monitor: "m", state: nil, limit: 10).map(\.state) == [.firing, .resolved])
    }

    /// Two stores on one database file are two connections, as two processes are: breaches
    /// raised through both at once still make one alert that counts them all.
    @Test func concurrentBreachesFromTwoConnectionsMakeOneAlert() async throws {
        let path = try TempDir.make().appendingPathComponent("flywheel.db").path
        let a = try SQLiteMetadataStore(path: path), b = try SQLiteMetadataStore(path: path)
        let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                let store: any MetadataStore = i % 2 == 0 ? a : b
                group.addTask { try await store.raiseAlert(monitor: "m", rule: "r", message: "\(i)", at: ts(Int64(i)), checkID: Int64(i)).opened }
            }
            var opened = 0
            for try await o in group where o { opened += 1 }
            return opened
        }
        #expect(opened == 1)
        let alerts = try await a.alerts(monitor: "m", state: nil, limit: 10)
        #expect(alerts.count == 1 && alerts.first?.occurrences == 40 && alerts.first?.lastSeenAt == ts(39))
    }

    @Test func queriesOverThePredictionLogAreReadOnly() async throws {
        let store = try Backend.sqlite.make()
        var records: [PredictionRecord] = []
        for i in 0..<10 {
            records.append(PredictionRecord(
                requestID: "r\(i)", index: 0, time: ts(Int64(1000 + i * 100)), deployment: "iris", model: "iris", version: 1,
                features: ["x": .number(Double(i))], output: .object(["label": .string(i < 6 ? "a" : "b")]), latencyMicros: 100))
        }
        try await store.appendPredictions(records)
        // Labels for r0…r7: the first four right, the next four wrong.
        _ = try await store.recordFeedback((0..<8).map { FeedbackLabel(requestID: "r\($0)", label: .string($0 < 4 ? "a" : "z"), time: ts(5000)) })
        let sql = """
            SELECT avg(json_extract(p.output, '$.label') = json_extract(f.label, '$')) AS value, count(*) AS n
            FROM predictions p JOIN feedback f USING (request_id, idx) WHERE p.time >= :since AND p.time < :until
            """
        let rows = try await store.queryPredictionLog(sql: sql, since: ts(1000), until: ts(1600))
        // r0…r5 are in the window, of which r0…r3 are right.
        #expect(rows.count == 1 && rows[0]["n"] == .number(6) && rows[0]["value"] == .number(4.0 / 6))
        let mean = try await store.queryPredictionLog(sql: "SELECT avg(json_extract(features, '$.x')) FROM predictions", since: ts(0), until: ts(0))
        #expect(mean.first?.values.first == .number(4.5))

        // Nothing a query does can change the log.
        for bad in ["DELETE FROM predictions", "WITH x AS (SELECT 1) DELETE FROM predictions", "SELECT 1; DELETE FROM predictions",
                    "SELECT * FROM nowhere", "SELECT ?", "SELECT :other"] {
            await #expect(throws: FlywheelError.self, "\(bad)") { try await store.queryPredictionLog(sql: bad, since: ts(0), until: ts(1)) }
        }
        #expect(try await store.predictions(PredictionQuery(limit: 100)).count == 10)
        // A query that never ends is stopped at the deadline, with a message saying so.
        let quick = try SQLiteMetadataStore(path: TempDir.make().appendingPathComponent("q.db").path, monitorQueryTimeout: 0.3)
        let started = Date()
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) AS value FROM c"
        let stopped = await #expect(throws: FlywheelError.self) { try await quick.queryPredictionLog(sql: endless, since: ts(0), until: ts(1)) }
        #expect(stopped?.message.contains("ran over 0.3 s") == true && Date().timeIntervalSince(started) < 20)
        // The in-memory store has no SQL and says so.
        await #expect(throws: FlywheelError.self) { try await InMemoryMetadataStore().queryPredictionLog(sql: sql, since: ts(0), until: ts(1)) }
    }
}
