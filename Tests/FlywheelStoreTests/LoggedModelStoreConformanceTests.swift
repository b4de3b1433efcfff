import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

/// Logged models, run deletion and inputs/outputs, and the registry's renames and deletions:
/// the same behaviour from every backend.
@Suite struct LoggedModelStoreConformanceTests {
    @Test(arguments: Backend.allCases)
    func loggedModelsRoundTripChangeAtomicallyAndHideWhenDeleted(_ b: Backend) async throws {
        let s: any TrackingStore & LoggedModelStore & RegistryStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let other = try await s.createExperiment(NewExperiment(name: "y"), at: ts(1))
        let run = try await makeRun(s, exp: e.id)
        let m = LoggedModel(
            id: .generate(), experimentID: e.id, name: "model", modelType: "sklearn", sourceRunID: run, params: ["C": "1"],
            tags: ["t": "v"], createdAt: ts(10), updatedAt: ts(10))
        try await s.createLoggedModel(m)
        #expect(try await s.loggedModel(id: m.id) == m)
        #expect(LoggedModelID.isWellFormed(m.id.rawValue) && !LoggedModelID.isWellFormed("iris"))

        // A missing experiment or run is not found; a bad name is refused.
        var orphan = m
        orphan.id = .generate()
        orphan.experimentID = "99"
        #expect(await #expect(throws: FlywheelError.self) { try await s.createLoggedModel(orphan) }?.code == .notFound)
        orphan.experimentID = e.id
        orphan.sourceRunID = RunID.generate()
        #expect(await #expect(throws: FlywheelError.self) { try await s.createLoggedModel(orphan) }?.code == .notFound)
        orphan.sourceRunID = nil
        orphan.name = "a/b"
        #expect(await #expect(throws: FlywheelError.self) { try await s.createLoggedModel(orphan) }?.code == .invalidArgument)

        // Changes are read-modify-write in one transaction: concurrent ones all land.
        let metric = Metric(key: "acc", value: 0.9, step: 1, timestamp: ts(11))
        try await withThrowingTaskGroup(of: Void.self) { g in
            for i in 0..<20 {
                g.addTask { try await s.updateLoggedModel(id: m.id) { $0.tags["k\(i)"] = "\(i)" } }
            }
            try await g.waitForAll()
        }
        let changed = try await s.updateLoggedModel(id: m.id) {
            $0.status = .ready
            $0.metrics.append(LoggedModelMetric(metric: metric, runID: run, datasetName: "train", datasetDigest: "abc"))
        }
        #expect(changed.tags.count == 21 && changed.status == .ready)
        #expect(try await s.loggedModel(id: m.id) == changed)
        // A change that throws writes nothing.
        await #expect(throws: FlywheelError.self) {
            try await s.updateLoggedModel(id: m.id) {
                $0.tags = [:]
                throw FlywheelError.invalidArgument("no")
            }
        }
        #expect(try await s.loggedModel(id: m.id)?.tags.count == 21)
        #expect(await #expect(throws: FlywheelError.self) { try await s.updateLoggedModel(id: .generate()) { _ in } }?.code == .notFound)

        // Listing: by experiment, newest first; deleted ones hidden but still readable by ID.
        let newer = LoggedModel(id: .generate(), experimentID: e.id, name: "model", createdAt: ts(20), updatedAt: ts(20))
        let elsewhere = LoggedModel(id: .generate(), experimentID: other.id, name: "m2", createdAt: ts(30), updatedAt: ts(30))
        try await s.createLoggedModel(newer)
        try await s.createLoggedModel(elsewhere)
        #expect(try await s.loggedModels(experimentIDs: [e.id]).map(\.id) == [newer.id, m.id])
        #expect(try await s.loggedModels(experimentIDs: []).map(\.id) == [elsewhere.id, newer.id, m.id])
        try await s.updateLoggedModel(id: newer.id) { $0.deletedAt = ts(40) }
        #expect(try await s.loggedModels(experimentIDs: [e.id]).map(\.id) == [m.id])
        #expect(try await s.loggedModel(id: newer.id)?.deletedAt == ts(40))

