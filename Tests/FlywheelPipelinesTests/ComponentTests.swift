import FlywheelCore
import FlywheelData
import FlywheelLearn
@testable import FlywheelPipelines
import FlywheelRegistry
import FlywheelStore
import Foundation
import Testing

/// The built-in components on a real workspace layout (SQLite + file blobs).
struct IrisWorkspace {
    let root: URL
    let store: SQLiteMetadataStore
    let blobs: FileBlobStore
    var executor: PipelineExecutor { PipelineExecutor(store: store, blobs: blobs, workspaceRoot: root) }
    var registry: ModelRegistry { ModelRegistry(store: store, blobs: blobs) }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fw-iris-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
        store = try SQLiteMetadataStore(path: root.appendingPathComponent("flywheel.db").path)
        blobs = try FileBlobStore(root: root.appendingPathComponent("artifacts"))
        let fixture = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("iris.csv")
        try FileManager.default.copyItem(at: fixture, to: root.appendingPathComponent("data/iris.csv"))
    }

    func run(_ yaml: String, _ overrides: [String: String] = [:]) async throws -> Outcome {
        let (spec, problems) = PipelineChecker().check(text: yaml)
        let s = try #require(spec, "\(problems)")
        let events = EventLog()
        let run = try await executor.run(s, params: try PipelineParams.resolve(s, overrides: overrides), options: ExecutionOptions(),
                                         events: { events.add($0) })
        return Outcome(run: run, attempts: try await store.stepAttempts(pipelineRunID: run.id), events: events.all)
    }

    func json(_ d: Digest?) async throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: try await blobs.data(try #require(d)))
    }
}

@Suite struct ComponentTests {
    static let pipeline = """
        pipeline: iris
        params: {model: random_forest, depth: 8, margin: 0.0}
        steps:
          load:     {uses: data/load, with: {path: data/iris.csv}}
          split:    {uses: data/split, with: {data: "${{ steps.load.outputs.table }}", test_size: 0.3, stratify: target, seed: 7}}
          train:
            uses: learn/train
            with: {data: "${{ steps.split.outputs.train }}", target: target, model: "${{ params.model }}",
                   hyperparameters: {max_depth: "${{ params.depth }}", seed: 3}}
          evaluate: {uses: learn/evaluate, with: {model: "${{ steps.train.outputs.model }}", data: "${{ steps.split.outputs.test }}"}}
          gate:
            uses: gate
            with: {metrics: "${{ steps.evaluate.outputs.metrics }}", require: {accuracy: ">= 0.5"},
                   beat: {model: iris@production, metric: accuracy, margin: "${{ params.margin }}"}, data: "${{ steps.split.outputs.test }}"}
          register:
            if: "${{ steps.gate.outputs.passed }}"
            uses: registry/register
            with: {model: "${{ steps.train.outputs.model }}", name: iris, alias: staging}
          promote:
            uses: registry/promote
            with: {name: iris, alias: production, from_alias: staging}
            needs: register
        """

