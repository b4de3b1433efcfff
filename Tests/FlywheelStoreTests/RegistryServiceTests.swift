import FlywheelCore
import FlywheelRegistry
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

@Suite struct RegistryServiceTests {
    @Test(arguments: [
        ("models:/iris/3", "iris", ModelURI.Selector.version(3)),
        ("models:/iris@production", "iris", .alias("production")),
        ("iris@staging", "iris", .alias("staging")),
        ("models:/fraud.v2/latest", "fraud.v2", .latest),
    ])
    func parsesModelURIs(_ text: String, _ name: String, _ selector: ModelURI.Selector) throws {
        let u = try ModelURI(parsing: text)
        #expect(u.name == name)
        #expect(u.selector == selector)
    }

    @Test(arguments: ["models:/iris", "models:/iris/0", "models:/iris/x", "models:/@prod", "iris@"])
    func rejectsBadModelURIs(_ text: String) {
        let e = #expect(throws: FlywheelError.self) { try ModelURI(parsing: text) }
        #expect(e?.message.contains("models:/NAME/VERSION") == true)
    }

    @Test(arguments: Backend.allCases)
    func trackingToRegistryToLineage(_ b: Backend) async throws {
        let store = try b.make()
        let blobs = InMemoryBlobStore()
        let tracking = TrackingService(store: store, blobs: blobs)
        let registry = ModelRegistry(store: store, blobs: blobs)
        let lineage = LineageService(store: store, registry: registry)

        let dir = try TempDir.make()
        let csv = dir.appendingPathComponent("train.csv")
        try Data("a,b\n1,2\n".utf8).write(to: csv)
        let exp = try await tracking.ensureExperiment(named: "iris")
        #expect(try await tracking.ensureExperiment(named: "iris").id == exp.id)
        let run = try await tracking.startRun(in: exp.id, params: ["lr": "0.1"], inputs: [csv])
        #expect(run.environment.inputs.first?.digest == Digest(of: Data("a,b\n1,2\n".utf8)))
        #expect(run.name.split(separator: "-").count == 3)

        // A directory logs as its files, keeping relative paths.
        let modelDir = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelDir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("w".utf8).write(to: modelDir.appendingPathComponent("weights.json"))
        try Data("m".utf8).write(to: modelDir.appendingPathComponent("sub/meta.txt"))
        let logged = try await tracking.logArtifact(run.id, from: modelDir)
        #expect(logged.map(\.path) == ["model/sub/meta.txt", "model/weights.json"])
        let out = dir.appendingPathComponent("restored")
        try await tracking.downloadArtifact(run.id, path: "model", to: out)
        #expect(try String(contentsOf: out.appendingPathComponent("sub/meta.txt"), encoding: .utf8) == "m")
        try await tracking.endRun(run.id)

        try await registry.createModel(name: "iris")
        let v1 = try await registry.createVersion(model: "iris", run: run.id, source: .runArtifact("model/weights.json"), by: who)
        #expect(v1.digest == Digest(of: Data("w".utf8)))
        #expect(v1.source == "runs:/\(run.id)/model/weights.json")
        let v2 = try await registry.createVersion(model: "iris", by: who)
        try await registry.setAlias("production", model: "iris", version: 1, by: who)
        #expect(try await registry.resolve("models:/iris@production").version == 1)
        #expect(try await registry.resolve("models:/iris/2") == v2)
        #expect(try await registry.resolve("models:/iris/latest").version == 2)
        let missing = await #expect(throws: FlywheelError.self) { try await registry.resolve("models:/iris@staging") }
        #expect(missing?.code == .notFound)
        #expect(missing?.message.contains("staging") == true)
        let noArtifact = await #expect(throws: FlywheelError.self) {
            try await registry.createVersion(model: "iris", run: run.id, source: .runArtifact("nope.bin"), by: who)
        }
        #expect(noArtifact?.code == .notFound)

        // dataset → run → model version, both ways.
        let ref = try await lineage.resolve("models:/iris@production")
        #expect(ref == .modelVersion("iris", 1))
        let up = try await lineage.walk(from: ref, direction: .upstream)
        #expect(up.map(\.source) == [.run(run.id), .dataset(Digest(of: Data("a,b\n1,2\n".utf8)))])
        let down = try await lineage.walk(from: .dataset(Digest(of: Data("a,b\n1,2\n".utf8))), direction: .downstream)
        #expect(down.map(\.target) == [.run(run.id), .modelVersion("iris", 1)])
        #expect(try await lineage.walk(from: ref, direction: .upstream, depth: 1).count == 1)
    }

    @Test func compareCollectsEveryKey() async throws {
        let store = InMemoryMetadataStore()
        let tracking = TrackingService(store: store, blobs: InMemoryBlobStore())
        let exp = try await tracking.ensureExperiment(named: "c")
        let a = try await tracking.startRun(in: exp.id, params: ["lr": "0.1"])
        let b = try await tracking.startRun(in: exp.id, params: ["depth": "3"])
        try await tracking.log(a.id, metrics: [("acc", 0.9)])
        try await tracking.log(b.id, metrics: [("loss", 0.2)])
        let c = try await tracking.compare([a.id, b.id])
        #expect(c.paramKeys == ["depth", "lr"])
        #expect(c.metricKeys == ["acc", "loss"])
        #expect(c.runs.map(\.run.id) == [a.id, b.id])
        let bad = await #expect(throws: FlywheelError.self) { try await tracking.log(a.id, metrics: [("/abs", 1)]) }
        #expect(bad?.code == .invalidArgument)
    }
}
