import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PipelineCLITests {
    static let irisCSV: String = {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return (try? String(contentsOf: here.appendingPathComponent("../FlywheelDataTests/Fixtures/iris.csv"), encoding: .utf8)) ?? ""
    }()

    @Test func checkReportsEveryProblemWithFileLineAndColumn() throws {
        let cli = try CLI.workspace()
        _ = try cli.write("pipeline: ok\nsteps:\n  a: {run: 'true'}\n", to: "good.yaml")
        let good = try cli.run("pipelines", "check", "good.yaml")
        #expect(good.ok && good.line == "good.yaml: pipeline 'ok' is valid: 1 step (a)")
        _ = try cli.write("""
            pipeline: bad
            steps:
              a: {uses: data/lod, with: {path: x.csv}}
              b: {run: "echo ${{ steps.c.outputs.x }}", timeot: 5s}
            """, to: "bad.yaml")
        let bad = try cli.run("pipelines", "check", "bad.yaml")
        #expect(bad.status == 1)
        let lines = bad.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("bad.yaml:3:3: step 'a' uses an unknown component 'data/lod' (did you mean 'data/load'?)") })
        #expect(lines.contains { $0.hasPrefix("bad.yaml:4:") && $0.contains("unknown key 'timeot'") && $0.contains("did you mean 'timeout'") })
        #expect(lines.contains { $0.hasPrefix("bad.yaml:4:3:") && $0.contains("reference to a missing step 'c'") })
        let json = try #require(try cli.run("pipelines", "check", "bad.yaml", "--json").json() as? [String: Any])
        #expect(json["valid"] as? Bool == false)
        #expect((json["problems"] as? [[String: Any]])?.count == 3)
        // run checks first: nothing runs, no pipeline run is recorded.
        let run = try cli.run("run", "bad.yaml")
        #expect(run.status == 1 && run.stderr.contains("bad.yaml: 3 problems; nothing ran"))
        #expect(try cli.run("pipelines", "runs", "list", "--json").json() as? [Any] != nil)
        #expect((try cli.run("pipelines", "runs", "list", "--json").json() as? [Any])?.isEmpty == true)
    }

    @Test func runsTheIrisPipelineAndShowsIt() throws {
        let cli = try CLI.workspace()
        _ = try cli.write(Self.irisCSV, to: "data/iris.csv")
        _ = try cli.write("""
            pipeline: iris
            params: {n_trees: 20}
            steps:
              load: {uses: data/load, with: {path: data/iris.csv}}
              split: {uses: data/split, with: {data: "${{ steps.load.outputs.table }}", stratify: target}}
              train: {uses: learn/train, with: {data: "${{ steps.split.outputs.train }}", target: target, hyperparameters: {n_trees: "${{ params.n_trees }}"}}}
              evaluate: {uses: learn/evaluate, with: {model: "${{ steps.train.outputs.model }}", data: "${{ steps.split.outputs.test }}"}}
              register: {uses: registry/register, with: {model: "${{ steps.train.outputs.model }}", name: iris, alias: production}}
              note: {run: "echo accuracy file ${{ steps.evaluate.outputs.metrics }}"}
            """, to: "pipeline.yaml")
        let r = try cli.run("run", "pipeline.yaml", "-p", "n_trees=10")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("    [note] accuracy file "))
        #expect(r.stdout.contains("    [register] registered models:/iris/1"))
        #expect(r.stdout.contains(" succeeded"))
        let runs = try #require(try cli.run("pipelines", "runs", "list", "--json").json() as? [[String: Any]])
        #expect(runs.count == 1 && runs[0]["status"] as? String == "succeeded")
        #expect((runs[0]["params"] as? [String: Any])?["n_trees"] as? Double == 10)
        let id = try #require(runs[0]["id"] as? String)
        let show = try cli.run("pipelines", "runs", "show", id)
        #expect(show.stdout.contains("evaluate  succeeded"))
        #expect(show.stdout.contains("split,train"))
        #expect(try cli.run("models", "resolve", "models:/iris@production").stdout.contains("iris"))
        // Bad params are refused before anything runs.
        let bad = try cli.run("run", "pipeline.yaml", "-p", "n_trees=many")
        #expect(bad.status == 1 && bad.stderr.contains("-p n_trees=many: expected a whole number"))
        let unknown = try cli.run("run", "pipeline.yaml", "-p", "trees=3")
        #expect(unknown.status == 1 && unknown.stderr.contains("no param 'trees'"))
        // The second run reuses every cacheable step.
        let again = try cli.run("run", "pipeline.yaml", "-p", "n_trees=10", "--json")
        let detail = try #require(try again.json() as? [String: Any])
        let steps = try #require(detail["steps"] as? [[String: Any]])
        #expect(steps.filter { $0["cacheHit"] as? Bool == true }.map { $0["step"] as? String ?? "" }.sorted() == ["evaluate", "load", "note", "split", "train"])
    }

    @Test func componentsAreListedAndDocumented() throws {
        let cli = try CLI.workspace()
        let list = try #require(try cli.run("components", "list", "--json").json() as? [[String: Any]])
        #expect(list.map { $0["name"] as? String ?? "" } == [
            "batch/predict", "data/load", "data/profile", "data/split", "data/validate", "gate", "learn/evaluate", "learn/train",
            "learn/tune", "registry/promote", "registry/register",
        ])
        let show = try cli.run("components", "show", "learn/train")
        let target = show.stdout.split(separator: "\n").first { $0.hasPrefix("  target ") }
        #expect(target?.contains(" yes ") == true, "\(show.stdout)")
        let missing = try cli.run("components", "show", "learn/fly")
        #expect(missing.status == 1 && missing.stderr.contains("no component 'learn/fly'"))
    }

    @Test func failureExitsOneAndNamesTheStep() throws {
        let cli = try CLI.workspace()
        _ = try cli.write("pipeline: f\nsteps:\n  boom: {run: 'echo bad >&2; exit 4'}\n", to: "p.yaml")
        let r = try cli.run("run", "p.yaml")
        #expect(r.status == 1)
        #expect(r.stdout.contains("    [boom] bad"))
        #expect(r.stdout.contains("boom   failed") && r.stdout.contains("the command exited with status 4"))
    }

    /// Waits (bounded) until a file exists.
    func waitFor(_ url: URL, seconds: Double = 30) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if FileManager.default.fileExists(atPath: url.path) { return true }
            usleep(20_000)
        }
        return false
    }

    func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return stat.split(separator: " ").dropFirst(2).first != "Z"
    }

    /// SIGTERM stops the scheduler (a swift-service-lifecycle graceful shutdown): it starts
    /// nothing new, lets the running pipeline finish, and exits cleanly.
    @Test func sigtermLetsTheSchedulersRunningPipelineFinish() throws {
        let cli = try CLI.workspace()
        let started = cli.cwd.appendingPathComponent("started"), done = cli.cwd.appendingPathComponent("done")
        _ = try cli.write("""
            pipeline: slow
            on: [{event: go}]
            steps:
              wait: {run: "touch \(started.path); sleep 2; touch \(done.path)", cache: false}
            """, to: "s.yaml")
        let p = cli.process(["scheduler", "s.yaml", "--interval", "1s"])
        let err = cli.cwd.appendingPathComponent("scheduler.err"), out = cli.cwd.appendingPathComponent("scheduler.out")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        FileManager.default.createFile(atPath: out.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardOutput = try FileHandle(forWritingTo: out)
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        #expect(try cli.run("events", "submit", "go").ok)
        #expect(waitFor(started))
        kill(p.processIdentifier, SIGTERM)
        let end = Date().addingTimeInterval(60)
        while p.isRunning && Date() < end { usleep(50_000) }
        #expect(!p.isRunning && p.terminationStatus == 0)
        // The step ran to its end rather than being killed with the scheduler.
        #expect(FileManager.default.fileExists(atPath: done.path))
        #expect((try? String(contentsOf: err, encoding: .utf8))?.contains("stopping: no new runs") == true)
        let runs = try #require(try cli.run("pipelines", "runs", "list", "--json").json() as? [[String: Any]])
        #expect(runs.count == 1 && runs.first?["status"] as? String == "succeeded" && runs.first?["trigger"] as? String == "event")
    }

    @Test func interruptCancelsTheRunAndItsChildren() throws {
        let cli = try CLI.workspace()
        let pidFile = cli.cwd.appendingPathComponent("sleep.pid")
        _ = try cli.write("pipeline: i\nsteps:\n  long: {run: 'sleep 60 & echo $! > \(pidFile.path); wait'}\n  after: {run: 'true', needs: long}\n", to: "p.yaml")
        let p = cli.process(["run", "p.yaml"])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        #expect(waitFor(pidFile))
        usleep(100_000)
        let child = Int32((try? String(contentsOf: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = !alive(child)
            if !stopped { usleep(50_000) }
        }
        #expect(stopped, "the step's child \(child) is still running")
        let runs = try #require(try cli.run("pipelines", "runs", "list", "--json").json() as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "cancelled")
    }

    @Test func aKilledRunIsCompletedByResume() throws {
        let cli = try CLI.workspace()
        let pidFile = cli.cwd.appendingPathComponent("b.pid"), hang = cli.cwd.appendingPathComponent("hang")
        let count = cli.cwd.appendingPathComponent("count")
        FileManager.default.createFile(atPath: hang.path, contents: nil)
        _ = try cli.write("""
            pipeline: k
            steps:
              a: {run: "echo a >> \(count.path); echo A > ${{ outputs.o }}", outputs: {o: file}, cache: false}
              b: {run: "if [ -f \(hang.path) ]; then echo $$ > \(pidFile.path); sleep 60; fi; cat ${{ steps.a.outputs.o }} > ${{ outputs.o }}", outputs: {o: file}}
              c: {run: "cat ${{ steps.b.outputs.o }}"}
            """, to: "p.yaml")
        let p = cli.process(["run", "p.yaml"])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        #expect(waitFor(pidFile))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // The orphaned step is in its own process group; clean it up as an operator would.
        if let pid = Int32((try? String(contentsOf: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") {
            kill(-pid, SIGKILL)
        }
        try FileManager.default.removeItem(at: hang)
        let runs = try #require(try cli.run("pipelines", "runs", "list", "--json").json() as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "running")
        let id = try #require(runs.first?["id"] as? String)
        let resumed = try cli.run("runs", "resume", id, "--json")
        #expect(resumed.ok, "\(resumed.stderr)")
        let detail = try #require(try resumed.json() as? [String: Any])
        #expect((detail["run"] as? [String: Any])?["status"] as? String == "succeeded")
        let steps = try #require(detail["steps"] as? [[String: Any]])
        let b = steps.filter { $0["step"] as? String == "b" }.map { ($0["attempt"] as? Int ?? 0, $0["status"] as? String ?? "") }.sorted { $0.0 < $1.0 }
        #expect(b.map(\.1) == ["failed", "succeeded"])
        #expect(steps.filter { $0["step"] as? String == "a" }.count == 1)
        // a finished before the kill and was reused, not run again.
        #expect((try? String(contentsOf: count, encoding: .utf8)) == "a\n")
        let again = try cli.run("runs", "resume", id)
        #expect(again.status == 1 && again.stderr.contains("succeeded: there is nothing to resume"))
    }

    @Test func theSchedulerStartsRunsForFilesAndEventsOnce() throws {
        let cli = try CLI.workspace()
        let seen = cli.cwd.appendingPathComponent("seen.txt")
        _ = try cli.write("""
            pipeline: ingest
            params: {file: none}
            on: [{files: "incoming/*.csv"}, {event: retrain}]
            steps:
              note: {run: "echo ${{ params.file }} >> \(seen.path)"}
            """, to: "ingest.yaml")
        _ = try cli.write("a\n1\n", to: "incoming/one.csv")
        let first = try cli.run("scheduler", "--once")
        #expect(first.ok, "\(first.stderr)")
        #expect(first.stdout.contains("watching ingest (") && first.stdout.contains("files incoming/*.csv, event retrain"))
        #expect(first.stdout.contains("starting ingest: files incoming/one.csv"))
        #expect(try cli.run("scheduler", "--once").stdout.contains("starting") == false)
        let submit = try cli.run("events", "submit", "retrain", "--key", "k1")
        #expect(submit.line == "queued event retrain (key k1)")
        #expect(try cli.run("events", "submit", "retrain", "--key", "k1").line.contains("was submitted before: ignored"))
        let third = try cli.run("scheduler", "--once")
        #expect(third.stdout.contains("starting ingest: event retrain"))
        #expect((try? String(contentsOf: seen, encoding: .utf8)) == "incoming/one.csv\nnone\n")
        let runs = try #require(try cli.run("pipelines", "runs", "list", "--json").json() as? [[String: Any]])
        #expect(runs.map { $0["trigger"] as? String ?? "" }.sorted() == ["event", "files"])
    }
}
