import FlywheelCore
import FlywheelServer
import FlywheelTesting
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// `/api/v1/monitors` and `/api/v1/alerts` on a live server.
@Suite struct MonitorsRoutesTests {
    static let spec = "monitor: iris-drift\ndeployment: iris\nevery: 24h\nperformance: {metric: accuracy, min: 0.9}\n"

    @Test func applyListShowChecksAndAlerts() async throws {
        let f = ServingFixture()
        try await LiveServer.with(f) { _, client in
            try await client.execute(uri: "/api/v1/monitors/iris-drift", method: .put, body: ByteBuffer(string: Self.spec)) { r in
                #expect(r.status == .ok)
                let m = try ServerRoutesTests.json(r.body)
                #expect(m["rules"] == .array([.string("feature_drift"), .string("prediction_drift"), .string("performance")]))
                #expect(m["every_seconds"] == .number(86_400) && m["deployment"] == .string("iris"))
            }
            #expect(try await f.store.monitor(named: "iris-drift")?.spec == Self.spec)
            // A bad file names its place; a body naming another monitor is refused.
            try await client.execute(uri: "/api/v1/monitors/x", method: .put, body: ByteBuffer(string: "monitor: x\ndeployment: iris\nwindow: soon\n")) { r in
                #expect(r.status == .badRequest)
                let e = try ServerRoutesTests.json(r.body)
                guard case .string(let m)? = e["error"]?["message"] else { Issue.record("no message"); return }
                #expect(m.contains("3:9: 'window' must be a duration"), "\(m)")
            }
            try await client.execute(uri: "/api/v1/monitors/other", method: .put, body: ByteBuffer(string: Self.spec)) { r in
                #expect(r.status == .badRequest)
            }

            // A recorded check and a firing alert with its action show up.
            let t = Timestamp(millisecondsSince1970: 1_795_900_000_000)
            let check = try await f.store.recordMonitorCheck(MonitorCheck(
                monitor: "iris-drift", time: t, windowStart: t, windowEnd: t, reference: "training data of iris/1", referenceRows: 150,
                currentRows: 80, status: .breached, message: "breached: performance", breachedRules: ["performance"],
                results: [MonitorResult(kind: "performance", name: "accuracy", method: "min", score: 0.7, threshold: 0.9, breached: true)]))
            let alert = try await f.store.raiseAlert(monitor: "iris-drift", rule: "performance", message: "accuracy fell", at: t, checkID: check.id).alert
            try await f.store.recordAlertAction(AlertActionRecord(
                alertID: alert.id, time: t, kind: "webhook", target: "http://127.0.0.1:9/h", outcome: .failed, attempts: 4, message: "refused"))

            try await client.execute(uri: "/api/v1/monitors", method: .get) { r in
                let list = try ServerRoutesTests.json(r.body)
                guard case .array(let ms)? = list["monitors"], let m = ms.first else { Issue.record("no monitors"); return }
                #expect(ms.count == 1 && m["firing"] == .array([.string("performance")]))
                #expect(m["last_check"]?["status"] == .string("breached"))
            }
            try await client.execute(uri: "/api/v1/monitors/iris-drift/checks?limit=5", method: .get) { r in
                let body = try ServerRoutesTests.json(r.body)
                guard case .array(let checks)? = body["checks"], let c = checks.first else { Issue.record("no checks"); return }
                #expect(checks.count == 1 && c["breached_rules"] == .array([.string("performance")]))
                #expect(c["results"]?[0]?["score"] == .number(0.7))
            }
            try await client.execute(uri: "/api/v1/alerts?state=firing&monitor=iris-drift", method: .get) { r in
                let body = try ServerRoutesTests.json(r.body)
                guard case .array(let alerts)? = body["alerts"], let a = alerts.first else { Issue.record("no alerts"); return }
                #expect(a["alert"]?["rule"] == .string("performance") && a["actions"]?[0]?["outcome"] == .string("failed"))
            }
            try await client.execute(uri: "/api/v1/alerts?state=loud", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/v1/monitors/nope/checks", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/api/v1/monitors/iris-drift", method: .delete) { r in #expect(r.status == .ok) }
            #expect(try await f.store.monitor(named: "iris-drift") == nil)
        }
    }
}

extension JSONValue {
    /// An array's element, for tests.
    subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }
}
