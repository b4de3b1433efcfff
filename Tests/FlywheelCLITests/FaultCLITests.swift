import FlywheelCore
import FlywheelStore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Many writers, killed writers, huge files: the workspace loses nothing and never corrupts.
@Suite(.serialized) struct FaultCLITests {
    /// Eight processes log into one run at once; every metric is there afterwards.
    @Test func eightConcurrentProcessesLoseNothing() throws {
        let cli = try CLI.workspace()
        let id = try cli.run("runs", "create", "-e", "load").line
        let singles = 15, batch = 400
        for p in 0..<8 {
            let lines = (0..<batch).map { #"{"metric": "b\#(p)", "value": \#($0), "step": \#($0)}"# }
            _ = try cli.write(lines.joined(separator: "\n"), to: "batch\(p).jsonl")
        }
        // Each worker is one shell running a batch, then single-metric calls, as separate processes.
        // (Started from here rather than with `&`/`wait` in one shell: dash's `wait` can miss SIGCHLD
        // under a parent that blocks it.)
        let workers = try (0..<8).map { p -> (Process, URL) in
            let loop = "\(CLI.binary.path) runs log \(id) --batch batch\(p).jsonl || echo FAIL; "
                + "for i in $(seq 1 \(singles)); do \(CLI.binary.path) runs log \(id) --metric s\(p)=$i --step $i || echo FAIL; done"
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: "/bin/sh")
            proc.arguments = ["-c", loop]
            proc.currentDirectoryURL = cli.cwd
            let out = cli.cwd.appendingPathComponent("worker\(p).out")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            proc.standardOutput = try FileHandle(forWritingTo: out)
            proc.standardError = try FileHandle(forWritingTo: out)
            proc.standardInput = FileHandle.nullDevice
            try proc.run()
            return (proc, out)
        }
        for (proc, out) in workers {
            proc.waitUntilExit()
            let text = try String(contentsOf: out, encoding: .utf8)
            #expect(proc.terminationStatus == 0 && !text.contains("FAIL"), "\(text)")
        }
        for p in 0..<8 {
            let b = try #require(try cli.run("runs", "history", id, "b\(p)", "--json").json() as? [[String: Any]])
            #expect(b.count == batch)
            let s = try #require(try cli.run("runs", "history", id, "s\(p)", "--json").json() as? [[String: Any]])
            #expect(s.compactMap { $0["value"] as? Double } == (1...singles).map(Double.init))
        }
    }

    /// SIGKILL at random points of a run of many small transactions: the workspace opens, passes
    /// SQLite's integrity check, every finished run is complete and every blob matches its name.
    @Test(arguments: [60, 140, 220, 400])
    func killedMidWriteLeavesACompleteWorkspace(_ delayMs: Int) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fw-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cli = CLI(cwd: dir)
        // A committed run from before the crash.
        #expect(try cli.run("init").ok)
        let before = try cli.run("runs", "create", "-e", "safe", "--param", "k=v").line
        try cli.run("runs", "log", before, "--metric", "m=1")
        try cli.run("runs", "end", before)

        let p = cli.process(["demo", "--dir", dir.path])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        try await Task.sleep(for: .milliseconds(delayMs))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()

