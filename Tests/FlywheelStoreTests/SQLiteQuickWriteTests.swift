import FlywheelCore
import FlywheelStore
import Foundation
import GRDB
import Testing

/// Small writes run on the caller's thread when SQLite's write lock is free, and wait on the
/// pool's writer when another connection (here: another process's, simulated) holds it.
@Suite struct SQLiteQuickWriteTests {
    @Test func aSmallWriteWaitsForAnotherWriterInsteadOfFailing() async throws {
        let path = try TempDir.make().appendingPathComponent("flywheel.db").path
        let store = try SQLiteMetadataStore(path: path)
        let exp = try await store.createExperiment(NewExperiment(name: "e"), at: ts(1))
        let run = try await makeRun(store, exp: exp.id)
        // Quick path, lock free: written and readable at once.
        try await store.logBatch(runID: run, params: [], metrics: [Metric(key: "loss", value: 1, timestamp: ts(2))], tags: [])
        #expect(try await store.runData(id: run).latestMetrics["loss"]?.value == 1)

        // Another connection takes the write lock and keeps it for 300 ms.
        var config = Configuration()
        config.busyMode = .timeout(5)
        let other = try DatabaseQueue(path: path, configuration: config)
        let locked = AsyncStream<Void>.makeStream()
        let released = Flag()
        let holder = Task.detached {
            try other.inTransaction(.immediate) { db in
                try db.execute(sql: "INSERT INTO experiments (name, description, labels, created_at, updated_at) VALUES ('held', '', '{}', 0, 0)")
                locked.continuation.yield()
                Thread.sleep(forTimeInterval: 0.3)
                released.set()
                return .commit
            }
        }
        var it = locked.stream.makeAsyncIterator()
        _ = await it.next()
        try await store.logBatch(runID: run, params: [], metrics: [Metric(key: "loss", value: 2, step: 1, timestamp: ts(3))], tags: [])
        // It could only commit once the other connection let go: the quick path found the lock
        // busy and handed the write to the pool's writer, which waited instead of failing.
        #expect(released.isSet)
        try await holder.value
        #expect(try await store.runData(id: run).latestMetrics["loss"]?.value == 2)
        #expect(try await store.experiment(named: "held") != nil)
        #expect(try await store.metricHistory(runID: run, key: "loss").map(\.value) == [1, 2])
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
