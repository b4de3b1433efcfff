import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

/// Random runs and random filters: SQLite's translated SQL must return exactly what the
/// in-memory evaluator returns, in the same order. This catches any drift between the two.
@Suite struct SearchDifferentialTests {
    typealias RNG = SeededRandom

    static let metricKeys = ["acc", "loss", "val loss"]
    static let paramKeys = ["model", "opt"]
    static let values = ["rf", "lr", "Adam", "adam", "sgd_1", "x%y"]

    static func randomField(_ r: inout RNG) -> RunField {
        switch r.int(6) {
        case 0, 1: .metric(r.pick(metricKeys))
        case 2: .param(r.pick(paramKeys))
        case 3: .tag("stage")
        case 4: .label("team")
        default: .attribute(r.pick([.status, .runName, .startTime, .endTime, .experimentID]))
        }
    }

    static func randomComparison(_ r: inout RNG) -> RunFilter {
        let f = randomField(&r)
        if r.int(8) == 0 { return .missing(f) }
        if f.isNumeric {
            let op = r.pick([ComparisonOperator.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual])
            let v: Double = if case .attribute = f { Double(1000 + r.int(40)) } else { Double(r.int(11)) / 10 }
            return .compare(f, op, .number(v))
        }
        let pool: [String] = switch f {
        case .attribute(.status): RunStatus.allCases.map(\.rawValue)
        case .attribute(.runName): ["r1", "r2", "r13"]
        case .attribute(.experimentID): ["1", "2"]
        case .label: ["ml", "ops"]
        case .tag: ["prod", "dev"]
        default: values
        }
        if r.int(5) == 0 {
            return .membership(f, negated: r.int(2) == 0, (0..<(1 + r.int(3))).map { _ in .string(r.pick(pool)) })
        }
        let op = r.pick([ComparisonOperator.equal, .notEqual, .like, .ilike])
        var v = r.pick(pool)
        if op == .like || op == .ilike { v = r.pick(["a%", "A%", "%d%", "r_", "%", "sgd\\_1", "x%"]) }
        return .compare(f, op, .string(v))
    }

    static func randomFilter(_ r: inout RNG, depth: Int = 0) -> RunFilter {
        if depth >= 2 || r.int(3) == 0 { return randomComparison(&r) }
        switch r.int(3) {
        case 0: return .and(randomFilter(&r, depth: depth + 1), randomFilter(&r, depth: depth + 1))
        case 1: return .or(randomFilter(&r, depth: depth + 1), randomFilter(&r, depth: depth + 1))
        default: return .not(randomFilter(&r, depth: depth + 1))
        }
    }

    @Test func sqliteAgreesWithTheReferenceEvaluator() async throws {
        let memory = InMemoryMetadataStore()
        let sqlite = try SQLiteMetadataStore(path: TempDir.make().appendingPathComponent("db.sqlite").path)
        let stores: [any MetadataStore] = [memory, sqlite]
        var r = RNG(seed: 2024)
        for s in stores {
            _ = try await s.createExperiment(NewExperiment(name: "a"), at: ts(1))
            _ = try await s.createExperiment(NewExperiment(name: "b"), at: ts(1))
        }
        for i in 0..<60 {
            let labels: Labels = r.int(3) == 0 ? [:] : ["team": r.pick(["ml", "ops"])]
            let run = Run(
                id: RunID(String(format: "%032x", i * 7919)), experimentID: ExperimentID(String(1 + r.int(2))), name: "r\(i)",
                status: r.pick(RunStatus.allCases), startTime: ts(1000 + Int64(r.int(40))),
                endTime: r.int(2) == 0 ? nil : ts(1000 + Int64(r.int(40))), labels: labels)
            var metrics: [Metric] = []
            for k in Self.metricKeys where r.int(3) != 0 {
                let v: Double = r.int(15) == 0 ? .nan : Double(r.int(11)) / 10
                metrics.append(Metric(key: k, value: v, step: Int64(r.int(3)), timestamp: ts(Int64(r.int(5)))))
            }
            let params = Self.paramKeys.filter { _ in r.int(3) != 0 }.map { Param(key: $0, value: r.pick(Self.values)) }
            let tags = r.int(2) == 0 ? [Tag(key: "stage", value: r.pick(["prod", "dev"]))] : []
            for s in stores {
                try await s.createRun(run)
                try await s.logBatch(runID: run.id, params: params, metrics: metrics, tags: tags)
            }
        }
        var nonTrivial = 0
        for _ in 0..<300 {
            let filter = Self.randomFilter(&r)
            let order = (0..<r.int(3)).map { _ in RunOrder(field: Self.randomField(&r), ascending: r.int(2) == 0) }
            let q = RunQuery(experimentIDs: r.int(3) == 0 ? ["1"] : [], filter: filter, orderBy: order, limit: 100)
            let expected = try await memory.searchRuns(q).runs.map(\.run.name)
            let actual = try await sqlite.searchRuns(q).runs.map(\.run.name)
            #expect(actual == expected, "filter \(filter) order \(order)")
            if !expected.isEmpty && expected.count < 60 { nonTrivial += 1 }
            // Page by page too (a metric-first sort is read in two parts that a page can straddle).
            var paged = q
            paged.limit = 1 + r.int(9)
            var pages: [String] = []
            while true {
                let page = try await sqlite.searchRuns(paged)
                #expect(page.runs.map(\.run.name) == Array(expected.dropFirst(pages.count).prefix(paged.limit)), "page at \(pages.count) of \(filter) by \(order)")
                pages += page.runs.map(\.run.name)
                guard let next = page.nextPageToken, pages.count < 200 else { break }
                paged.pageToken = next
            }
            #expect(pages == expected)
        }
        // The generator must produce filters that actually discriminate.
        #expect(nonTrivial > 100)
    }
}

extension SeededRandom {
    /// A draw in `0..<n` by remainder (slightly biased; fine for generating test cases).
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
}
