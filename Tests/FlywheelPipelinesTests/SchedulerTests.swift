import FlywheelCore
import FlywheelPipelines
import FlywheelTesting
import Foundation
import Testing

@Suite struct SchedulerTests {
    static func at(_ text: String) -> Timestamp { CronScheduleTests.utc(text) }

    func spec(_ yaml: String) throws -> PipelineSpec {
        let (s, problems) = PipelineChecker().check(text: yaml)
        return try #require(s, "\(problems)")
    }

    @Test func aCronScheduleFiresOncePerTimeAcrossSchedulers() async throws {
        let store = InMemoryMetadataStore(), root = try Harness().root
        let p = try spec("pipeline: nightly\nschedule: '*/10 * * * *'\nsteps: {a: {run: 'true'}}\n")
        let a = try Scheduler(pipelines: [p], store: store, workspaceRoot: root)
        let b = try Scheduler(pipelines: [p], store: store, workspaceRoot: root)
        #expect(try await a.due(at: Self.at("2026-11-29T00:00:30Z")).isEmpty)  // start-up: nothing missed to catch up
        #expect(try await b.due(at: Self.at("2026-11-29T00:00:40Z")).isEmpty)
        #expect(try await a.due(at: Self.at("2026-11-29T00:09:59Z")).isEmpty)
        let fired = try await a.due(at: Self.at("2026-11-29T00:10:02Z"))
        #expect(fired.map(\.trigger) == ["schedule"] && fired[0].reason.contains("*/10 * * * *"))
        #expect(try await a.due(at: Self.at("2026-11-29T00:10:30Z")).isEmpty)
        // The other scheduler sees the same fire time, already claimed.
        #expect(try await b.due(at: Self.at("2026-11-29T00:10:05Z")).isEmpty)
        // A long pause covering three fire times gives one run, not three.
        #expect(try await a.due(at: Self.at("2026-11-29T00:41:00Z")).count == 1)
    }

    @Test(arguments: [("once", 1), ("none", 0)])
    func missedTimesAreCaughtUpByPolicy(_ policy: String, _ expected: Int) async throws {
        let store = InMemoryMetadataStore(), root = try Harness().root
        let p = try spec("pipeline: hourly\nschedule: '0 * * * *'\ncatch_up: \(policy)\nsteps: {a: {run: 'true'}}\n")
        try await store.createPipelineRun(PipelineRun(
            id: .generate(), pipeline: "hourly", specDigest: Digest(of: Data()), specPath: "p.yaml", params: [:], status: .succeeded,
            trigger: "schedule", startTime: Self.at("2026-11-29T01:00:00Z")))
        let s = try Scheduler(pipelines: [p], store: store, workspaceRoot: root)
        // Down from 01:00 to 04:30: three fire times missed.
        #expect(try await s.due(at: Self.at("2026-11-29T04:30:00Z")).count == expected)
        // A second scheduler starting at the same moment does not catch up again.
        let other = try Scheduler(pipelines: [p], store: store, workspaceRoot: root)
        #expect(try await other.due(at: Self.at("2026-11-29T04:30:01Z")).isEmpty)
    }

    @Test func aNewOrChangedFileStartsExactlyOneRun() async throws {
        let store = InMemoryMetadataStore(), root = try Harness().root
        let p = try spec("pipeline: ingest\nparams: {file: none}\non: [{files: 'data/incoming/*.csv'}]\nsteps: {a: {run: 'true'}}\n")
        let s = try Scheduler(pipelines: [p], store: store, workspaceRoot: root)
        let dir = root.appendingPathComponent("data/incoming")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(try await s.due(at: Self.at("2026-11-29T00:00:00Z")).isEmpty)
        try "a,b\n1,2\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        try "ignored".write(to: dir.appendingPathComponent("x.txt"), atomically: true, encoding: .utf8)
        let first = try await s.due(at: Self.at("2026-11-29T00:00:10Z"))
        #expect(first.map(\.params) == [["file": "data/incoming/x.csv"]])
        #expect(first.map(\.trigger) == ["files"])
        // Seen again, by this scheduler or another: no second run.
        #expect(try await s.due(at: Self.at("2026-11-29T00:00:20Z")).isEmpty)
        #expect(try await Scheduler(pipelines: [p], store: store, workspaceRoot: root).due(at: Self.at("2026-11-29T00:00:25Z")).isEmpty)
        // Touched but unchanged: still no run; changed: one more.
        try "a,b\n1,2\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        #expect(try await s.due(at: Self.at("2026-11-29T00:00:30Z")).isEmpty)
        try "a,b\n1,2\n3,4\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        #expect(try await s.due(at: Self.at("2026-11-29T00:00:40Z")).count == 1)
    }

    @Test func eventsWithADedupeKeyStartOneRun() async throws {
        let store = InMemoryMetadataStore(), root = try Harness().root
        let p = try spec("pipeline: retrain\nparams: {reason: none}\non: [{event: drift}]\nsteps: {a: {run: 'true'}}\n")
        let q = try spec("pipeline: other\non: [{event: unrelated}]\nsteps: {a: {run: 'true'}}\n")
        let e = PipelineTriggerEvent(name: "drift", dedupeKey: "drift:alert-7", params: ["reason": "psi", "extra": "x"], submittedAt: Self.at("2026-11-29T00:00:00Z"))
        #expect(try await store.submitEvent(e))
        #expect(try await !store.submitEvent(e))  // delivered twice: ignored
        #expect(try await store.submitEvent(PipelineTriggerEvent(name: "nobody", dedupeKey: "n:1", submittedAt: Self.at("2026-11-29T00:00:00Z"))))
        let s = try Scheduler(pipelines: [p, q], store: store, workspaceRoot: root)
        let fired = try await s.due(at: Self.at("2026-11-29T00:00:05Z"))
        #expect(fired.map(\.pipeline) == ["retrain"])
        #expect(fired.first?.params == ["reason": "psi"])  // only params the pipeline declares
        #expect(try await s.due(at: Self.at("2026-11-29T00:00:10Z")).isEmpty)
        // The event nobody listens to stays queued for a scheduler that does.
        #expect(try await store.pendingEvents(limit: 10).map(\.name) == ["nobody"])
    }

    @Test func globsMatchWithinAndAcrossFolders() throws {
        let root = try Harness().root
        for f in ["a.csv", "d/b.csv", "d/e/c.csv", "d/x.txt", ".flywheel/z.csv"] {
            let u = root.appendingPathComponent(f)
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: u.path, contents: Data("1".utf8))
        }
        #expect(Scheduler.matches("*.csv", under: root) == ["a.csv"])
        #expect(Scheduler.matches("d/*.csv", under: root) == ["d/b.csv"])
        #expect(Scheduler.matches("d/**/*.csv", under: root) == ["d/b.csv", "d/e/c.csv"])
        #expect(Scheduler.matches("d/?.txt", under: root) == ["d/x.txt"])
    }
}
