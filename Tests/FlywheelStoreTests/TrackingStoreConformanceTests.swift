import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

/// The tracking area (``TrackingStore``: experiments, runs, search, artifacts), every backend.
@Suite struct TrackingStoreConformanceTests {
    // MARK: Experiments

    @Test(arguments: Backend.allCases)
    func experimentsHaveUniqueNamesAndSequentialIDs(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let a = try await s.createExperiment(NewExperiment(name: "iris", labels: ["team": "ml"]), at: ts(1))
        let c = try await s.createExperiment(NewExperiment(name: "wine"), at: ts(2))
        #expect(a.id == "1")
        #expect(c.id == "2")
        let dup = await #expect(throws: FlywheelError.self) { try await s.createExperiment(NewExperiment(name: "iris"), at: ts(3)) }
        #expect(dup?.code == .alreadyExists)
        #expect(dup?.message.contains("'iris'") == true)
        #expect(try await s.experiment(named: "iris") == a)
        #expect(try await s.experiment(id: "2") == c)
        #expect(try await s.experiment(id: "99") == nil)
        #expect(try await s.experiment(id: "not-a-number") == nil)
        let bad = await #expect(throws: FlywheelError.self) { try await s.createExperiment(NewExperiment(name: " padded"), at: ts(3)) }
        #expect(bad?.code == .invalidArgument)
    }

    @Test(arguments: Backend.allCases)
    func aPageReadsOnlyTheValuesAskedForAndListsKeysCutByTheDatabase(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let exp = try await s.createExperiment(NewExperiment(name: "wide"), at: ts(1))
        var ids: [RunID] = []
        for i in 0..<3 {
            let id = try await makeRun(s, exp: exp.id, name: "r\(i)", start: 1000 + Int64(i))
            ids.append(id)
            // Each run: 40 metrics of its own (k<i>_<j>) and a shared one; params and tags alike.
            let metrics = (0..<40).map { Metric(key: "k\(i)_\(String(format: "%02d", $0))", value: Double($0), timestamp: ts(1)) } + [Metric(key: "Loss", value: Double(i), timestamp: ts(1))]
            try await s.logBatch(
                runID: id, params: [Param(key: "lr", value: "0.\(i)"), Param(key: "P\(i)", value: "x")], metrics: metrics,
                tags: [Tag(key: "team", value: "ml"), Tag(key: "mlflow.user", value: "ana")])
        }
        // Only the asked keys come back, from search and from runData(ids:only:).
        var q = RunQuery(experimentIDs: [exp.id], orderBy: [RunOrder(field: .metric("Loss"), ascending: true)])
        q.only = RunFields(metrics: ["Loss", "missing"], params: ["lr"])
        let page = try await s.searchRuns(q)
        #expect(page.runs.map(\.run.id) == ids)
        for (i, d) in page.runs.enumerated() {
            #expect(Array(d.data.latestMetrics.keys) == ["Loss"] && d.data.latestMetrics["Loss"]?.value == Double(i))
            #expect(d.data.params == ["lr": "0.\(i)"] && d.data.tags.isEmpty)
        }
        q.only = RunFields()
        #expect(try await s.searchRuns(q).runs.allSatisfy { $0.data == RunData() })
        let data = try await s.runData(ids: ids + [RunID(rawValue: "ghost")], only: RunFields(tags: ["team"]))
        #expect(Set(data.keys) == Set(ids) && data.values.allSatisfy { $0.tags == ["team": "ml"] && $0.latestMetrics.isEmpty })
        #expect(try await s.runData(ids: [ids[1]], only: nil)[ids[1]]?.latestMetrics.count == 41)
        // Keys: each kind sorted (byte order), cut at the limit, counted in all.
        let keys = try await s.runKeys(ids: ids, containing: nil, limit: 5)
        #expect(keys.metricCount == 121 && keys.paramCount == 4 && keys.tagCount == 2)
        #expect(keys.keys.metrics == ["Loss", "k0_00", "k0_01", "k0_02", "k0_03"])
        #expect(keys.keys.params == ["P0", "P1", "P2", "lr"] && keys.keys.tags == ["mlflow.user", "team"])
        // A search ignores ASCII case and counts only what matches.
        let narrowed = try await s.runKeys(ids: [ids[2], ids[0]], containing: "K2_1", limit: 3)
        #expect(narrowed.keys.metrics == ["k2_10", "k2_11", "k2_12"] && narrowed.metricCount == 10)
        #expect(narrowed.keys.params.isEmpty && narrowed.paramCount == 0)
        #expect(try await s.runKeys(ids: [], containing: nil, limit: 5) == RunKeys())
    }

