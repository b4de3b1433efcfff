import FlywheelCore
import FlywheelMonitoring
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

@Suite struct MonitorScheduleTests {
    func time(_ iso: String) throws -> Timestamp { Timestamp(try #require(ISO8601DateFormatter().date(from: iso))) }

    @Test func periodsEndAtMultiplesOfEvery() throws {
        #expect(MonitorSchedule.periodEnd(every: 86_400, at: try time("2026-11-29T10:15:00Z")) == (try time("2026-11-29T00:00:00Z")))
        #expect(MonitorSchedule.periodEnd(every: 3600, at: try time("2026-11-29T10:15:00Z")) == (try time("2026-11-29T10:00:00Z")))
        #expect(MonitorSchedule.periodEnd(every: 3600, at: try time("2026-11-29T10:00:00Z")) == (try time("2026-11-29T10:00:00Z")))
        #expect(MonitorSchedule.periodEnd(every: 900, at: try time("2026-11-29T10:14:59Z")) == (try time("2026-11-29T10:00:00Z")))
    }

    @Test func eachPeriodIsCheckedOnceAcrossSchedulers() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteMetadataStore(path: dir.appendingPathComponent("flywheel.db").path)
        _ = try await store.applyMonitor(name: "hourly", spec: "monitor: hourly\ndeployment: iris\nevery: 1h\nwindow: 1h\n", actor: "t", at: try time("2026-11-29T09:00:00Z"))
        _ = try await store.applyMonitor(name: "manual", spec: "monitor: manual\ndeployment: iris\n", actor: "t", at: try time("2026-11-29T09:00:00Z"))
        _ = try await store.applyMonitor(name: "broken", spec: "monitor: broken\nevery: often\n", actor: "t", at: try time("2026-11-29T09:00:00Z"))
        let a = MonitorSchedule(store: store), b = MonitorSchedule(store: store)

        // Two schedulers look at the same moment: one of them gets the period.
        async let x = a.due(at: try time("2026-11-29T10:15:00Z"))
        async let y = b.due(at: try time("2026-11-29T10:15:01Z"))
        let (first, second) = try await (x, y)
        let due = first.due + second.due
        let ten = try time("2026-11-29T10:00:00Z"), eleven = try time("2026-11-29T11:00:00Z")
        #expect(due.map(\.0.name) == ["hourly"] && due.map(\.1) == [ten])
        #expect(first.skipped.count == 1 && first.skipped[0].hasPrefix("broken: "))
        // Later in the same hour: nothing; the next hour: due again.
        #expect(try await a.due(at: try time("2026-11-29T10:59:59Z")).due.isEmpty)
        #expect(try await b.due(at: try time("2026-11-29T11:00:00Z")).due.map(\.1) == [eleven])
        // A check recorded for the period by hand (monitor run --at) counts as done.
        _ = try await store.recordMonitorCheck(MonitorCheck(
            monitor: "hourly", time: try time("2026-11-29T12:00:00Z"), windowStart: try time("2026-11-29T11:00:00Z"),
            windowEnd: try time("2026-11-29T12:00:00Z"), reference: "", referenceRows: 0, currentRows: 0, status: .insufficientData, message: ""))
        #expect(try await a.due(at: try time("2026-11-29T12:00:05Z")).due.isEmpty)
        // One dated far ahead (a mistyped --at) does not stop the periods before it.
        _ = try await store.recordMonitorCheck(MonitorCheck(
            monitor: "hourly", time: try time("2062-01-01T00:00:00Z"), windowStart: try time("2061-12-31T23:00:00Z"),
            windowEnd: try time("2062-01-01T00:00:00Z"), reference: "", referenceRows: 0, currentRows: 0, status: .insufficientData, message: ""))
        #expect(try await a.due(at: try time("2026-11-29T13:00:01Z")).due.map(\.0.name) == ["hourly"])
    }

    @Test func aServiceRunChecksAndEvaluatesAlerts() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let shifted = try MonitorFixture.shifted(try MonitorFixture.iris(), ["petal_length": 2, "petal_width": 1])
        try await f.log(shifted, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30))
        let spec = try MonitorFixture.spec("monitor: m\ndeployment: iris\nwindow: 1h\n")
        let outcome = try await MonitorService(store: f.store, blobs: f.blobs, hooks: nil).run(spec, at: MonitorFixture.now)
        #expect(outcome.check.status == .breached)
        #expect(Set(outcome.transitions.map(\.alert.rule)) == Set(outcome.check.breachedRules))
        #expect(outcome.transitions.allSatisfy { $0.kind == .fired && $0.alert.checkID == outcome.check.id })
    }
}
