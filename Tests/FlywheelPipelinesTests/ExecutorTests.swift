import FlywheelCore
@testable import FlywheelPipelines
import FlywheelTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A workspace folder with in-memory stores and an executor over them.
struct Harness {
    let root: URL
    let store = InMemoryMetadataStore()
    let blobs = InMemoryBlobStore()
    var executor: PipelineExecutor { PipelineExecutor(store: store, blobs: blobs, workspaceRoot: root) }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fw-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func spec(_ yaml: String) throws -> PipelineSpec {
        let (spec, problems) = PipelineChecker().check(text: yaml)
        guard let spec else { throw FlywheelError.invalidArgument(problems.map(\.description).joined(separator: "; ")) }
        return spec
    }

    func run(_ yaml: String, overrides: [String: String] = [:], useCache: Bool = true, parallel: Int = 4) async throws -> Outcome {
        let s = try spec(yaml)
        let events = EventLog()
        let run = try await executor.run(
            s, params: try PipelineParams.resolve(s, overrides: overrides), options: ExecutionOptions(parallel: parallel, useCache: useCache),
            events: { events.add($0) })
        return Outcome(run: run, attempts: try await store.stepAttempts(pipelineRunID: run.id), events: events.all)
    }

    func file(_ name: String) -> URL { root.appendingPathComponent(name) }
    func read(_ name: String) -> String { (try? String(contentsOf: file(name), encoding: .utf8)) ?? "" }
}

struct Outcome {
    var run: PipelineRun
    var attempts: [StepAttempt]
    var events: [PipelineEvent]

    func last(_ step: String) -> StepAttempt? { attempts.filter { $0.step == step }.max { $0.attempt < $1.attempt } }
    func tries(_ step: String) -> [StepAttempt] { attempts.filter { $0.step == step }.sorted { $0.attempt < $1.attempt } }
    func logLines(_ step: String) -> [String] {
        events.compactMap { if case .stepLog(step, let line) = $0 { line } else { nil } }
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [PipelineEvent] = []
    func add(_ e: PipelineEvent) { lock.withLock { events.append(e) } }
    var all: [PipelineEvent] { lock.withLock { events } }
}

@Suite struct ExecutorTests {
    @Test func stepsRunInDependencyOrderAndPassFiles() async throws {
        let h = try Harness()
        let o = try await h.run("""
            pipeline: chain
            params: {word: hello}
            steps:
              c: {run: "cat ${{ steps.b.outputs.out }} > ${{ outputs.out }}; echo done >> ${{ outputs.out }}", outputs: {out: file}}
              a: {run: "echo ${{ params.word }} > ${{ outputs.out }}; echo from a", outputs: {out: file}}
              b: {run: "tr a-z A-Z < ${{ steps.a.outputs.out }} > ${{ outputs.out }}", outputs: {out: file}}
              show: {run: "cat ${{ steps.c.outputs.out }}"}
            """)
        #expect(o.run.status == .succeeded)
        let starts = o.attempts.sorted { $0.startTime < $1.startTime }.map(\.step)
        #expect(starts.firstIndex(of: "a")! < starts.firstIndex(of: "b")! && starts.firstIndex(of: "b")! < starts.firstIndex(of: "c")!)
        let digest = try #require(o.last("c")?.outputs["out"]?.digest)
        #expect(String(decoding: try await h.blobs.data(digest), as: UTF8.self) == "HELLO\ndone\n")
        #expect(o.logLines("show") == ["HELLO", "done"])
        #expect(o.logLines("a") == ["from a"])
        // The log is kept as a blob.
        let log = try #require(o.last("a")?.logDigest)
        #expect(String(decoding: try await h.blobs.data(log), as: UTF8.self) == "from a\n")
        #expect(o.last("a")?.exitCode == 0)
    }

