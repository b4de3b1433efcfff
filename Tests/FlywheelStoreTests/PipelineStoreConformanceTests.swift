import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

@Suite struct PipelineStoreConformanceTests {
    func newRun(_ store: any PipelineStore, pipeline: String = "p", start: Int64) async throws -> PipelineRun {
        let r = PipelineRun(
            id: .generate(), pipeline: pipeline, specDigest: Digest(of: Data("spec".utf8)), specPath: "pipeline.yaml",
            params: ["n": .number(3), "name": .string("x")], trigger: "manual", startTime: ts(start))
        try await store.createPipelineRun(r)
        return r
    }

    @Test(arguments: Backend.allCases)
    func pipelineRunsRoundTripAndListNewestFirst(_ b: Backend) async throws {
        let store: any PipelineStore = try b.make()
        let a = try await newRun(store, start: 100)
        let c = try await newRun(store, pipeline: "q", start: 300)
        let d = try await newRun(store, start: 200)
        #expect(try await store.pipelineRun(id: a.id) == a)
        #expect(try await store.listPipelineRuns(pipeline: nil, limit: 10).map(\.id) == [c.id, d.id, a.id])
        #expect(try await store.listPipelineRuns(pipeline: "p", limit: 1).map(\.id) == [d.id])
        try await store.updatePipelineRun(id: a.id, status: .failed, endTime: ts(150))
        let updated = try await store.pipelineRun(id: a.id)
        #expect(updated?.status == .failed && updated?.endTime == ts(150))
        await #expect(throws: FlywheelError.self) { try await store.createPipelineRun(a) }
        await #expect(throws: FlywheelError.self) { try await store.updatePipelineRun(id: .generate(), status: .failed, endTime: nil) }
    }

    @Test(arguments: Backend.allCases)
    func attemptsUpsertListInOrderAndServeTheCache(_ b: Backend) async throws {
        let store: any PipelineStore = try b.make()
        let r1 = try await newRun(store, start: 100), r2 = try await newRun(store, start: 500)
        let out = ["model": StepOutput(type: "model", digest: Digest(of: Data("m".utf8))), "n": StepOutput(type: "integer", value: .number(4))]
        var a = StepAttempt(pipelineRunID: r1.id, step: "train", attempt: 1, status: .running, startTime: ts(110), cacheKey: "k1",
                            inputs: ["data": .string("sha256:00")])
        try await store.recordStepAttempt(a)
        #expect(try await store.cachedStep(key: "k1") == nil)  // still running
        a.status = .succeeded
        a.endTime = ts(120)
        a.outputs = out
        a.exitCode = 0
        a.logDigest = Digest(of: Data("log".utf8))
        try await store.recordStepAttempt(a)  // replaces the running record
        let load = StepAttempt(pipelineRunID: r1.id, step: "load", attempt: 1, status: .succeeded, startTime: ts(101), endTime: ts(105))
        try await store.recordStepAttempt(load)
        #expect(try await store.stepAttempts(pipelineRunID: r1.id) == [load, a])
        #expect(try await store.cachedStep(key: "k1") == a)
        // A later success with the same key wins; failures never count.
        var later = a
        later.pipelineRunID = r2.id
        later.startTime = ts(510)
        later.endTime = ts(520)
        later.cacheHit = true
        try await store.recordStepAttempt(later)
        var failed = a
        failed.pipelineRunID = r2.id
        failed.step = "other"
        failed.status = .failed
        failed.endTime = ts(900)
        try await store.recordStepAttempt(failed)
        #expect(try await store.cachedStep(key: "k1") == later)
        #expect(try await store.cachedStep(key: "nope") == nil)
        var orphan = a
        orphan.pipelineRunID = .generate()
        await #expect(throws: FlywheelError.self) { try await store.recordStepAttempt(orphan) }
    }

    @Test(arguments: Backend.allCases)
    func triggersAreClaimedOnce(_ b: Backend) async throws {
        let store: any PipelineStore = try b.make()
        #expect(try await store.claimTrigger("files:data/a.csv@sha256:1", pipeline: "p", at: ts(1)))
        #expect(try await !store.claimTrigger("files:data/a.csv@sha256:1", pipeline: "p", at: ts(2)))
        #expect(try await store.claimTrigger("files:data/a.csv@sha256:2", pipeline: "p", at: ts(3)))
    }
}