    @Test func trainEvaluateGateRegisterPromote() async throws {
        let ws = try IrisWorkspace()
        let first = try await ws.run(Self.pipeline)
        #expect(first.run.status == .succeeded, "\(first.attempts.map { ($0.step, $0.status, $0.message ?? "") })")
        // The evaluation equals scoring the trained bundle on the test rows directly.
        let modelDigest = try #require(first.last("train")?.outputs["model"]?.digest)
        let bundle = try ModelBundle.decode(try await ws.blobs.data(modelDigest))
        let testDigest = try #require(first.last("split")?.outputs["test"]?.digest)
        let test = try CSVReader().read(try await ws.blobs.data(testDigest))
        let direct = try Trainer.evaluate(bundle, on: test)
        let reported = try await ws.json(first.last("evaluate")?.outputs["metrics"]?.digest)
        #expect(reported["accuracy"] == .number(direct["accuracy"] ?? -1))
        #expect(test.rowCount == 45)
        // Stratified: every class keeps its share in the test rows.
        let target = try test.requireColumn("target")
        #expect(Dictionary(grouping: (0..<45).map { target.text($0) ?? "" }, by: { $0 }).mapValues(\.count) == ["setosa": 15, "versicolor": 15, "virginica": 15])
        // Registered as version 1 with its signature, then promoted.
        let v1 = try await ws.registry.resolve("iris@production")
        #expect(v1.version == 1 && v1.digest == modelDigest)
        #expect(v1.signature == bundle.signatureJSON)
        #expect(v1.runID == first.last("train")?.runID && v1.runID != nil)
        let edges = try await ws.store.lineage(of: .modelVersion("iris", 1), direction: .upstream)
        #expect(edges.contains { $0.source == ResourceRef(kind: .pipelineRun, id: first.run.id.rawValue) })
        let trainRun = try #require(v1.runID)
        #expect(edges.contains { $0.source == .run(trainRun) })
        // The training run holds the bundle and its params.
        let detail = try await TrackingService(store: ws.store, blobs: ws.blobs).detail(try #require(v1.runID))
        #expect(detail.data.params.contains { $0.key == "max_depth" && $0.value == "8" })
        #expect(detail.run.parentID == first.run.trackingRunID)

        // A weaker challenger (a stump) must not get past the gate: production scores higher on the same rows.
        let second = try await ws.run(Self.pipeline, ["model": "decision_tree", "depth": "1"])
        #expect(second.run.status == .succeeded)
        #expect(second.last("gate")?.outputs["passed"]?.value == .bool(false))
        #expect(second.last("register")?.status == .skipped)
        #expect(second.last("promote")?.status == .skipped)
        let report = try await ws.json(second.last("gate")?.outputs["report"]?.digest)
        guard case .array(let checks)? = report["checks"] else { Issue.record("no checks in \(report)"); return }
        let beat = checks.first { $0["check"].map { PipelineValue.value($0).text.hasPrefix("beats iris@production") } ?? false }
        #expect(beat?["passed"] == .bool(false))
        #expect(try await ws.registry.versions("iris").count == 1)

        // The same model again ties production: with margin 0 it passes, with a margin it does not.
        let tie = try await ws.run(Self.pipeline)
        #expect(tie.last("train")?.cacheHit == true)
        #expect(tie.last("gate")?.cacheHit == false)  // the gate reads the registry: never cached
        #expect(tie.last("gate")?.outputs["passed"]?.value == .bool(true))
        #expect(try await ws.registry.resolve("iris@production").version == 2)
        let strict = try await ws.run(Self.pipeline, ["margin": "0.01"])
        #expect(strict.last("gate")?.outputs["passed"]?.value == .bool(false))
    }

    @Test func validateFailsTheStepNamingTheColumn() async throws {
        let ws = try IrisWorkspace()
        try """
            columns:
              - {name: "sepal length (cm)", type: numeric, nullable: false, min: 4.5, max: 8}
              - {name: "sepal width (cm)", type: numeric, nullable: false}
              - {name: "petal length (cm)", type: numeric, nullable: false}
              - {name: "petal width (cm)", type: numeric, nullable: false}
              - {name: target, type: categorical, nullable: false, categories: [setosa, versicolor]}
            """.write(to: ws.root.appendingPathComponent("schema.yaml"), atomically: true, encoding: .utf8)
        let o = try await ws.run("""
            pipeline: v
            steps:
              load: {uses: data/load, with: {path: data/iris.csv}}
              check: {uses: data/validate, with: {data: "${{ steps.load.outputs.table }}", schema: schema.yaml}}
              lenient: {uses: data/validate, with: {data: "${{ steps.load.outputs.table }}", schema: schema.yaml, fail_on_anomaly: false}}
              profile: {uses: data/profile, with: {data: "${{ steps.load.outputs.table }}"}}
            """)
        let check = try #require(o.last("check"))
        #expect(check.status == .failed)
        #expect(check.message?.contains("sepal length (cm)") == true)
        #expect(check.message?.contains("virginica") == true)
        #expect(o.last("lenient")?.outputs["passed"]?.value == .bool(false))
        #expect(o.last("lenient")?.outputs["anomalies"]?.value == .number(2))
        let profile = try await ws.json(o.last("profile")?.outputs["profile"]?.digest)
        #expect(profile["rows"] == .number(150))
    }

    @Test func aMissingInputFileIsAClearFailure() async throws {
        let ws = try IrisWorkspace()
        let o = try await ws.run("pipeline: m\nsteps:\n  load: {uses: data/load, with: {path: data/nope.csv}}\n")
        #expect(o.last("load")?.status == .failed)
        #expect(o.last("load")?.message?.contains("no file 'data/nope.csv' in the workspace") == true)
    }

    @Test func batchPredictMatchesThePredictor() async throws {
        let ws = try IrisWorkspace()
        let o = try await ws.run("""
            pipeline: b
            steps:
              load: {uses: data/load, with: {path: data/iris.csv}}
              train: {uses: learn/train, with: {data: "${{ steps.load.outputs.table }}", target: target, model: logistic_regression}}
              predict: {uses: batch/predict, with: {model: "${{ steps.train.outputs.model }}", data: "${{ steps.load.outputs.table }}"}}
            """)
        #expect(o.last("predict")?.outputs["rows"]?.value == .number(150))
        let out = try CSVReader().read(try await ws.blobs.data(try #require(o.last("predict")?.outputs["predictions"]?.digest)))
        let bundle = try ModelBundle.decode(try await ws.blobs.data(try #require(o.last("train")?.outputs["model"]?.digest)))
        let table = try CSVReader().read(contentsOf: ws.root.appendingPathComponent("data/iris.csv"))
        let expected = try Predictor(bundle: bundle).predict(table: table).predictions.map(\.label)
        let got = try out.requireColumn("prediction")
        #expect((0..<150).map { got.text($0) } == expected)
    }
}
