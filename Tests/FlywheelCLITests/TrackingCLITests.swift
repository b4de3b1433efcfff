import FlywheelCore
import FlywheelStore
import Foundation
import Testing

@Suite struct TrackingCLITests {
    /// The issue's shell-script flow, checked through `runs show --json`.
    @Test func aShellScriptCanTrackARun() throws {
        let cli = try CLI.workspace()
        try sh("git init -q . && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m first", in: cli.cwd)
        let commit = try sh("git rev-parse HEAD", in: cli.cwd)
        let data = try cli.write("a,b\n1,2\n", to: "data/iris.csv")
        try sh("git add data && git -c user.email=t@t -c user.name=t commit -q -m data && echo '3,4' >> data/iris.csv", in: cli.cwd)
        let head = try sh("git rev-parse HEAD", in: cli.cwd)
        #expect(head != commit)

        let create = try cli.run("runs", "create", "-e", "iris", "--param", "lr=0.1", "--input", "data/iris.csv", "--label", "team=ml", "--seed", "7")
        #expect(create.ok, "\(create.stderr)")
        let id = create.line
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        #expect(try cli.run("runs", "log", id, "--metric", "acc=0.93", "--step", "1").ok)
        #expect(try cli.run("runs", "log", id, "--metric", "acc=0.95", "--metric", "loss=0.2", "--step", "2", "--tag", "note=ok").ok)
        #expect(try cli.run("runs", "end", id).ok)

        let show = try cli.run("runs", "show", id, "--json")
        #expect(show.ok, "\(show.stderr)")
        let j = try #require(try show.json() as? [String: Any])
        let run = j.dict("run")
        #expect(run["status"] as? String == "finished")
        #expect(run["endTime"] != nil)
        #expect(run.dict("labels")["team"] as? String == "ml")
        let env = run.dict("environment")
        #expect(env["gitCommit"] as? String == head)
        #expect(env["gitDirty"] as? Bool == true)
        #expect(env["seed"] as? Int == 7)
        #expect((env["commandLine"] as? [String])?.contains("--input") == true)
        #expect(env["swiftVersion"] as? String != nil)
        let input = try #require((env["inputs"] as? [[String: Any]])?.first)
        #expect(input["digest"] as? String == Digest(of: try Data(contentsOf: data)).description)
        let d = j.dict("data")
        #expect(d.dict("params")["lr"] as? String == "0.1")
        #expect(d.dict("latestMetrics").dict("acc")["value"] as? Double == 0.95)
        #expect(d.dict("latestMetrics").dict("acc")["step"] as? Int == 2)
        #expect(d.dict("tags")["note"] as? String == "ok")

        let history = try cli.run("runs", "history", id, "acc", "--json")
        let h = try #require(try history.json() as? [[String: Any]])
        #expect(h.map { $0["value"] as? Double } == [0.93, 0.95])
    }

    @Test func paramRewriteIsAnErrorNamingBothValues() throws {
        let cli = try CLI.workspace()
        let id = try cli.run("runs", "create", "-e", "x", "--param", "lr=0.1").line
        let r = try cli.run("runs", "log", id, "--param", "lr=0.2")
        #expect(r.status == 1)
        #expect(r.stderr.contains("param 'lr' was already logged as '0.1' and cannot be changed to '0.2'"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal"))
        #expect(try cli.run("runs", "log", id, "--param", "lr=0.1").ok)
    }

