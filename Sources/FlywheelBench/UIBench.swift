// `flywheel-bench ui …`: renders the web UI's heavy pages in process, over a real SQLite workspace
// seeded at the issue's sizes, and reports server time (p50/p95) and HTML size per page. Used by
// bench/ui.sh.
import FlywheelCore
import FlywheelStore
import FlywheelUI
import Foundation

func runUIBench(_ arguments: [String]) async throws {
    let o = OptionBag(
        arguments, known: ["dir", "runs", "wide-keys", "points", "small-points", "compare-runs", "compare-runs-large", "compare-points", "steps", "repeats"], mode: "ui")
    let dir = o.string("dir", FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-ui-bench-\(UUID().uuidString.prefix(8))").path)
    let runs = o.int("runs", 100_000)
    let wideKeys = o.int("wide-keys", 10_000)
    let points = o.int("points", 1_000_000)
    let smallPoints = o.int("small-points", 100_000)
    let compareRuns = o.int("compare-runs", 100)
    let compareRunsLarge = o.int("compare-runs-large", 500)
    let comparePoints = o.int("compare-points", 100_000)
    let steps = o.int("steps", 1000)
    let repeats = o.int("repeats", 20)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let store = try SQLiteMetadataStore(path: dir + "/flywheel.db")
    let blobs = try FileBlobStore(root: URL(fileURLWithPath: dir + "/artifacts"))
    let ui = WebUI(store: store, blobs: blobs)
    let t0 = Timestamp(millisecondsSince1970: 1_780_000_000_000)
    var seeded: [String: Double] = [:]

    // 1. The big experiment: runs with 10 params and 10 metrics each (20 columns).
    let seedStart = wallNanos()
    let big = try await store.createExperiment(NewExperiment(name: "big"), at: t0)
    try await withThrowingTaskGroup(of: Void.self) { group in
        let workers = 4
        for w in 0..<workers {
            group.addTask {
                var i = w
                while i < runs {
                    let id = RunID(rawValue: String(format: "b%031x", i))
                    try await store.createRun(
                        Run(id: id, experimentID: big.id, name: "run-\(i)", status: .finished,
                            startTime: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(i)),
                            endTime: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(i) + 1000)))
                    let params = (0..<10).map { Param(key: "p\($0)", value: String((i * 31 + $0 * 7) % 97)) }
                    let metrics = (0..<10).map { k in Metric(key: "m\(k)", value: Double((i * 7919 + k * 104_729) % 100_003) / 100_003, timestamp: t0) }
                    try await store.logBatch(runID: id, params: params, metrics: metrics, tags: [])
                    i += workers
                }
            }
        }
        try await group.waitForAll()
    }
    seeded["big_runs_seconds"] = Double(wallNanos() - seedStart) / 1e9
    note("seeded \(runs) runs in \(seeded["big_runs_seconds"]!) s")

    // 2. Two experiments of 100 runs: one with 20 metric keys, one with `wide-keys` distinct keys.
    let narrow = try await store.createExperiment(NewExperiment(name: "narrow"), at: t0)
    let wide = try await store.createExperiment(NewExperiment(name: "wide"), at: t0)
    let perRun = max(wideKeys / 100, 20)
    for i in 0..<100 {
        for (exp, keys) in [(narrow, (0..<20).map { "k\($0)" }), (wide, (0..<perRun).map { "k\((i * perRun + $0) % wideKeys)" })] {
            let id = RunID.generate()
            try await store.createRun(Run(id: id, experimentID: exp.id, name: "r\(i)", status: .finished, startTime: t0))
            try await store.logBatch(runID: id, params: [], metrics: keys.map { Metric(key: $0, value: Double(i), timestamp: t0) }, tags: [])
        }
    }

    // 3. Long histories: one of `points`, one of `small-points`, and `compare-runs` of `compare-points`.
    let charts = try await store.createExperiment(NewExperiment(name: "charts"), at: t0)
    func history(_ id: RunID, _ n: Int, seed: Int) async throws {
        var batch: [Metric] = []
        batch.reserveCapacity(1000)
        for s in 0..<n {
            let spike = s == n * 7 / 10 + seed
            batch.append(Metric(key: "loss", value: spike ? 100 : 1 / Double(s + 1) + Double((s * 7919 + seed) % 1000) / 1e5, step: Int64(s),
                                timestamp: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(s))))
            if batch.count == 1000 {
                try await store.logBatch(runID: id, params: [], metrics: batch, tags: [])
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await store.logBatch(runID: id, params: [], metrics: batch, tags: []) }
    }
    let million = RunID(rawValue: "million")
    let hundredK = RunID(rawValue: "hundredk")
    for (id, n) in [(million, points), (hundredK, smallPoints)] {
        try await store.createRun(Run(id: id, experimentID: charts.id, name: id.rawValue, status: .finished, startTime: t0))
        try await history(id, n, seed: 0)
    }
    var compareIDs: [RunID] = []
    let compareStart = wallNanos()
    for i in 0..<max(compareRuns, compareRunsLarge) {
        let id = RunID(rawValue: String(format: "c%031x", i))
        try await store.createRun(Run(id: id, experimentID: charts.id, name: "c\(i)", status: .finished, startTime: t0))
        try await store.logBatch(runID: id, params: [Param(key: "lr", value: String(Double(i) / 1000))], metrics: [], tags: [])
        try await history(id, comparePoints, seed: i)
        compareIDs.append(id)
    }
    seeded["compare_seconds"] = Double(wallNanos() - compareStart) / 1e9

    // 4. A pipeline run of `steps` steps.
    let pipeline = PipelineRunID(rawValue: "bigpipeline")
    try await store.createPipelineRun(
        PipelineRun(id: pipeline, pipeline: "wide", specDigest: Digest(of: Data("x".utf8)), specPath: "wide.yaml", params: [:],
                    status: .succeeded, trigger: "manual", startTime: t0, endTime: t0))
    for s in 0..<steps {
        try await store.recordStepAttempt(
            StepAttempt(pipelineRunID: pipeline, step: "step-\(s)", attempt: 1, status: s % 97 == 0 ? .failed : .succeeded,
                        startTime: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(s)),
                        endTime: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(s) + 5), cacheHit: s % 3 == 0))
    }
    note("seeded everything")

    let cols20 = (0..<10).map { "col=metrics.m\($0)" } + (0..<10).map { "col=params.p\($0)" }
    let pages: [(String, String)] = [
        ("runs_100_rows_20_cols", "/experiments/\(big.id.rawValue)?order=metrics.m3%20DESC&" + cols20.joined(separator: "&")),
        ("runs_1000_rows_20_cols", "/experiments/\(big.id.rawValue)?size=1000&order=metrics.m3%20DESC&" + cols20.joined(separator: "&")),
        ("runs_filter_or", "/experiments/\(big.id.rawValue)?order=metrics.m1%20ASC&filter=metrics.m2%20%3E%200.9%20or%20params.p1%20%3D%20%2710%27&"
            + cols20.joined(separator: "&")),
        ("runs_20_keys", "/experiments/\(narrow.id.rawValue)"),
        ("runs_\(wideKeys)_keys", "/experiments/\(wide.id.rawValue)"),
        ("runs_\(wideKeys)_keys_picker_open", "/experiments/\(wide.id.rawValue)?pick=1"),
        ("chart_\(points)_points", "/runs/million/metrics/loss"),
        ("chart_\(smallPoints)_points", "/runs/hundredk/metrics/loss"),
        ("compare_\(compareRuns)_runs", "/compare?" + compareIDs.prefix(compareRuns).map { "runs=\($0.rawValue)" }.joined(separator: "&")),
        ("compare_\(compareRunsLarge)_runs", "/compare?" + compareIDs.prefix(compareRunsLarge).map { "runs=\($0.rawValue)" }.joined(separator: "&")),
        ("pipeline_\(steps)_steps", "/pipelines/runs/\(pipeline.rawValue)"),
        ("experiments", "/"),
    ]
    var results: [String: Any] = [:]
    // FLYWHEEL_UI_BENCH_ONLY=runs_10000_keys renders only the pages whose names contain it (for a profile).
    let only = ProcessInfo.processInfo.environment["FLYWHEEL_UI_BENCH_ONLY"] ?? ""
    for (name, target) in pages where only.isEmpty || name.contains(only) {
        var walls: [Double] = []
        var bytes = 0
        var status = 0
        var svgBytes = 0
        let n = name.hasPrefix("compare") ? max(3, repeats / 4) : repeats
        for i in 0...n {
            let start = wallNanos()
            let page = await ui.respond(to: UIRequest(target: target))
            let wall = Double(wallNanos() - start) / 1e9
            if i > 0 { walls.append(wall) }  // the first is a warm-up
            bytes = page.body.count
            status = page.status
            if let a = page.text.range(of: "<svg class=\"chart\""), let b = page.text[a.lowerBound...].range(of: "</svg>") {
                svgBytes = page.text[a.lowerBound..<b.upperBound].utf8.count
            }
        }
        results[name] = ["status": status, "html_bytes": bytes, "svg_bytes": svgBytes, "p50_ms": median(walls) * 1000,
                         "p95_ms": quantile(walls, 0.95) * 1000, "repeats": walls.count]
        note("\(name): p50 \(String(format: "%.1f", median(walls) * 1000)) ms, p95 \(String(format: "%.1f", quantile(walls, 0.95) * 1000)) ms, \(bytes) bytes, status \(status)")
    }
    try printJSON(["pages": results, "seeding": seeded, "runs": runs, "wide_keys": wideKeys, "points": points, "compare_runs": compareRuns, "compare_runs_large": compareRunsLarge,
                   "compare_points": comparePoints, "steps": steps, "repeats": repeats, "dir": dir])
}
