// `flywheel-bench tracking …`: times Flywheel's tracking through its Swift API on a real SQLite
// workspace. Used by bench/tracking.sh, which runs the same workload against MLflow and prints ratios.
import FlywheelCore
import FlywheelRegistry
import FlywheelStore
import Foundation

struct TrackingOptions {
    var dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-bench-\(UUID().uuidString.prefix(8))").path
    var single = 10_000
    var batched = 100_000
    var batchSize = 1_000
    var searchRuns = 10_000
    var searchRepeats = 50
    var searchLimit = 100

    init(_ arguments: [String]) {
        var args = arguments[...]
        while let a = args.popFirst() {
            guard let v = args.popFirst() else { fail("option \(a) needs a value") }
            switch a {
            case "--dir": dir = v
            case "--single": single = Int(v) ?? single
            case "--batched": batched = Int(v) ?? batched
            case "--batch-size": batchSize = Int(v) ?? batchSize
            case "--search-runs": searchRuns = Int(v) ?? searchRuns
            case "--search-repeats": searchRepeats = Int(v) ?? searchRepeats
            case "--search-limit": searchLimit = Int(v) ?? searchLimit
            default: fail("unknown option \(a) for tracking")
            }
        }
    }
}

func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func runTracking(_ arguments: [String]) async throws {
    let o = TrackingOptions(arguments)
    try FileManager.default.createDirectory(atPath: o.dir, withIntermediateDirectories: true)
    let store = try SQLiteMetadataStore(path: o.dir + "/flywheel.db")
    let blobs = try FileBlobStore(root: URL(fileURLWithPath: o.dir + "/artifacts"))
    let tracking = TrackingService(store: store, blobs: blobs)
    let exp = try await tracking.ensureExperiment(named: "bench")

    // 1. One metric per call, each its own transaction.
    let run1 = try await tracking.startRun(in: exp.id, name: "single")
    let singleSeconds = try await asyncSeconds {
        for i in 0..<o.single {
            try await tracking.log(run1.id, metrics: [("loss", 1.0 / Double(i + 1))], step: Int64(i))
        }
    }

    // 2. Batches of batchSize metrics, one transaction each.
    let run2 = try await tracking.startRun(in: exp.id, name: "batched")
    let now = Timestamp(Date())
    let batches = (0..<(o.batched / o.batchSize)).map { b in
        (0..<o.batchSize).map { j in
            let i = b * o.batchSize + j
            return Metric(key: "m\(j % 10)", value: Double(i) * 0.001, step: Int64(i / 10), timestamp: now)
        }
    }
    let batchedSeconds = try await asyncSeconds {
        for batch in batches { try await tracking.logBatch(run2.id, metrics: batch) }
    }

    // 3. Search over searchRuns runs with a metric filter.
    let exp3 = try await tracking.ensureExperiment(named: "bench-search")
    struct LCG {
        var state: UInt64 = 42
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }
    let setupSeconds = try await asyncSeconds {
        var rng = LCG()
        for i in 0..<o.searchRuns {
            let r = Run(id: RunID.generate(), experimentID: exp3.id, name: "r\(i)", status: .finished,
                        startTime: Timestamp(millisecondsSince1970: now.millisecondsSince1970 + Int64(i)))
            try await store.createRun(r)
            try await store.logBatch(
                runID: r.id, params: [Param(key: "model", value: i % 2 == 0 ? "rf" : "lr")],
                metrics: [Metric(key: "accuracy", value: rng.next(), step: 0, timestamp: now)], tags: [])
        }
    }
    let query = RunQuery(
        experimentIDs: [exp3.id], filter: try RunFilter(parsing: "metrics.accuracy > 0.9"),
        orderBy: [RunOrder(field: .metric("accuracy"), ascending: false)], limit: o.searchLimit)
    var times: [Double] = []
    var matched = 0
    for _ in 0..<o.searchRepeats {
        times.append(try await asyncSeconds { matched = try await tracking.search(query).runs.count })
    }
    times.sort()
    let median = times[times.count / 2] * 1000

    let result: [String: Double] = [
        "single_metrics": Double(o.single),
        "single_seconds": singleSeconds,
        "single_per_second": Double(o.single) / singleSeconds,
        "batched_metrics": Double(o.batched),
        "batched_seconds": batchedSeconds,
        "batched_per_second": Double(o.batched) / batchedSeconds,
        "search_runs": Double(o.searchRuns),
        "search_setup_seconds": setupSeconds,
        "search_median_ms": median,
        "search_returned": Double(matched),
    ]
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    print(String(decoding: try enc.encode(result), as: UTF8.self))
}
