import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

/// The registry area (``RegistryStore``: models, versions, aliases, their history, lineage),
/// every backend.
@Suite struct RegistryStoreConformanceTests {
    // MARK: Registry

    @Test(arguments: Backend.allCases)
    func versionsAliasesAndHistory(_ b: Backend) async throws {
        let s: any TrackingStore & RegistryStore = try b.make()
        let e = try await s.createExperiment(NewExperiment(name: "x"), at: ts(1))
        let r = try await makeRun(s, exp: e.id)
        try await s.createModel(RegisteredModel(name: "iris", labels: ["team": "ml"], createdAt: ts(1), updatedAt: ts(1)))
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.createModel(RegisteredModel(name: "iris", createdAt: ts(1), updatedAt: ts(1)))
        }?.code == .alreadyExists)
        let sig: JSONValue = .object(["inputs": .array([.object(["name": .string("x"), "type": .string("double")])])])
        let v1 = try await s.createModelVersion(NewModelVersion(modelName: "iris", runID: r, digest: Digest(of: [1]), source: "runs:/x/m", signature: sig), by: who, at: ts(2))
        let v2 = try await s.createModelVersion(NewModelVersion(modelName: "iris"), by: who, at: ts(3))
        #expect(v1.version == 1)
        #expect(v2.version == 2)
        #expect(try await s.modelVersion(model: "iris", version: 1) == v1)
        #expect(try await s.modelVersions(model: "iris").map(\.version) == [1, 2])
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.createModelVersion(NewModelVersion(modelName: "nope"), by: who, at: ts(3))
        }?.code == .notFound)
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.createModelVersion(NewModelVersion(modelName: "iris", runID: .generate()), by: who, at: ts(3))
        }?.code == .notFound)

        #expect(try await s.setAlias(model: "iris", alias: "production", version: 1, by: who, at: ts(4)) == nil)
        #expect(try await s.setAlias(model: "iris", alias: "production", version: 2,
                                     by: Attribution(actor: "bo", reason: "better"), at: ts(5)) == 1)
        #expect(try await s.aliases(model: "iris") == ["production": 2])
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.setAlias(model: "iris", alias: "staging", version: 9, by: who, at: ts(6))
        }?.code == .notFound)
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.setAlias(model: "iris", alias: "12", version: 1, by: who, at: ts(6))
        }?.code == .invalidArgument)
        try await s.setVersionStatus(model: "iris", version: 1, status: .archived, by: who, at: ts(7))
        #expect(try await s.modelVersion(model: "iris", version: 1)?.status == .archived)
        #expect(try await s.deleteAlias(model: "iris", alias: "production", by: who, at: ts(8)) == 2)
        #expect(try await s.aliases(model: "iris").isEmpty)
        #expect(await #expect(throws: FlywheelError.self) {
            try await s.deleteAlias(model: "iris", alias: "production", by: who, at: ts(9))
        }?.code == .notFound)

        let events = try await s.registryEvents(model: "iris")
        #expect(events.map(\.kind) == [.versionCreated, .versionCreated, .aliasSet, .aliasSet, .statusChanged, .aliasDeleted])
        #expect(events[3].previousVersion == 1 && events[3].version == 2 && events[3].actor == "bo" && events[3].reason == "better")
        #expect(events[4].previousStatus == .ready && events[4].status == .archived)
        #expect(events[5].previousVersion == 2)
        #expect(events.map(\.time) == [ts(2), ts(3), ts(4), ts(5), ts(7), ts(8)])
    }

    // MARK: Lineage

    @Test(arguments: Backend.allCases)
    func lineageIsQueryableBothWays(_ b: Backend) async throws {
        let s: any TrackingStore & RegistryStore = try b.make()
        let data = ResourceRef.dataset(Digest(of: Array("d".utf8)))
        let run = ResourceRef(kind: .run, id: "r1")
        let model = ResourceRef.modelVersion("iris", 1)
        try await s.addLineage([
            LineageEdge(source: data, target: run, relation: "input", createdAt: ts(1)),
            LineageEdge(source: run, target: model, relation: "registered", createdAt: ts(2)),
        ])
        try await s.addLineage([LineageEdge(source: data, target: run, relation: "input", createdAt: ts(3))])  // duplicate kept once
        #expect(try await s.lineage(of: run, direction: .upstream).map(\.source) == [data])
        #expect(try await s.lineage(of: run, direction: .downstream).map(\.target) == [model])
        #expect(try await s.lineage(of: data, direction: .downstream).count == 1)
        #expect(try await s.lineage(of: model, direction: .downstream).isEmpty)
    }
}
