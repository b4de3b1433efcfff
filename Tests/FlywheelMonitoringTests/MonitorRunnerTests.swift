import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelMonitoring
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

@Suite struct MonitorRunnerTests {
    static let skewSpec = """
        monitor: iris-skew
        deployment: iris
        window: 1h
        reference: training
        performance: {metric: accuracy, min: 0.9}
        """

    /// The per-feature scores a check stores are exactly those of a drift report computed
    /// directly from the model's stored profile and the same records.
    @Test func skewAgainstTheTrainingProfileMatchesADirectReport() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        // Half the data, so the window is a sample of the training distribution.
        let sample = iris.selecting(rows: Array(stride(from: 0, to: 150, by: 2)))
        try await f.log(sample, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30), feedback: true)
        let spec = try MonitorFixture.spec(Self.skewSpec)
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(spec, at: MonitorFixture.now)

        #expect(check.status == .ok && check.breachedRules.isEmpty)
        #expect(check.currentRows == 75 && check.referenceRows == 150 && check.reference == "training data of iris/1")
        let direct = DriftReport.compare(
            reference: bundle.profile, current: try sample.selecting(columns: MonitorFixture.features), columns: MonitorFixture.features,
            options: spec.driftOptions)
        let features = check.results.filter { $0.kind == "feature" }
        #expect(features.map(\.name) == MonitorFixture.features)
        for (r, d) in zip(features, direct.columns) {
            #expect(r.score == d.result?.score && r.method == d.result?.method.rawValue && r.breached == d.drifted)
        }
        #expect(check.results.first { $0.kind == "dataset" }?.score == direct.driftShare)
        // Accuracy from feedback: the logged answers against the true species.
        let (predictions, _) = try Predictor(bundle: bundle).predict(table: try sample.selecting(columns: MonitorFixture.features))
        guard case .categorical(let codes, let cats) = try #require(sample.column(named: "species")).storage else { Issue.record("species"); return }
        let right = zip(predictions, codes).filter { $0.0.label == cats[Int($0.1)] }.count
        let perf = try #require(check.results.first { $0.kind == "performance" })
        #expect(perf.score == Double(right) / 75 && perf.detail == "75 labelled predictions" && !perf.breached)
        // The answers' labels against the training target's class frequencies.
        let label = try #require(check.results.first { $0.kind == "prediction" && $0.name == "label" })
        #expect(label.method == "chisquare" && label.status == "ok")
        // Stored: reading the monitor's checks back gives the same check.
        #expect(try await f.store.monitorChecks(monitor: "iris-skew", since: nil, limit: 5) == [check])
    }

    @Test func shiftedTrafficAndWrongAnswersBreach() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        // Petals grow by about one standard deviation; sepals stay.
        let shifted = try MonitorFixture.shifted(iris, ["petal_length": 1.8, "petal_width": 0.8])
        try await f.log(shifted, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30), feedback: true, wrongLabels: true)
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(try MonitorFixture.spec(Self.skewSpec), at: MonitorFixture.now)

        #expect(check.status == .breached)
        #expect(check.breachedRules == ["feature_drift", "prediction_drift", "performance"])
        let drifted = Set(check.results.filter { $0.kind == "feature" && $0.breached }.map(\.name))
        #expect(drifted == ["petal_length", "petal_width"])
        #expect(check.results.first { $0.kind == "dataset" }?.score == 0.5)
        // Every feedback label disagrees with its answer.
        #expect(check.results.first { $0.kind == "performance" }?.score == 0)
    }

    @Test func driftAgainstAnEarlierWindow() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        let spec = try MonitorFixture.spec("""
            monitor: iris-window
            deployment: iris
            window: 1h
            reference: {window: 1h, offset: 1h}
            """)
        // The hour before: the training distribution. This hour: the same, then (in another store) shifted.
        try await f.log(iris, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(90))
        try await f.log(iris, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30))
        let same = try await MonitorRunner(store: f.store, blobs: f.blobs).check(spec, at: MonitorFixture.now)
        #expect(same.status == .ok && same.referenceRows == 150 && same.currentRows == 150)
        #expect(same.results.filter { $0.kind == "feature" }.allSatisfy { !$0.breached })

        let g = MonitorFixture()
        let (v2, b2) = try await g.register()
        try await g.log(iris, bundle: b2, version: v2, start: MonitorFixture.minutesBefore(90))
        let shifted = try MonitorFixture.shifted(iris, ["sepal_length": 1.5, "sepal_width": 0.8, "petal_length": 3])
        try await g.log(shifted, bundle: b2, version: v2, start: MonitorFixture.minutesBefore(30))
        let moved = try await MonitorRunner(store: g.store, blobs: g.blobs).check(spec, at: MonitorFixture.now)
        #expect(moved.status == .breached && moved.breachedRules.contains("feature_drift"))
        // Equal to a report on the two windows' tables.
        let direct = DriftReport.compare(
            reference: try iris.selecting(columns: MonitorFixture.features), current: try shifted.selecting(columns: MonitorFixture.features),
            columns: MonitorFixture.features.sorted(), options: spec.driftOptions)
        let features = moved.results.filter { $0.kind == "feature" }
        #expect(features.map(\.name) == MonitorFixture.features.sorted())
        #expect(features.map(\.score) == direct.columns.map { $0.result?.score })
        // The answers drift too: petals three centimetres longer turn setosas into virginicas.
        #expect(moved.results.contains { $0.kind == "prediction" && $0.name == "label" && $0.breached })
        #expect(moved.results.contains { $0.kind == "prediction" && $0.name == "confidence" })
    }

    @Test func tooFewRowsIsInsufficientDataNotAPass() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        try await f.log(iris.selecting(rows: Array(0..<10)), bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30))
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(try MonitorFixture.spec(Self.skewSpec), at: MonitorFixture.now)
        #expect(check.status == .insufficientData && check.results.isEmpty && check.currentRows == 10)
        #expect(check.message.contains("10 logged predictions") && check.message.contains("min_rows"))
        // Labels below min_labels: a performance result with no score, not a breach.
        try await f.log(iris, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(20))
        let spec = try MonitorFixture.spec(Self.skewSpec + "\nmin_rows: 5\n")
        let second = try await MonitorRunner(store: f.store, blobs: f.blobs).check(spec, at: MonitorFixture.now)
        let perf = try #require(second.results.first { $0.kind == "performance" })
        #expect(perf.score == nil && perf.status == "insufficient data" && !perf.breached)
    }

    @Test func aFieldOfTheWrongTypeGetsAStatus() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        var records = try await f.log(iris, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(50))
        // A client that sends petal_width as text, and never sends sepal_width.
        for i in records.indices {
            records[i].requestID += "-text"
            records[i].time = MonitorFixture.minutesBefore(20)
            records[i].features["petal_width"] = .string("wide")
            records[i].features["sepal_width"] = nil
        }
        let spec = try MonitorFixture.spec("monitor: t\ndeployment: iris\nwindow: 30m\n")
        try await f.store.appendPredictions(records)
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(spec, at: MonitorFixture.now)
        let byName = Dictionary(uniqueKeysWithValues: check.results.filter { $0.kind == "feature" }.map { ($0.name, $0) })
        #expect(byName["petal_width"]?.status == "type mismatch" && byName["petal_width"]?.score == nil)
        #expect(byName["sepal_width"]?.status == "insufficient data")
        #expect(byName["petal_length"]?.status == "ok")
    }

    @Test func aVersionMissingFromTheRegistryFailsTheCheckWithAReason() async throws {
        let f = MonitorFixture()
        let (_, bundle) = try await f.register()
        try await f.log(try MonitorFixture.iris(), bundle: bundle, version: 7, start: MonitorFixture.minutesBefore(30))
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(try MonitorFixture.spec(Self.skewSpec), at: MonitorFixture.now)
        #expect(check.status == .failed && check.message.contains("iris/7"))
    }

    @Test func regressionAnswersOutsideTheTrainingRangeBreach() async throws {
        let f = MonitorFixture()
        let iris = try MonitorFixture.iris().selecting(columns: MonitorFixture.features)
        let (version, bundle) = try await f.register("width", model: "linear_regression", params: [:], table: iris, target: "petal_width")
        // Twice as long petals: a linear model answers widths it never saw.
        let big = try MonitorFixture.shifted(iris, ["petal_length": 6])
        try await f.log(big, bundle: bundle, model: "width", version: version, deployment: "width", start: MonitorFixture.minutesBefore(30))
        let spec = try MonitorFixture.spec("monitor: w\ndeployment: width\nwindow: 1h\n")
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(spec, at: MonitorFixture.now)
        let (answers, _) = try Predictor(bundle: bundle).predict(table: try big.selecting(columns: bundle.signature.map(\.name)))
        let summary = try #require(bundle.profile.column(named: "petal_width")?.numeric)
        let outside = answers.compactMap(\.value).filter { $0 < summary.min || $0 > summary.max }.count
        let share = try #require(check.results.first { $0.name == "out_of_range" })
        #expect(share.score == Double(outside) / 150 && outside > 0 && share.breached)
        #expect(check.results.contains { $0.kind == "prediction" && $0.name == "value" && $0.breached })
        #expect(check.breachedRules.contains("prediction_drift"))
    }

    @Test func aQueryMonitorComparesItsValueWithItsBound() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let f = MonitorFixture(store: try SQLiteMetadataStore(path: dir.appendingPathComponent("flywheel.db").path))
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        try await f.log(iris, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30), feedback: true)
        let yaml = """
            monitor: accuracy-query
            window: 1h
            query:
              sql: >
                SELECT avg(json_extract(p.output, '$.label') = json_extract(f.label, '$')) AS value
                FROM predictions p JOIN feedback f USING (request_id, idx) WHERE p.time >= :since AND p.time < :until
              below: BOUND
            """
        let runner = MonitorRunner(store: f.store, blobs: f.blobs)
        let (predictions, _) = try Predictor(bundle: bundle).predict(table: try iris.selecting(columns: MonitorFixture.features))
        guard case .categorical(let codes, let cats) = try #require(iris.column(named: "species")).storage else { return }
        let accuracy = Double(zip(predictions, codes).filter { $0.0.label == cats[Int($0.1)] }.count) / 150
        let ok = try await runner.check(try MonitorFixture.spec(yaml.replacingOccurrences(of: "BOUND", with: "0.5")), at: MonitorFixture.now)
        #expect(ok.status == .ok && ok.results.first?.score.map { abs($0 - accuracy) < 1e-12 } == true)
        let strict = try await runner.check(try MonitorFixture.spec(yaml.replacingOccurrences(of: "BOUND", with: "1.01")), at: MonitorFixture.now)
        #expect(strict.status == .breached && strict.breachedRules == ["query"])
        // A window with no rows: the average is null, which is no data rather than a pass.
        let empty = try await runner.check(try MonitorFixture.spec(yaml.replacingOccurrences(of: "BOUND", with: "0.5")), at: MonitorFixture.minutesBefore(120))
        #expect(empty.status == .insufficientData && empty.results.first?.status == "insufficient data")
        // A query that fails is recorded as a failed check naming the cause.
        let broken = try await runner.check(try MonitorFixture.spec("monitor: b\nquery: {sql: SELECT nope FROM nowhere, below: 1}\n"), at: MonitorFixture.now)
        #expect(broken.status == .failed && broken.message.contains("nowhere"))
    }

    @Test func aSampleRateReadsAFixedSubset() async throws {
        let f = MonitorFixture()
        let (version, bundle) = try await f.register()
        let iris = try MonitorFixture.iris()
        let logged = try await f.log(iris, bundle: bundle, version: version, start: MonitorFixture.minutesBefore(30))
        let spec = try MonitorFixture.spec("monitor: s\ndeployment: iris\nwindow: 1h\nsample_rate: 0.5\nmin_rows: 10\n")
        let runner = MonitorRunner(store: f.store, blobs: f.blobs)
        let a = try await runner.check(spec, at: MonitorFixture.now), b = try await runner.check(spec, at: MonitorFixture.now)
        let kept = logged.indices.filter { PredictionWindow.sampled(logged[$0], rate: 0.5) }
        #expect(a.currentRows == kept.count && kept.count > 50 && kept.count < 100)
        #expect(a.results == b.results)
        // The scores are those of the sampled rows.
        let direct = DriftReport.compare(
            reference: bundle.profile, current: try iris.selecting(rows: kept).selecting(columns: MonitorFixture.features),
            columns: MonitorFixture.features, options: spec.driftOptions)
        #expect(a.results.filter { $0.kind == "feature" }.map(\.score) == direct.columns.map { $0.result?.score })
    }

    @Test func aBinaryModelsPositiveRateIsReported() async throws {
        let f = MonitorFixture()
        let iris = try MonitorFixture.iris()
        guard case .categorical(let codes, let cats) = try #require(iris.column(named: "species")).storage else { return }
        let binary = try Table(columns: try iris.selecting(columns: MonitorFixture.features).columns + [
            .categorical("is_setosa", codes.map { cats[Int($0)] == "setosa" ? "yes" : "no" })
        ])
        let (version, bundle) = try await f.register("setosa", table: binary, target: "is_setosa")
        // Only versicolor and virginica come in: the positive rate falls from 1/3 to 0.
        try await f.log(binary.selecting(rows: Array(50..<150)), bundle: bundle, model: "setosa", version: version, deployment: "setosa", start: MonitorFixture.minutesBefore(30))
        let check = try await MonitorRunner(store: f.store, blobs: f.blobs).check(try MonitorFixture.spec("monitor: b\ndeployment: setosa\nwindow: 1h\n"), at: MonitorFixture.now)
        let label = try #require(check.results.first { $0.kind == "prediction" && $0.name == "label" })
        #expect(label.method == "z" && label.breached)
        #expect(label.detail == "positive rate (yes): 0 now, 0.3333 in the reference")
    }
}
