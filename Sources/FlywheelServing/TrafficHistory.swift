import Foundation
import Synchronization

/// This server's recent traffic per deployment and version, minute by minute: requests, client
/// errors (4xx), server errors (5xx) and a latency histogram, kept for the last `minutes` minutes
/// in memory. The web UI draws request rate, error rate and p50/p95 latency over time from it;
/// Prometheus keeps the long history (`/metrics`).
///
/// The histogram has 4 buckets per doubling from 1 µs (each about 19% wide), so a quantile read
/// from it is within about 9% of the true one; merging minutes is adding counts.
public final class TrafficHistory: Sendable {
    /// One minute of one version's traffic.
    public struct Minute: Sendable, Equatable {
        /// Unix time in minutes.
        public var minute: Int64
        public var requests = 0
        public var clientErrors = 0
        public var serverErrors = 0
        public var latency = [UInt32](repeating: 0, count: TrafficHistory.bucketCount)

        public init(minute: Int64) { self.minute = minute }

        /// The `q` quantile of latency in seconds over these minutes (nil when there were none).
        public static func quantile(_ q: Double, of minutes: some Sequence<Minute>) -> Double? {
            var counts = [UInt64](repeating: 0, count: TrafficHistory.bucketCount)
            var total: UInt64 = 0
            for m in minutes {
                for (i, c) in m.latency.enumerated() where c > 0 {
                    counts[i] += UInt64(c)
                    total += UInt64(c)
                }
            }
            guard total > 0 else { return nil }
            let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
            var seen: UInt64 = 0
            for (i, c) in counts.enumerated() {
                seen += c
                if seen >= rank { return TrafficHistory.bucketMiddle(i) }
            }
            return TrafficHistory.bucketMiddle(counts.count - 1)
        }
    }

    static let bucketCount = 104
    static let perDoubling = 4.0

    /// The bucket of a latency: 0 below 1 µs, then 4 per doubling up to ~70 s.
    static func bucket(nanoseconds: Int64) -> Int {
        guard nanoseconds > 1000 else { return 0 }
        let i = Int(log2(Double(nanoseconds) / 1000) * perDoubling) + 1
        return min(i, bucketCount - 1)
    }

    /// The geometric middle of a bucket, in seconds.
    static func bucketMiddle(_ i: Int) -> Double {
        guard i > 0 else { return 0.5e-6 }
        return 1e-6 * pow(2, (Double(i) - 0.5) / perDoubling)
    }

    private struct Key: Hashable {
        var deployment: String
        var version: String
    }

    /// How many minutes are kept.
    public let minutes: Int
    private let state = Mutex<[Key: [Minute]]>([:])

    public init(minutes: Int = 180) {
        self.minutes = max(1, minutes)
    }

    /// One answered request.
    public func record(deployment: String, version: String, status: Int, nanoseconds: Int64, at time: Date = Date()) {
        let minute = Int64((time.timeIntervalSince1970 / 60).rounded(.down))
        let bucket = Self.bucket(nanoseconds: nanoseconds)
        let keep = Int64(minutes)
        state.withLock { all in
            let key = Key(deployment: deployment, version: version)
            var series = all[key] ?? []
            all[key] = nil  // edit in place, without a copy
            if series.last?.minute != minute {
                if let last = series.last, last.minute > minute {
                    // Out of order (a clock step back): count it in the minute it falls in, while kept.
                    if minute > last.minute - keep {
                        var i = series.lastIndex { $0.minute <= minute } ?? -1
                        if i < 0 || series[i].minute != minute {
                            i += 1
                            series.insert(Minute(minute: minute), at: i)
                        }
                        Self.add(&series[i], status: status, bucket: bucket)
                    }
                    all[key] = series
                    return
                }
                series.append(Minute(minute: minute))
                let cut = series.firstIndex { $0.minute > minute - keep } ?? 0
                if cut > 0 { series.removeFirst(cut) }
            }
            Self.add(&series[series.count - 1], status: status, bucket: bucket)
            all[key] = series
        }
    }

    private static func add(_ m: inout Minute, status: Int, bucket: Int) {
        m.requests += 1
        if status >= 500 {
            m.serverErrors += 1
        } else if status >= 400 {
            m.clientErrors += 1
        }
        m.latency[bucket] += 1
    }

    /// Each version's minutes (oldest first) for one deployment, within the kept window ending now.
    public func series(deployment: String, now: Date = Date()) -> [String: [Minute]] {
        let current = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        let from = current - Int64(minutes) + 1
        return state.withLock { all in
            var out: [String: [Minute]] = [:]
            for (key, series) in all where key.deployment == deployment {
                let kept = series.filter { $0.minute >= from }
                if !kept.isEmpty { out[key.version] = kept }
            }
            return out
        }
    }
}
