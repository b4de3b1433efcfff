import CoreMetrics
import Synchronization

/// The serving side's metrics, made through an injected `MetricsFactory` (the server passes
/// swift-prometheus's, tests their own), with each labelled series made once and kept.
public final class ServingMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: any CounterHandler]>([:])
    private let timers = Mutex<[String: any TimerHandler]>([:])
    private let meters = Mutex<[String: any MeterHandler]>([:])
    /// The last hours of requests per deployment and version, minute by minute, for the web UI.
    public let traffic: TrafficHistory

    public init(factory: any MetricsFactory, traffic: TrafficHistory = TrafficHistory()) {
        self.factory = factory
        self.traffic = traffic
    }

    private static func key(_ label: String, _ dims: [(String, String)]) -> String {
        var k = label
        for (name, value) in dims {
            k += "\u{1}"
            k += name
            k += "="
            k += value
        }
        return k
    }

    /// The handler for `label` with `dims` from `cache`, made by `make` the first time.
    private func handler<H>(_ cache: borrowing Mutex<[String: H]>, _ label: String, _ dims: [(String, String)], _ make: () -> H) -> H {
        let k = Self.key(label, dims)
        return cache.withLock { c in
            if let h = c[k] { return h }
            let h = make()
            c[k] = h
            return h
        }
    }

    func counter(_ label: String, _ dims: [(String, String)]) -> any CounterHandler {
        handler(counters, label, dims) { factory.makeCounter(label: label, dimensions: dims) }
    }

    func timer(_ label: String, _ dims: [(String, String)]) -> any TimerHandler {
        handler(timers, label, dims) { factory.makeTimer(label: label, dimensions: dims) }
    }

    func meter(_ label: String, _ dims: [(String, String)]) -> any MeterHandler {
        handler(meters, label, dims) { factory.makeMeter(label: label, dimensions: dims) }
    }

    /// One answered request: counted by deployment, version and HTTP status, its latency kept.
    public func request(deployment: String, version: String, status: Int, nanoseconds: Int64) {
        let dims = [("deployment", deployment), ("version", version), ("status", String(status))]
        counter("flywheel_requests_total", dims).increment(by: 1)
        timer("flywheel_request_duration_seconds", [("deployment", deployment), ("version", version)]).recordNanoseconds(nanoseconds)
        traffic.record(deployment: deployment, version: version, status: status, nanoseconds: nanoseconds)
    }

    /// Requests being answered right now.
    public func inFlight(_ delta: Double) {
        let m = meter("flywheel_requests_in_flight", [])
        delta > 0 ? m.increment(by: delta) : m.decrement(by: -delta)
    }

    /// One predicted class.
    public func predicted(deployment: String, version: String, label: String, count: Int = 1) {
        counter("flywheel_predictions_total", [("deployment", deployment), ("version", version), ("class", label)])
            .increment(by: Int64(count))
    }

    /// A fallback answered instead of the routed version.
    public func fallback(deployment: String) {
        counter("flywheel_fallbacks_total", [("deployment", deployment)]).increment(by: 1)
    }

    public func logQueueDepth(_ n: Int) {
        meter("flywheel_prediction_log_queue_depth", []).set(Double(n))
    }

    public func logDropped(_ n: Int) {
        counter("flywheel_prediction_log_dropped_total", []).increment(by: Int64(n))
    }

    public func logWritten(_ n: Int) {
        counter("flywheel_prediction_log_written_total", []).increment(by: Int64(n))
    }

    public func shadowDropped() {
        counter("flywheel_shadow_dropped_total", []).increment(by: 1)
    }

    /// How long loading a model version took.
    public func modelLoaded(model: String, version: Int, seconds: Double) {
        meter("flywheel_model_load_seconds", [("model", model), ("version", String(version))]).set(seconds)
    }
}
