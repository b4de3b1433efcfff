import FlywheelCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Writes sampled predictions to the store in batches, off the request path.
///
/// Requests hand their records to ``offer(_:redactor:)``, which only appends to a bounded queue
/// under a lock and never waits: when the queue is full the records are dropped and counted
/// (`flywheel_prediction_log_dropped_total`), so a slow disk can never slow serving. The service
/// redacts and writes what is queued every `interval`, and on graceful shutdown writes everything
/// still held before it returns.
public final class PredictionLogger: Service, Sendable {
    struct State {
        var queue: [(PredictionRecord, Redactor)] = []
        var dropped = 0
        var written = 0
    }

    private let store: any MetadataStore
    private let metrics: ServingMetrics?
    private let logger: Logger
    public let capacity: Int
    public let batchSize: Int
    public let interval: Duration
    private let state = Mutex(State())

    public init(
        store: any MetadataStore, metrics: ServingMetrics? = nil, logger: Logger = Logger(label: "flywheel.prediction-log"),
        capacity: Int = 100_000, batchSize: Int = 2_000, interval: Duration = .milliseconds(200)
    ) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.capacity = capacity
        self.batchSize = batchSize
        self.interval = interval
    }

    /// Queues records for writing; false (and the records counted as dropped) when the queue is full.
    @discardableResult
    public func offer(_ records: [PredictionRecord], redactor: Redactor) -> Bool {
        let (accepted, depth) = state.withLock { s -> (Bool, Int) in
            guard s.queue.count + records.count <= capacity else {
                s.dropped += records.count
                return (false, s.queue.count)
            }
            for r in records { s.queue.append((r, redactor)) }
            return (true, s.queue.count)
        }
        if !accepted { metrics?.logDropped(records.count) }
        metrics?.logQueueDepth(depth)
        return accepted
    }

    /// Records waiting, dropped so far and written so far.
    public var counts: (queued: Int, dropped: Int, written: Int) {
        state.withLock { ($0.queue.count, $0.dropped, $0.written) }
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            await flush()
        }
        // The last flush runs outside this (possibly cancelled) task so the store accepts it.
        await Task.detached { [self] in await self.flush() }.value
    }

    /// Writes everything queued now, in batches.
    public func flush() async {
        while true {
            let batch: [(PredictionRecord, Redactor)] = state.withLock { s in
                let n = min(batchSize, s.queue.count)
                let b = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return b
            }
            guard !batch.isEmpty else { break }
            let records = batch.map { r, redactor -> PredictionRecord in
                guard !redactor.isEmpty else { return r }
                var out = r
                out.features = redactor.redact(r.features)
                return out
            }
            do {
                try await store.appendPredictions(records)
                state.withLock { $0.written += records.count }
                metrics?.logWritten(records.count)
            } catch {
                state.withLock { $0.dropped += records.count }
                metrics?.logDropped(records.count)
                logger.error("prediction log: \(records.count) records could not be written: \(error)")
            }
        }
        metrics?.logQueueDepth(state.withLock { $0.queue.count })
    }
}
