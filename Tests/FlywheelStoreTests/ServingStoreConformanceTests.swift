import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

@Suite struct ServingStoreConformanceTests {
    @Test(arguments: Backend.allCases)
    func deploymentRevisionsAreKeptForever(_ b: Backend) async throws {
        let store: any ServingStore = try b.make()
        let r1 = try await store.applyDeployment(name: "iris", spec: "a", actor: "ana", at: ts(10))
        #expect(r1.revision == 1 && r1.action == .applied)
        // The same spec again records nothing.
        #expect(try await store.applyDeployment(name: "iris", spec: "a", actor: "bo", at: ts(20)) == r1)
        let r2 = try await store.applyDeployment(name: "iris", spec: "b", actor: "bo", at: ts(30))
        #expect(r2.revision == 2)
        _ = try await store.applyDeployment(name: "fraud", spec: "f", actor: "ana", at: ts(40))
        #expect(try await store.deployment(named: "iris") == r2)
        #expect(try await store.listDeployments().map(\.name) == ["fraud", "iris"])
        let del = try await store.deleteDeployment(named: "iris", actor: "cy", at: ts(50))
        #expect(del.revision == 3 && del.action == .deleted && del.actor == "cy")
        #expect(try await store.deployment(named: "iris") == nil)
        #expect(try await store.listDeployments().map(\.name) == ["fraud"])
        await #expect(throws: FlywheelError.self) { try await store.deleteDeployment(named: "iris", actor: "cy", at: ts(60)) }
        // Applying after a deletion continues the numbering; the history has everything.
        let r4 = try await store.applyDeployment(name: "iris", spec: "b", actor: "dee", at: ts(70))
        #expect(r4.revision == 4)
        #expect(try await store.deploymentHistory(named: "iris").map(\.revision) == [1, 2, 3, 4])
        #expect(try await store.deploymentHistory(named: "iris").map(\.action) == [.applied, .applied, .deleted, .applied])
        await #expect(throws: FlywheelError.self) { try await store.applyDeployment(name: "bad name/", spec: "x", actor: "a", at: ts(1)) }
    }

    func record(_ id: String, _ index: Int, at t: Int64, deployment: String = "iris") -> PredictionRecord {
        PredictionRecord(
            requestID: id, index: index, time: ts(t), deployment: deployment, model: "iris", version: 2,
            features: ["x": .number(Double(index)), "c": .string("red")], output: .object(["label": .string("a")]), latencyMicros: 120,
            shadow: ["iris/3": .object(["label": .string("b")])])
    }

    @Test(arguments: Backend.allCases)
    func predictionLogWithFeedbackJoined(_ b: Backend) async throws {
        let store: any ServingStore = try b.make()
        try await store.appendPredictions([record("r1", 0, at: 100), record("r1", 1, at: 100), record("r2", 0, at: 200, deployment: "other")])
        // A repeat of a logged (request, index) keeps the first.
        var again = record("r1", 0, at: 999)
        again.version = 9
        try await store.appendPredictions([again, record("r3", 0, at: 300)])
        let all = try await store.predictions(PredictionQuery())
        #expect(all.map { "\($0.requestID)#\($0.index)" } == ["r1#0", "r1#1", "r2#0", "r3#0"])
        #expect(all[0] == record("r1", 0, at: 100))
        #expect(try await store.predictions(PredictionQuery(deployment: "iris")).count == 3)
        #expect(try await store.predictions(PredictionQuery(since: ts(150), until: ts(300))).map(\.requestID) == ["r2"])
        #expect(try await store.predictions(PredictionQuery(limit: 1)).count == 1)

        let matched = try await store.recordFeedback([
            FeedbackLabel(requestID: "r1", index: 1, label: .string("b"), time: ts(400)),
            FeedbackLabel(requestID: "later", label: .string("a"), time: ts(400)),
        ])
        #expect(matched == 1)
        // A later label replaces the earlier; a label that came first joins once its prediction is logged.
        _ = try await store.recordFeedback([FeedbackLabel(requestID: "r1", index: 1, label: .number(7), time: ts(500))])
        try await store.appendPredictions([record("later", 0, at: 600)])
        let joined = try await store.predictions(PredictionQuery())
        #expect(joined.first { $0.requestID == "r1" && $0.index == 1 }?.feedback == .number(7))
        #expect(joined.first { $0.requestID == "r1" && $0.index == 0 }?.feedback == nil)
        #expect(joined.first { $0.requestID == "later" }?.feedback == .string("a"))
    }
}