    @Test func independentStepsRunAtOnce() async throws {
        let h = try Harness()
        // Each step waits until all three have started: only concurrent execution finishes.
        let barrier = h.file("barrier").path
        let step = { (n: String) in "{run: \"touch \(barrier).\(n); i=0; while [ $(ls \(barrier).* | wc -l) -lt 3 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ $i -lt 100 ]\"}" }
        let o = try await h.run("pipeline: par\nsteps:\n  x: \(step("x"))\n  y: \(step("y"))\n  z: \(step("z"))\n", parallel: 3)
        #expect(o.run.status == .succeeded, "\(o.attempts.map { ($0.step, $0.status, $0.message ?? "") })")
    }

    @Test func aFailedStepStopsItsDependentsWhileOtherBranchesFinish() async throws {
        let h = try Harness()
        let o = try await h.run("""
            pipeline: branches
            steps:
              bad: {run: "echo oops; exit 3"}
              after_bad: {run: "true", needs: bad}
              after_after: {run: "true", needs: after_bad}
              good: {run: "sleep 0.2; echo ok > ${{ outputs.o }}", outputs: {o: file}}
              after_good: {run: "cat ${{ steps.good.outputs.o }}"}
            """)
        #expect(o.run.status == .failed)
        #expect(o.last("bad")?.status == .failed)
        #expect(o.last("bad")?.exitCode == 3)
        #expect(o.last("bad")?.message == "the command exited with status 3")
        #expect(o.last("after_bad")?.status == .skipped)
        #expect(o.last("after_bad")?.message?.contains("needs 'bad'") == true)
        #expect(o.last("after_after")?.status == .skipped)
        #expect(o.last("good")?.status == .succeeded)
        #expect(o.last("after_good")?.status == .succeeded)
    }

    @Test func retriesFollowThePolicyAndAreEachRecorded() async throws {
        let h = try Harness()
        let counter = h.file("count").path
        // Fails twice, then succeeds.
        let o = try await h.run("""
            pipeline: retry
            steps:
              flaky:
                run: "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); [ $n -ge 3 ]"
                retry: {attempts: 4, backoff: 50ms, factor: 2, jitter: 0}
              never: {run: "exit 1", retry: 2}
            """)
        #expect(o.tries("flaky").map(\.status) == [.failed, .failed, .succeeded])
        #expect(o.tries("never").map(\.status) == [.failed, .failed])
        // Backoff: 50 ms then 100 ms between the attempts.
        let t = o.tries("flaky")
        let gap1 = t[1].startTime.millisecondsSince1970 - (t[0].endTime?.millisecondsSince1970 ?? 0)
        let gap2 = t[2].startTime.millisecondsSince1970 - (t[1].endTime?.millisecondsSince1970 ?? 0)
        #expect(gap1 >= 45 && gap2 >= 95, "gaps \(gap1) \(gap2)")
        let delays = o.events.compactMap { if case .stepRetrying("flaky", _, let d) = $0 { d } else { nil } }
        #expect(delays == [0.05, 0.1])
        #expect(o.run.status == .failed)
    }