    @Test func aDeletedRunIsListedOnlyWhenAskedForAndRefusesWrites() async throws {
        let cli = try CLI.workspace()
        let kept = try cli.run("runs", "create", "-e", "x", "--name", "kept").line
        let gone = try cli.run("runs", "create", "-e", "x", "--name", "gone").line
        // Deleting is MLflow's call (runs/delete); the store is what it changes.
        let store = try SQLiteMetadataStore(path: cli.cwd.appendingPathComponent(".flywheel/flywheel.db").path)
        try await store.setRunDeleted(id: RunID(gone), at: SystemWallClock().now())
        let active = try cli.run("runs", "list", "-e", "x").stdout
        #expect(active.contains(kept) && !active.contains(gone), "\(active)")
        let deleted = try cli.run("runs", "list", "-e", "x", "--view", "deleted").stdout
        #expect(deleted.contains(gone) && deleted.contains("(deleted)") && !deleted.contains(kept), "\(deleted)")
        #expect(try cli.run("runs", "list", "-e", "x", "--view", "all").stdout.contains(gone))
        #expect(try cli.run("runs", "show", gone).stdout.contains("deleted"))
        let write = try cli.run("runs", "log", gone, "--metric", "acc=1")
        #expect(!write.ok && write.stderr.contains("must be in the 'active' state"), "\(write.stderr)")
        let bad = try cli.run("runs", "list", "--view", "gone")
        #expect(!bad.ok && bad.stderr.contains("active, deleted or all"), "\(bad.stderr)")
    }

    @Test func searchFiltersOrdersAndPagesFromTheCommandLine() throws {
        let cli = try CLI.workspace()
        var ids: [String] = []
        for (i, model) in ["rf", "lr", "rf", "rf"].enumerated() {
            let id = try cli.run("runs", "create", "-e", "s", "--name", "run\(i)", "--param", "model=\(model)", "--label", "team=ml").line
            try cli.run("runs", "log", id, "--metric", "accuracy=0.\(85 + i * 4)")
            ids.append(id)
        }
        let r = try cli.run("runs", "list", "-e", "s", "--filter", "metrics.accuracy > 0.9 and params.model = 'rf' and labels.team = 'ml'",
                            "--order-by", "metrics.accuracy desc", "--json")
        #expect(r.ok, "\(r.stderr)")
        let runs = try #require((try r.json() as? [String: Any])?["runs"] as? [[String: Any]])
        #expect(runs.map { ($0["run"] as? [String: Any])?["name"] as? String } == ["run3", "run2"])

        // Pages of two, walked with the printed token.
        let p1 = try #require(try cli.run("runs", "list", "--limit", "2", "--json").json() as? [String: Any])
        let token = try #require(p1["nextPageToken"] as? String)
        let p2 = try #require(try cli.run("runs", "list", "--limit", "2", "--page-token", token, "--json").json() as? [String: Any])
        #expect(p2["nextPageToken"] == nil)
        let all = ((p1["runs"] as? [[String: Any]]) ?? []) + ((p2["runs"] as? [[String: Any]]) ?? [])
        #expect(Set(all.compactMap { ($0["run"] as? [String: Any])?["id"] as? String }) == Set(ids))

        // The table is aligned: every row's NAME column starts where the header's does.
        let table = try cli.run("runs", "list", "--order-by", "metrics.accuracy")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        let col = try #require(lines[0].range(of: "NAME")).lowerBound.utf16Offset(in: lines[0])
        for l in lines.dropFirst() { #expect(l.count > col && l[l.index(l.startIndex, offsetBy: col)...].hasPrefix("run")) }
        #expect(lines[1].contains("run0"))

        let bad = try cli.run("runs", "list", "--filter", "metrics.accuracy >> 0.9")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("column 19"), "\(bad.stderr)")
    }

    @Test func compareShowsRunsSideBySide() throws {
        let cli = try CLI.workspace()
        let a = try cli.run("runs", "create", "-e", "c", "--param", "lr=0.1").line
        let b = try cli.run("runs", "create", "-e", "c", "--param", "depth=3").line
        try cli.run("runs", "log", a, "--metric", "acc=0.9")
        try cli.run("runs", "log", b, "--metric", "loss=0.25")
        let r = try cli.run("runs", "compare", a, b)
        #expect(r.ok)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].split(separator: " ", omittingEmptySubsequences: true) == ["RUN", "NAME", "params.depth", "params.lr", "metrics.acc", "metrics.loss"])
        #expect(lines[1].hasPrefix(String(a.prefix(12))) && lines[1].contains("0.1") && lines[1].contains("0.9"))
        #expect(lines[2].hasPrefix(String(b.prefix(12))) && lines[2].contains("0.25"))
        let j = try #require(try cli.run("runs", "compare", a, b, "--json").json() as? [String: Any])
        #expect(j["metricKeys"] as? [String] == ["acc", "loss"])
        #expect(try cli.run("runs", "compare", a).status != 0)
    }