    @Test(arguments: Backend.allCases)
    func activityCountsActiveRunsAndTheLatestStart(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let a = try await s.createExperiment(NewExperiment(name: "a"), at: ts(1))
        let c = try await s.createExperiment(NewExperiment(name: "c"), at: ts(1))
        _ = try await s.createExperiment(NewExperiment(name: "empty"), at: ts(1))
        _ = try await makeRun(s, exp: a.id, start: 10)
        _ = try await makeRun(s, exp: a.id, start: 30)
        let gone = try await makeRun(s, exp: a.id, start: 50)
        try await s.setRunDeleted(id: gone, at: ts(60))
        _ = try await makeRun(s, exp: c.id, start: 20)
        let activity = try await s.experimentActivity()
        #expect(activity.count == 2)
        #expect(activity[a.id] == ExperimentActivity(runs: 2, lastActivity: ts(30)))
        #expect(activity[c.id] == ExperimentActivity(runs: 1, lastActivity: ts(20)))
    }

    @Test(arguments: Backend.allCases)
    func archiveHidesFromListsAndRenameChecksUniqueness(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        var a = try await s.createExperiment(NewExperiment(name: "a"), at: ts(1))
        _ = try await s.createExperiment(NewExperiment(name: "b"), at: ts(1))
        a.archived = true
        a.updatedAt = ts(5)
        try await s.updateExperiment(a)
        #expect(try await s.listExperiments(includeArchived: false).map(\.name) == ["b"])
        #expect(try await s.listExperiments(includeArchived: true).map(\.name) == ["a", "b"])
        #expect(try await s.experiment(id: a.id)?.archived == true)
        a.name = "b"
        let e = await #expect(throws: FlywheelError.self) { try await s.updateExperiment(a) }
        #expect(e?.code == .alreadyExists)
        var ghost = a
        ghost.id = "42"
        ghost.name = "ghost"
        #expect(await #expect(throws: FlywheelError.self) { try await s.updateExperiment(ghost) }?.code == .notFound)
    }

    // MARK: Runs