        // Files by path, with prefixes that are folders (and may hold % or _).
        let d = Digest(of: Array("x".utf8))
        try await s.recordModelArtifacts([
            ModelArtifactRecord(modelID: m.id, path: "MLmodel", digest: d, size: 1, createdAt: ts(12)),
            ModelArtifactRecord(modelID: m.id, path: "a_%/model.pkl", digest: d, size: 1, createdAt: ts(12)),
            ModelArtifactRecord(modelID: m.id, path: "ab/x", digest: d, size: 1, createdAt: ts(12)),
        ])
        #expect(try await s.modelArtifacts(modelID: m.id, prefix: nil).map(\.path) == ["MLmodel", "a_%/model.pkl", "ab/x"])
        #expect(try await s.modelArtifacts(modelID: m.id, prefix: "a_%").map(\.path) == ["a_%/model.pkl"])
        #expect(try await s.modelArtifacts(modelID: m.id, prefix: "MLmodel").map(\.path) == ["MLmodel"])
        let bad = ModelArtifactRecord(modelID: .generate(), path: "x", digest: d, size: 1, createdAt: ts(1))
        #expect(await #expect(throws: FlywheelError.self) { try await s.recordModelArtifacts([bad]) }?.code == .notFound)
    }

    @Test(arguments: Backend.allCases)
    func deletedRunsLeaveSearchesUnlessAskedAndComeBack(_ b: Backend) async throws {
        let s: any TrackingStore & LoggedModelStore & RegistryStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let kept = try await makeRun(s, exp: e.id, name: "kept", start: 1)
        let gone = try await makeRun(s, exp: e.id, name: "gone", start: 2)
        try await s.setRunDeleted(id: gone, at: ts(5))
        func names(_ l: RunLifecycle) async throws -> [String] {
            try await s.searchRuns(RunQuery(experimentIDs: [e.id], lifecycle: l)).runs.map(\.run.name)
        }
        #expect(try await names(.active) == ["kept"])
        #expect(try await names(.deleted) == ["gone"])
        #expect(try await names(.all) == ["gone", "kept"])
        #expect(try await s.run(id: gone)?.deletedAt == ts(5))
        try await s.setRunDeleted(id: gone, at: nil)
        #expect(try await names(.active) == ["gone", "kept"])
        #expect(try await s.run(id: gone)?.deletedAt == nil)
        _ = kept
        #expect(await #expect(throws: FlywheelError.self) { try await s.setRunDeleted(id: .generate(), at: ts(1)) }?.code == .notFound)
    }

    @Test(arguments: Backend.allCases)
    func runInputsAndOutputsKeepTheirOrderAndDeduplicate(_ b: Backend) async throws {
        let s: any TrackingStore & LoggedModelStore & RegistryStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let run = try await makeRun(s, exp: e.id)
        let m = LoggedModel(id: .generate(), experimentID: e.id, name: "model", createdAt: ts(2), updatedAt: ts(2))
        try await s.createLoggedModel(m)
        let train = DatasetInput(name: "train", digest: "d1", sourceType: "local", source: "/data/train.csv", tags: ["mlflow.data.context": "training"])
        let eval = DatasetInput(name: "eval", digest: "d2", sourceType: "local", source: "/data/eval.csv", schema: "{}")
        try await s.logRunInputs(runID: run, datasets: [train, eval], models: [m.id])
        var retagged = train
        retagged.tags["extra"] = "1"
        try await s.logRunInputs(runID: run, datasets: [retagged], models: [m.id])
        try await s.logRunOutputs(runID: run, models: [ModelOutput(modelID: m.id, step: 3)])
        try await s.logRunOutputs(runID: run, models: [ModelOutput(modelID: m.id, step: 9)])
        let io = try await s.runIO(id: run)
        #expect(io.datasetInputs == [retagged, eval])
        #expect(io.modelInputs == [m.id])
        #expect(io.modelOutputs == [ModelOutput(modelID: m.id, step: 3)])
        #expect(train.ref.description == "dataset:train@d1")
        #expect(await #expect(throws: FlywheelError.self) { try await s.logRunOutputs(runID: run, models: [ModelOutput(modelID: .generate(), step: 0)]) }?.code == .notFound)
        #expect(await #expect(throws: FlywheelError.self) { try await s.runIO(id: .generate()) }?.code == .notFound)
    }

    @Test(arguments: Backend.allCases)
    func renamingAModelMovesItsVersionsAliasesHistoryAndLineage(_ b: Backend) async throws {
        let s: any TrackingStore & LoggedModelStore & RegistryStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let run = try await makeRun(s, exp: e.id)
        try await s.createModel(RegisteredModel(name: "old", createdAt: ts(1), updatedAt: ts(1)))
        try await s.createModel(RegisteredModel(name: "taken", createdAt: ts(1), updatedAt: ts(1)))
        _ = try await s.createModelVersion(NewModelVersion(modelName: "old", runID: run), by: who, at: ts(2))
        _ = try await s.createModelVersion(NewModelVersion(modelName: "old"), by: who, at: ts(3))
        try await s.setAlias(model: "old", alias: "production", version: 2, by: who, at: ts(4))
        try await s.addLineage([LineageEdge(source: .run(run), target: .modelVersion("old", 1), relation: "registered", createdAt: ts(2))])

        #expect(await #expect(throws: FlywheelError.self) { try await s.renameModel("old", to: "taken", by: who, at: ts(5)) }?.code == .alreadyExists)
        #expect(await #expect(throws: FlywheelError.self) { try await s.renameModel("nope", to: "x", by: who, at: ts(5)) }?.code == .notFound)
        try await s.renameModel("old", to: "new", by: who, at: ts(5))
        #expect(try await s.model(named: "old") == nil)
        #expect(try await s.modelVersions(model: "new").map(\.version) == [1, 2])
        #expect(try await s.modelVersions(model: "new").allSatisfy { $0.modelName == "new" })
        #expect(try await s.aliases(model: "new") == ["production": 2])
        #expect(try await s.registryEvents(model: "new").map(\.kind) == [.versionCreated, .versionCreated, .aliasSet, .renamed])
        #expect(try await s.lineage(of: .run(run), direction: .downstream).map(\.target) == [.modelVersion("new", 1)])
        // The new name's next version continues the numbering.
        #expect(try await s.createModelVersion(NewModelVersion(modelName: "new"), by: who, at: ts(6)).version == 3)
    }

    @Test(arguments: Backend.allCases)
    func deletedVersionsAreHiddenTheirAliasesGoneAndTheirNumbersNeverReused(_ b: Backend) async throws {
        let s: any TrackingStore & LoggedModelStore & RegistryStore = try b.make()
        try await s.createModel(RegisteredModel(name: "m", createdAt: ts(1), updatedAt: ts(1)))
        for t in 2...4 { _ = try await s.createModelVersion(NewModelVersion(modelName: "m"), by: who, at: ts(Int64(t))) }
        try await s.setAlias(model: "m", alias: "production", version: 3, by: who, at: ts(5))
        try await s.setAlias(model: "m", alias: "staging", version: 2, by: who, at: ts(5))
        try await s.deleteModelVersion(model: "m", version: 3, by: who, at: ts(6))
        #expect(try await s.modelVersions(model: "m").map(\.version) == [1, 2])
        #expect(try await s.modelVersion(model: "m", version: 3) == nil)
        #expect(try await s.aliases(model: "m") == ["staging": 2])
        let tail = try await s.registryEvents(model: "m").suffix(2)
        #expect(tail.map(\.kind) == [.aliasDeleted, .versionDeleted] && tail.first?.alias == "production")
        #expect(await #expect(throws: FlywheelError.self) { try await s.setAlias(model: "m", alias: "x", version: 3, by: who, at: ts(7)) }?.code == .notFound)
        #expect(await #expect(throws: FlywheelError.self) { try await s.deleteModelVersion(model: "m", version: 3, by: who, at: ts(7)) }?.code == .notFound)
        // Deleting the newest version does not free its number.
        try await s.deleteModelVersion(model: "m", version: 2, by: who, at: ts(7))
        #expect(try await s.createModelVersion(NewModelVersion(modelName: "m"), by: who, at: ts(8)).version == 4)

        // A version's description and labels change; deleting the model removes it all.
        var v = try #require(try await s.modelVersion(model: "m", version: 4))
        v.description = "better"
        v.labels["k"] = "v"
        try await s.updateModelVersion(v)
        #expect(try await s.modelVersion(model: "m", version: 4)?.labels["k"] == "v")
        try await s.addLineage([LineageEdge(source: .modelVersion("m", 4), target: ResourceRef(kind: .deployment, id: "d"), relation: "deployed", createdAt: ts(9))])
        try await s.deleteModel(named: "m")
        #expect(try await s.model(named: "m") == nil)
        #expect(try await s.lineage(of: ResourceRef(kind: .deployment, id: "d"), direction: .upstream).isEmpty)
        try await s.createModel(RegisteredModel(name: "m", createdAt: ts(10), updatedAt: ts(10)))
        #expect(try await s.modelVersions(model: "m").isEmpty)
        #expect(try await s.registryEvents(model: "m").isEmpty)
    }
}