    @Test func retryDelaysGrowAreCappedAndJittered() {
        let r = RetryPolicy(attempts: 6, backoff: 2, factor: 3, maxBackoff: 20, jitter: 0.5)
        #expect(r.delay(after: 1, unit: 0.5) == 2)
        #expect(r.delay(after: 2, unit: 0.5) == 6)
        #expect(r.delay(after: 3, unit: 0.5) == 18)
        #expect(r.delay(after: 4, unit: 0.5) == 20)
        #expect(r.delay(after: 2, unit: 0) == 3)
        #expect(abs(r.delay(after: 2, unit: 0.999999) - 9) < 1e-4)
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let h = try Harness()
        let pidFile = h.file("child.pid").path
        let o = try await h.run("""
            pipeline: slow
            steps:
              hang: {run: "sleep 30 & echo $! > \(pidFile); wait", timeout: 500ms, retry: {attempts: 2, backoff: 10ms}}
            """)
        // A step that hangs past its timeout is retried per its policy, each attempt recorded.
        #expect(o.tries("hang").map(\.status) == [.timedOut, .timedOut])
        let a = try #require(o.last("hang"))
        #expect(a.status == .timedOut)
        #expect(a.message?.contains("timed out after 0.5 s") == true)
        let endMs = (a.endTime?.millisecondsSince1970 ?? 0) - a.startTime.millisecondsSince1970
        #expect(endMs < 10_000)
        let pid = try #require(Int32(h.read("child.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        // The background child was in the step's group: it is gone (or a zombie awaiting its reaper).
        var gone = false
        for _ in 0..<50 {
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
            if state == nil || state == "Z" { gone = true; break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(gone)
        #expect(o.run.status == .failed)
    }

    @Test func aMissingDeclaredOutputFailsTheStepClearly() async throws {
        let h = try Harness()
        let o = try await h.run("pipeline: m\nsteps:\n  s: {run: 'echo hi', outputs: {report: file}}\n")
        #expect(o.last("s")?.status == .failed)
        #expect(o.last("s")?.message?.contains("output 'report' was not written") == true)
    }

    @Test func theEnvironmentCarriesTheRunAndStep() async throws {
        let h = try Harness()
        let o = try await h.run("""
            pipeline: env
            params: {greeting: hi}
            steps:
              s: {run: 'echo "$FLYWHEEL_RUN_ID $FLYWHEEL_STEP $FLYWHEEL_WORKSPACE $GREETING $PWD"', env: {GREETING: "${{ params.greeting }} there"}}
            """)
        let line = try #require(o.logLines("s").first)
        let parts = line.split(separator: " ").map(String.init)
        #expect(parts[0] == o.run.id.rawValue)
        #expect(parts[1] == "s")
        #expect(parts[2] == h.root.path)
        #expect(parts[3] == "hi" && parts[4] == "there")
        #expect(parts[5].hasPrefix(h.root.appendingPathComponent(".flywheel/work").path))
    }

    @Test func anIdenticalStepIsReusedFromTheCache() async throws {
        let h = try Harness()
        let counter = h.file("runs").path
        try "v1".write(to: h.file("dep.txt"), atomically: true, encoding: .utf8)
        let yaml = """
            pipeline: cache
            params: {n: 1}
            steps:
              a: {run: "echo x >> \(counter); echo ${{ params.n }} > ${{ outputs.o }}", outputs: {o: file}, deps: [dep.txt]}
              b: {run: "cat ${{ steps.a.outputs.o }} > ${{ outputs.o }}", outputs: {o: file}}
              nocache: {run: "echo y >> \(counter)", cache: false}
            """
        let first = try await h.run(yaml)
        let second = try await h.run(yaml)
        #expect(second.last("a")?.cacheHit == true && second.last("b")?.cacheHit == true)
        #expect(second.last("a")?.outputs == first.last("a")?.outputs)
        #expect(second.last("nocache")?.cacheHit == false)
        // a and nocache run at once, so their lines may come in either order.
        #expect(h.read("runs").split(separator: "\n").sorted() == ["x", "y", "y"])
        // A different param, a changed dependency file, or --no-cache runs it again.
        let third = try await h.run(yaml, overrides: ["n": "2"])
        #expect(third.last("a")?.cacheHit == false && third.last("b")?.cacheHit == false)
        try "v2".write(to: h.file("dep.txt"), atomically: true, encoding: .utf8)
        let fourth = try await h.run(yaml, overrides: ["n": "2"])
        #expect(fourth.last("a")?.cacheHit == false)
        // b's input is the same bytes as in the third run, so it is reused.
        #expect(fourth.last("b")?.cacheHit == true)
        let fifth = try await h.run(yaml, overrides: ["n": "2"], useCache: false)
        #expect(fifth.attempts.allSatisfy { !$0.cacheHit })
        #expect(h.read("runs").split(separator: "\n").count == 9)
    }

    @Test func conditionsSkipAStepAndItsDependents() async throws {
        let h = try Harness()
        let o = try await h.run("""
            pipeline: cond
            params: {go: false, n: 3}
            steps:
              a: {run: "true", if: "${{ params.go }}"}
              b: {run: "true", needs: a}
              c: {run: "true", if: "params.n > 2 and not params.go"}
            """)
        #expect(o.last("a")?.status == .skipped && o.last("a")?.message == "its condition is false")
        #expect(o.last("b")?.status == .skipped)
        #expect(o.last("c")?.status == .succeeded)
        #expect(o.run.status == .succeeded)
    }

    @Test func forEachFansOutAndCollectsForAFanInStep() async throws {
        let h = try Harness()
        let o = try await h.run("""
            pipeline: fan
            params: {seeds: [3, 1, 2]}
            steps:
              each: {run: "echo $((${{ item }} * 10)) > ${{ outputs.o }}", outputs: {o: file}, for_each: "${{ params.seeds }}"}
              sum: {run: "cat ${{ steps.each.outputs.o }} | paste -sd+ | bc > ${{ outputs.total }}; cat ${{ steps.each.outputs.o }}", outputs: {total: file}}
            """)
        #expect(o.run.status == .succeeded, "\(o.attempts.map { ($0.step, $0.status, $0.message ?? "") })")
        #expect(Set(o.attempts.map(\.step)).isSuperset(of: ["each[0]", "each[1]", "each[2]", "each", "sum"]))
        #expect(o.logLines("sum") == ["30", "10", "20"])
        let total = try #require(o.last("sum")?.outputs["total"]?.digest)
        #expect(String(decoding: try await h.blobs.data(total), as: UTF8.self) == "60\n")
    }

    @Test func cancellingStopsTheStepsAndMarksTheRun() async throws {
        let h = try Harness()
        let s = try h.spec("pipeline: stop\nsteps:\n  long: {run: 'echo started; sleep 120'}\n  after: {run: 'true', needs: long}\n")
        let events = EventLog()
        let task = Task { try await h.executor.run(s, params: [:], options: ExecutionOptions(), events: { events.add($0) }) }
        for _ in 0..<100 {
            if events.all.contains(where: { if case .stepLog("long", "started") = $0 { true } else { false } }) { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let t0 = Date()
        task.cancel()
        let run = try await task.value
        // Far below the step's 120 s, with room for a 2-core CI machine running every suite at
        // once (it took 10.5 s there once, against a 2 s grace period).
        #expect(Date().timeIntervalSince(t0) < 60)
        #expect(run.status == .cancelled)
        let attempts = try await h.store.stepAttempts(pipelineRunID: run.id)
        #expect(attempts.first { $0.step == "long" }?.status == .cancelled)
        #expect(!attempts.contains { $0.step == "after" && $0.status == .succeeded })
    }

    @Test func resumeRerunsOnlyWhatDidNotFinish() async throws {
        let h = try Harness()
        let counter = h.file("a-runs").path, gate = h.file("allow").path
        let yaml = """
            pipeline: resume
            steps:
              a: {run: "echo a >> \(counter); echo A > ${{ outputs.o }}", outputs: {o: file}}
              b: {run: "test -f \(gate) && cat ${{ steps.a.outputs.o }} > ${{ outputs.o }}", outputs: {o: file}}
              c: {run: "cat ${{ steps.b.outputs.o }}"}
              d: {run: "echo independent"}
            """
        let first = try await h.run(yaml, useCache: false)
        #expect(first.run.status == .failed)
        #expect(first.last("c")?.status == .skipped)
        FileManager.default.createFile(atPath: gate, contents: nil)
        let events = EventLog()
        let resumed = try await h.executor.resume(first.run.id, options: ExecutionOptions(useCache: false), events: { events.add($0) })
        #expect(resumed.id == first.run.id)
        #expect(resumed.status == .succeeded)
        let attempts = try await h.store.stepAttempts(pipelineRunID: first.run.id)
        #expect(attempts.filter { $0.step == "a" }.count == 1)
        #expect(attempts.filter { $0.step == "b" }.map(\.attempt).sorted() == [1, 2])
        #expect(attempts.filter { $0.step == "d" }.count == 1)
        #expect(h.read("a-runs") == "a\n")
        let stored = try await h.store.pipelineRun(id: first.run.id)
        #expect(stored?.status == .succeeded)
        await #expect(throws: FlywheelError.self) { _ = try await h.executor.resume(first.run.id, options: ExecutionOptions(), events: { _ in }) }
    }
}