    @Test(arguments: Backend.allCases)
    func runsRoundTripWithEnvironment(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let digest = Digest(of: Array("data".utf8))
        let env = RunEnvironment(
            gitCommit: "abc123", gitDirty: true, gitBranch: "main", commandLine: ["train", "--lr", "0.1"],
            workingDirectory: "/w", host: "h", os: "Linux", swiftVersion: "6.3", flywheelVersion: "0.1.0", user: "ana",
            seed: 42, inputs: [RunInput(path: "/w/data.csv", digest: digest, size: 4)])
        let run = Run(id: .generate(), experimentID: e.id, name: "first", startTime: ts(10), labels: ["team": "ml"], environment: env)
        try await s.createRun(run)
        #expect(try await s.run(id: run.id) == run)
        let child = Run(id: .generate(), experimentID: e.id, name: "child", startTime: ts(11), parentID: run.id)
        try await s.createRun(child)
        #expect(try await s.run(id: child.id)?.parentID == run.id)

        try await s.updateRun(id: run.id, status: .finished, endTime: ts(20), name: nil)
        let done = try #require(try await s.run(id: run.id))
        #expect(done.status == .finished)
        #expect(done.endTime == ts(20))
        #expect(done.name == "first")
        try await s.updateRun(id: run.id, status: .failed, endTime: ts(21), name: "renamed")
        #expect(try await s.run(id: run.id)?.name == "renamed")

        #expect(await #expect(throws: FlywheelError.self) { try await s.createRun(run) }?.code == .alreadyExists)
        let orphan = Run(id: .generate(), experimentID: "77", name: "o", startTime: ts(1))
        #expect(await #expect(throws: FlywheelError.self) { try await s.createRun(orphan) }?.code == .notFound)
        let lost = Run(id: .generate(), experimentID: e.id, name: "o", startTime: ts(1), parentID: .generate())
        #expect(await #expect(throws: FlywheelError.self) { try await s.createRun(lost) }?.code == .notFound)
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.updateRun(id: .generate(), status: .finished, endTime: nil, name: nil)
        }?.code == .notFound)
    }

    @Test(arguments: Backend.allCases)
    func paramsAreWriteOnceAndBatchesAreAtomic(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let r = try await makeRun(s, exp: e.id)
        try await s.logBatch(runID: r, params: [Param(key: "lr", value: "0.1")], metrics: [], tags: [])
        // The same value again is fine.
        try await s.logBatch(runID: r, params: [Param(key: "lr", value: "0.1")], metrics: [], tags: [])
        // Another value is a conflict naming both values, and nothing of that batch is written.
        let err = await #expect(throws: FlywheelError.self) {
            try await s.logBatch(
                runID: r, params: [Param(key: "depth", value: "3"), Param(key: "lr", value: "0.2")],
                metrics: [Metric(key: "acc", value: 0.5, timestamp: ts(2))], tags: [Tag(key: "t", value: "v")])
        }
        #expect(err?.code == .conflict)
        #expect(err?.message.contains("'0.1'") == true && err?.message.contains("'0.2'") == true)
        let data = try await s.runData(id: r)
        #expect(data.params == ["lr": "0.1"])
        #expect(data.latestMetrics.isEmpty)
        #expect(data.tags.isEmpty)
        #expect(try await s.metricHistory(runID: r, key: "acc").isEmpty)
        // Two different values for one key inside a batch conflict too.
        let inBatch = await #expect(throws: FlywheelError.self) {
            try await s.logBatch(runID: r, params: [Param(key: "k", value: "1"), Param(key: "k", value: "2")], metrics: [], tags: [])
        }
        #expect(inBatch?.code == .conflict)
        #expect(try await s.runData(id: r).params["k"] == nil)
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.logBatch(runID: .generate(), params: [], metrics: [Metric(key: "a", value: 1, timestamp: ts(1))], tags: [])
        }?.code == .notFound)
    }

    @Test(arguments: Backend.allCases)
    func metricsKeepHistoryAndLatestFollowsStepThenTime(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let r = try await makeRun(s, exp: e.id)
        try await s.logBatch(runID: r, params: [], metrics: [
            Metric(key: "loss", value: 0.9, step: 1, timestamp: ts(100)),
            Metric(key: "loss", value: 0.5, step: 3, timestamp: ts(300)),
            Metric(key: "loss", value: 0.7, step: 2, timestamp: ts(400)),
        ], tags: [])
        // An older step logged later does not become the latest.
        try await s.logBatch(runID: r, params: [], metrics: [Metric(key: "loss", value: 0.8, step: 2, timestamp: ts(500))], tags: [])
        #expect(try await s.runData(id: r).latestMetrics["loss"] == Metric(key: "loss", value: 0.5, step: 3, timestamp: ts(300)))
        // Same step, later timestamp wins.
        try await s.logBatch(runID: r, params: [], metrics: [Metric(key: "loss", value: 0.4, step: 3, timestamp: ts(600))], tags: [])
        #expect(try await s.runData(id: r).latestMetrics["loss"]?.value == 0.4)
        let h = try await s.metricHistory(runID: r, key: "loss")
        #expect(h.map(\.step) == [1, 2, 2, 3, 3])
        #expect(h.map(\.value) == [0.9, 0.7, 0.8, 0.5, 0.4])
        // NaN and infinities survive a round trip.
        try await s.logBatch(runID: r, params: [], metrics: [
            Metric(key: "odd", value: .nan, step: 0, timestamp: ts(1)),
            Metric(key: "odd", value: .infinity, step: 1, timestamp: ts(1)),
            Metric(key: "odd", value: -.infinity, step: 2, timestamp: ts(1)),
        ], tags: [])
        let odd = try await s.metricHistory(runID: r, key: "odd")
        #expect(odd[0].value.isNaN)
        #expect(odd[1].value == .infinity)
        #expect(odd[2].value == -.infinity)
    }

    @Test(arguments: Backend.allCases)
    func tagsUpsertAndDelete(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let r = try await makeRun(s, exp: e.id)
        try await s.logBatch(runID: r, params: [], metrics: [], tags: [Tag(key: "note", value: "a"), Tag(key: "keep", value: "k")])
        try await s.logBatch(runID: r, params: [], metrics: [], tags: [Tag(key: "note", value: "b")])
        #expect(try await s.runData(id: r).tags == ["note": "b", "keep": "k"])
        try await s.deleteTag(runID: r, key: "note")
        #expect(try await s.runData(id: r).tags == ["keep": "k"])
        #expect(await #expect(throws: FlywheelError.self) { try await s.deleteTag(runID: r, key: "note") }?.code == .notFound)
    }

    // MARK: Search

    @Test(arguments: Backend.allCases)
    func defaultOrderPagesByKeysetSoNewRunsDoNotShiftThem(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let exp = try await s.createExperiment(NewExperiment(name: "k"), at: ts(1))
        var ids: [RunID] = []
        // Ten runs, two of them started at the same instant (the id breaks the tie).
        for i in 0..<10 { ids.append(try await makeRun(s, exp: exp.id, name: "r\(i)", start: 1000 + Int64(i == 9 ? 8 : i))) }
        let expected = try await s.searchRuns(RunQuery(experimentIDs: [exp.id], limit: 100)).runs.map(\.run.id)
        #expect(expected.count == 10)
        let first = try await s.searchRuns(RunQuery(experimentIDs: [exp.id], limit: 4))
        let token = try #require(first.nextPageToken)
        #expect(token.hasPrefix("k"))
        // Runs started meanwhile (newer, so ahead of the first page) do not push rows onto the next.
        _ = try await makeRun(s, exp: exp.id, name: "late", start: 5000)
        var seen = first.runs.map(\.run.id)
        var next: String? = token
        while let t = next {
            let page = try await s.searchRuns(RunQuery(experimentIDs: [exp.id], limit: 4, pageToken: t))
            seen += page.runs.map(\.run.id)
            next = page.nextPageToken
        }
        #expect(seen == expected)
        // An ordered search keeps offset tokens; a keyset token does not fit it.
        let ordered = try await s.searchRuns(RunQuery(experimentIDs: [exp.id], orderBy: [RunOrder(field: .attribute(.runName), ascending: true)], limit: 4))
        #expect(ordered.nextPageToken == "o4")
        let misfit = await #expect(throws: FlywheelError.self) {
            try await s.searchRuns(RunQuery(experimentIDs: [exp.id], orderBy: [RunOrder(field: .attribute(.runName), ascending: true)], pageToken: token))
        }
        #expect(misfit?.code == .invalidArgument)
        #expect(await #expect(throws: FlywheelError.self) { try await s.searchRuns(RunQuery(pageToken: "k12.")) }?.code == .invalidArgument)
    }

    @Test(arguments: Backend.allCases)
    func searchFiltersOrdersAndPages(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e1 = try await s.createExperiment(NewExperiment(name: "one"), at: ts(1))
        let e2 = try await s.createExperiment(NewExperiment(name: "two"), at: ts(1))
        var ids: [RunID] = []
        for i in 0..<25 {
            let id = try await makeRun(s, exp: i < 20 ? e1.id : e2.id, name: "run-\(i)", start: 1000 + Int64(i),
                                       labels: i % 2 == 0 ? ["team": "ml"] : ["team": "ops"])
            var metrics = [Metric(key: "accuracy", value: Double(i) / 25, timestamp: ts(1))]
            if i % 5 == 0 { metrics = [] }  // some runs lack the metric
            try await s.logBatch(runID: id, params: [Param(key: "model", value: i % 3 == 0 ? "rf" : "lr")], metrics: metrics, tags: [])
            ids.append(id)
        }
        // The issue's example filter.
        let q = RunQuery(
            experimentIDs: [e1.id], filter: try RunFilter(parsing: "metrics.accuracy > 0.3 and params.model = 'rf' and labels.team = 'ml'"),
            orderBy: [RunOrder(field: .metric("accuracy"), ascending: false)])
        let got = try await s.searchRuns(q).runs.map(\.run.name)
        // i in 0..<20, i/25 > 0.3 → i ≥ 8, i%3==0, i even, has metric (i%5 != 0): 12, 18
        #expect(got == ["run-18", "run-12"])

        // Runs lacking the ordering metric come last, then newest first.
        let ordered = try await s.searchRuns(RunQuery(orderBy: [RunOrder(field: .metric("accuracy"), ascending: true)], limit: 50))
        #expect(ordered.runs.count == 25)
        #expect(ordered.runs.first?.run.name == "run-1")
        #expect(ordered.runs.suffix(5).map(\.run.name) == ["run-20", "run-15", "run-10", "run-5", "run-0"])

        // Paging visits every run exactly once.
        var seen: [RunID] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await s.searchRuns(RunQuery(limit: 7, pageToken: token))
            seen += page.runs.map(\.run.id)
            token = page.nextPageToken
            pages += 1
        } while token != nil && pages < 10
        #expect(pages == 4)
        #expect(Set(seen) == Set(ids))
        #expect(seen.count == 25)

        #expect(await #expect(throws: FlywheelError.self) { try await s.searchRuns(RunQuery(pageToken: "garbage")) }?.code == .invalidArgument)
        #expect(await #expect(throws: FlywheelError.self) { try await s.searchRuns(RunQuery(limit: 0)) }?.code == .invalidArgument)
        // Search results carry run data.
        let one = try await s.searchRuns(RunQuery(filter: try RunFilter(parsing: "attributes.run_name = 'run-3'")))
        #expect(one.runs.map(\.data.params) == [["model": "rf"]])
        #expect(one.runs.first?.data.latestMetrics["accuracy"]?.value == 3.0 / 25)
    }

    // MARK: Artifacts

    @Test(arguments: Backend.allCases)
    func artifactsReplaceByPathAndListByPrefix(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let r = try await makeRun(s, exp: e.id)
        let d1 = Digest(of: Array("1".utf8)), d2 = Digest(of: Array("2".utf8))
        try await s.recordArtifacts([
            ArtifactRecord(runID: r, path: "model/weights.json", digest: d1, size: 1, createdAt: ts(1)),
            ArtifactRecord(runID: r, path: "model/meta/info.txt", digest: d1, size: 1, createdAt: ts(1)),
            ArtifactRecord(runID: r, path: "models.txt", digest: d2, size: 1, createdAt: ts(1)),
            ArtifactRecord(runID: r, path: "report.html", digest: d2, size: 1, createdAt: ts(1)),
        ])
        try await s.recordArtifacts([ArtifactRecord(runID: r, path: "report.html", digest: d1, size: 7, createdAt: ts(2))])
        let all = try await s.artifacts(runID: r, prefix: nil)
        #expect(all.map(\.path) == ["model/meta/info.txt", "model/weights.json", "models.txt", "report.html"])
        #expect(all.last?.digest == d1)
        #expect(all.last?.size == 7)
        #expect(try await s.artifacts(runID: r, prefix: "model").map(\.path) == ["model/meta/info.txt", "model/weights.json"])
        #expect(try await s.artifacts(runID: r, prefix: "report.html").map(\.path) == ["report.html"])
        // A folder named beyond ASCII lists its files too (SQLite counts characters, not bytes).
        try await s.recordArtifacts([ArtifactRecord(runID: r, path: "données/été.csv", digest: d2, size: 1, createdAt: ts(3))])
        #expect(try await s.artifacts(runID: r, prefix: "données").map(\.path) == ["données/été.csv"])
        let bad = await #expect(throws: FlywheelError.self) {
            try await s.recordArtifacts([ArtifactRecord(runID: r, path: "../escape", digest: d1, size: 1, createdAt: ts(1))])
        }
        #expect(bad?.code == .invalidArgument)
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.recordArtifacts([ArtifactRecord(runID: .generate(), path: "a", digest: d1, size: 1, createdAt: ts(1))])
        }?.code == .notFound)
    }
}