/// Run environments read back exactly, whichever way the backend decodes them.
@Suite struct RunEnvironmentRoundTripTests {
    @Test(arguments: Backend.allCases)
    func environmentsAndLabelsOfEveryShapeReadBack(_ b: Backend) async throws {
        let s: any TrackingStore & LoggedModelStore & RegistryStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let digest = Digest(of: Array("d".utf8))
        let envs = [
            RunEnvironment(),
            RunEnvironment(user: "ana"),
            RunEnvironment(gitCommit: "abc", gitDirty: false, commandLine: ["a b", "c\"d", ""], seed: 0),
            RunEnvironment(host: "h", os: "Linux", swiftVersion: "6.3", flywheelVersion: "0.1", seed: UInt64.max),
            RunEnvironment(gitBranch: "main", workingDirectory: "/w", seed: 9_007_199_254_740_993, inputs: [RunInput(path: "/d", digest: digest, size: 1)]),
        ]
        for (i, env) in envs.enumerated() {
            let labels: Labels = i % 2 == 0 ? [:] : ["team": "ml", "é": "ü \"q\""]
            let run = Run(id: .generate(), experimentID: e.id, name: "r\(i)", startTime: ts(2), labels: labels, environment: env)
            try await s.createRun(run)
            #expect(try await s.run(id: run.id) == run)
        }
    }
}