    @Test func batchFileLogsInOneCallAndReportsBadLines() throws {
        let cli = try CLI.workspace()
        let id = try cli.run("runs", "create", "-e", "b").line
        let lines = (0..<300).map { #"{"metric": "loss", "value": \#(1.0 / Double($0 + 1)), "step": \#($0)}"# }
            + [#"{"param": "opt", "value": "adam"}"#, #"{"param": "lr", "value": 0.00012345678}"#, #"{"tag": "k", "value": 3}"#]
        let r = try cli.run(["runs", "log", id, "--batch", "-"], stdin: Data(lines.joined(separator: "\n").utf8))
        #expect(r.ok, "\(r.stderr)")
        let h = try #require(try cli.run("runs", "history", id, "loss", "--json").json() as? [Any])
        #expect(h.count == 300)
        let show = try #require(try cli.run("runs", "show", id, "--json").json() as? [String: Any])
        #expect(show.dict("data").dict("params")["opt"] as? String == "adam")
        #expect(show.dict("data").dict("params")["lr"] as? String == "0.00012345678")  // exact, not rounded for display
        #expect(show.dict("data").dict("tags")["k"] as? String == "3")

        let badFile = try cli.write("{\"metric\": \"a\", \"value\": 1}\n{\"metric\": \"a\", \"value\": \"high\"}\n", to: "bad.jsonl")
        let bad = try cli.run("runs", "log", id, "--batch", badFile.path)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("line 2") && bad.stderr.contains("numeric"), "\(bad.stderr)")
        // Nothing of the bad file was logged.
        #expect(try cli.run("runs", "history", id, "a", "--json").line == "[\n\n]" || (try cli.run("runs", "history", id, "a", "--json").json() as? [Any])?.isEmpty == true)
    }

    @Test(arguments: [
        (["runs", "log", "not-an-id", "--metric", "a=1"], "expected 32 lowercase hex digits"),
        (["runs", "log", "0123456789abcdef0123456789abcdef", "--metric", "a=high"], "'high' is not a number"),
        (["runs", "log", "0123456789abcdef0123456789abcdef", "--metric", "a=1"], "run 0123456789abcdef0123456789abcdef not found"),
        (["runs", "log", "0123456789abcdef0123456789abcdef"], "nothing to log"),
        (["runs", "end", "0123456789abcdef0123456789abcdef", "--status", "paused"], "status 'paused' is not valid"),
        (["runs", "create", "-e", "x", "--param", "lr"], "expected KEY=VALUE"),
        (["runs", "create", "-e", "x", "--label", "bad key=1"], "label key 'bad key' is not valid"),
        (["experiments", "show", "nope"], "no experiment named or numbered 'nope'"),
        (["models", "show", "nope"], "registered model 'nope' not found"),
        (["models", "resolve", "iris"], "expected models:/NAME/VERSION"),
        (["lineage", "show", "table:x"], "expected KIND:ID"),
        (["experiments", "list", "--selector", "team in fraud"], "expected '('"),
    ])
    func badInputGetsAClearErrorAndNonZeroExit(_ args: [String], _ expected: String) throws {
        let cli = try CLI.workspace()
        let r = try cli.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(expected), "stderr was: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
    }

    @Test func workspaceIsFoundUpwardsOrByFlagOrEnvironment() throws {
        let cli = try CLI.workspace()
        try cli.run("experiments", "create", "found")
        let sub = cli.cwd.appendingPathComponent("a/b/c")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let fromSub = try CLI(cwd: sub).run("experiments", "list", "--json")
        #expect(fromSub.stdout.contains("\"found\""))

        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("fw-none-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let none = try CLI(cwd: elsewhere).run("experiments", "list")
        #expect(none.status == 1)
        #expect(none.stderr.contains("no Flywheel workspace"), "\(none.stderr)")
        #expect(try CLI(cwd: elsewhere).run("experiments", "list", "--workspace", cli.cwd.path).stdout.contains("found"))
        #expect(try CLI(cwd: elsewhere, env: ["FLYWHEEL_WORKSPACE": cli.cwd.path]).run("experiments", "list").stdout.contains("found"))
        let wrong = try CLI(cwd: elsewhere).run("experiments", "list", "--workspace", elsewhere.path)
        #expect(wrong.stderr.contains("is not a Flywheel workspace"))
        // A config naming a backend this build lacks is refused clearly.
        try Data("metadata: postgres://u:secret@db.example/flywheel\n".utf8)
            .write(to: cli.cwd.appendingPathComponent(".flywheel/config.yaml"))
        let pg = try cli.run("experiments", "list")
        #expect(pg.status == 1 && pg.stderr.contains("PostgreSQL backend"))
        #expect(!pg.stderr.contains("secret"))
    }

    @Test func experimentsCreateListShowArchive() throws {
        let cli = try CLI.workspace()
        #expect(try cli.run("experiments", "create", "fraud", "--label", "team=risk", "--description", "card fraud").line == "1")
        #expect(try cli.run("experiments", "create", "iris").line == "2")
        let dup = try cli.run("experiments", "create", "iris")
        #expect(dup.status == 1 && dup.stderr.contains("experiment 'iris' already exists"))
        let id = try cli.run("runs", "create", "-e", "fraud").line
        try cli.run("runs", "end", id, "--status", "failed")
        let show = try #require(try cli.run("experiments", "show", "fraud", "--json").json() as? [String: Any])
        #expect(show.dict("runCounts")["failed"] as? Int == 1)
        let sel = try #require(try cli.run("experiments", "list", "--selector", "team=risk", "--json").json() as? [[String: Any]])
        #expect(sel.map { $0["name"] as? String } == ["fraud"])
        #expect(try cli.run("experiments", "archive", "fraud").ok)
        let listed = try #require(try cli.run("experiments", "list", "--json").json() as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["iris"])
        let all = try #require(try cli.run("experiments", "list", "--all", "--json").json() as? [[String: Any]])
        #expect(all.count == 2)
        #expect(try cli.run("experiments", "archive", "fraud", "--restore").ok)
        #expect((try cli.run("experiments", "list", "--json").json() as? [Any])?.count == 2)
    }

    @Test func artifactsPutGetList() throws {
        let cli = try CLI.workspace()
        let id = try cli.run("runs", "create", "-e", "a").line
        _ = try cli.write("weights", to: "out/model/weights.bin")
        _ = try cli.write("meta", to: "out/model/meta/info.txt")
        let put = try cli.run("artifacts", "put", id, "out/model", "--json")
        #expect(put.ok, "\(put.stderr)")
        let list = try #require(try cli.run("artifacts", "list", id, "--json").json() as? [[String: Any]])
        #expect(list.map { $0["path"] as? String } == ["model/meta/info.txt", "model/weights.bin"])
        #expect(list[1]["digest"] as? String == Digest(of: Data("weights".utf8)).description)
        #expect(try cli.run("artifacts", "get", id, "model/weights.bin", "-o", "-").stdout == "weights")
        #expect(try cli.run("artifacts", "get", id, "model", "-o", "back").ok)
        #expect(try String(contentsOf: cli.cwd.appendingPathComponent("back/meta/info.txt"), encoding: .utf8) == "meta")
        let missing = try cli.run("artifacts", "get", id, "nope.bin")
        #expect(missing.status == 1 && missing.stderr.contains("has no artifact 'nope.bin'"))
    }
}