extension TrackingStoreConformanceTests {
    /// Logging the very same measurement twice (a retried call) keeps one; any difference keeps both.
    @Test(arguments: Backend.allCases)
    func identicalMeasurementsAreKeptOnce(_ b: Backend) async throws {
        let s: any TrackingStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let r = try await makeRun(s, exp: e.id)
        let m = Metric(key: "acc", value: 0.5, step: 1, timestamp: ts(10))
        try await s.logBatch(runID: r, params: [], metrics: [m, m], tags: [])
        try await s.logBatch(runID: r, params: [], metrics: [m], tags: [])
        let nan = Metric(key: "acc", value: .nan, step: 1, timestamp: ts(10))
        try await s.logBatch(runID: r, params: [], metrics: [
            nan, nan, Metric(key: "acc", value: 0.5, step: 1, timestamp: ts(11)), Metric(key: "acc", value: 0.25, step: 1, timestamp: ts(10)),
        ], tags: [])
        let h = try await s.metricHistory(runID: r, key: "acc")
        #expect(h.count == 4)
        #expect(h.map(\.timestamp) == [ts(10), ts(10), ts(10), ts(11)])
        // Within one step and timestamp the order is by value, NaN where 0 would be.
        #expect(h[0].value.isNaN && h[1].value == 0.25 && h[2].value == 0.5 && h[3].value == 0.5)
    }
}