        let store = try SQLiteMetadataStore(path: dir.appendingPathComponent(".flywheel/flywheel.db").path)
        #expect(try await store.integrityCheck() == ["ok"])
        let safe = try await store.runData(id: RunID(before))
        #expect(safe.params == ["k": "v"] && safe.latestMetrics["m"]?.value == 1)
        // Every run the demo finished has its whole history and its model file.
        let finished = try await store.searchRuns(RunQuery(filter: try RunFilter(parsing: "labels.demo = 'true' and status = 'finished'")))
        let blobs = try FileBlobStore(root: dir.appendingPathComponent(".flywheel/artifacts"))
        for r in finished.runs {
            #expect(try await store.metricHistory(runID: r.run.id, key: "val_rmse").count == 40)
            let art = try await store.artifacts(runID: r.run.id, prefix: nil)
            #expect(art.map(\.path) == ["model/weights.json"])
            #expect(try await blobs.info(art[0].digest) != nil)
        }
        let sha = dir.appendingPathComponent(".flywheel/artifacts/sha256")
        for sub in (try? FileManager.default.subpathsOfDirectory(atPath: sha.path)) ?? [] where sub.count == 65 {
            let url = sha.appendingPathComponent(sub)
            #expect(try Digest.ofFile(at: url).digest.hex == sub.replacingOccurrences(of: "/", with: ""))
        }
        // And it keeps working.
        #expect(try cli.run("runs", "list", "--json").ok)
    }

    /// A file far larger than the process' memory use is stored by streaming.
    @Test func storingABigFileStreamsWithBoundedMemory() throws {
        let cli = try CLI.workspace()
        let big = cli.cwd.appendingPathComponent("big.bin")
        let size = 300 << 20
        _ = FileManager.default.createFile(atPath: big.path, contents: nil)
        let h = try FileHandle(forWritingTo: big)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for i in 0..<(size >> 20) {
            chunk[0] = UInt8(truncatingIfNeeded: i)
            chunk[chunk.count - 1] = UInt8(truncatingIfNeeded: i * 7)
            try h.write(contentsOf: chunk)
        }
        try h.close()
        let id = try cli.run("runs", "create", "-e", "big").line
        // The child's own peak RSS, measured by a parent that has no other children: python's
        // RUSAGE_CHILDREN (this test process's would count every child of every test so far).
        let rssFile = cli.cwd.appendingPathComponent("rss.txt")
        let measure = """
            import resource, subprocess, sys
            r = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE)
            sys.stdout.buffer.write(r.stdout)
            open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
            sys.exit(r.returncode)
            """
        let p = cli.process([])
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", measure, rssFile.path, CLI.binary.path, "artifacts", "put", id, "big.bin", "--json"]
        let outURL = cli.cwd.appendingPathComponent("put.out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        try p.run()
        p.waitUntilExit()
        let r = CLI.Result(status: p.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "", stderr: "")
        #expect(r.ok)
        let maxRSSMiB = (Int((try? String(contentsOf: rssFile, encoding: .utf8)) ?? "") ?? Int.max / 2048) / 1024
        #expect(maxRSSMiB < 150, "flywheel used \(maxRSSMiB) MiB storing a 300 MiB file")
        let list = try #require(try r.json() as? [[String: Any]])
        #expect(list.first?["size"] as? Int == size)
        #expect(list.first?["digest"] as? String == (try Digest.ofFile(at: big)).digest.description)
        try? FileManager.default.removeItem(at: cli.cwd)
    }

    @Test func demoRegistersTheBestRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fw-demo-\(UUID().uuidString)")
        let r = try CLI(cwd: FileManager.default.temporaryDirectory).run("demo", "--dir", dir.path, "--json")
        #expect(r.ok, "\(r.stderr)")
        let j = try #require(try r.json() as? [String: Any])
        let runs = try #require(j.dict("runs")["runs"] as? [[String: Any]])
        #expect(runs.count == 4)
        let rmse = runs.map { ($0.dict("run")["id"] as? String ?? "", $0.dict("data").dict("latestMetrics").dict("val_rmse")["value"] as? Double ?? .nan) }
        let best = try #require(rmse.min { $0.1 < $1.1 })
        #expect(j["best"] as? String == best.0)
        let cli = CLI(cwd: dir)
        let v = try #require(try cli.run("models", "resolve", "models:/demo-regressor@production", "--json").json() as? [String: Any])
        #expect(v["runID"] as? String == best.0)
        // The model learned the generating relationship (intercept 1.5, weights 3, -2, 0.5).
        let weights = try cli.run("artifacts", "get", best.0, "model/weights.json", "-o", "-")
        let w = try #require(try JSONSerialization.jsonObject(with: Data(weights.stdout.utf8)) as? [Double])
        #expect(abs(w[1] - 3) < 0.2 && abs(w[2] + 2) < 0.2)
    }
}
