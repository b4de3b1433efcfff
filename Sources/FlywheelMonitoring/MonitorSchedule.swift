import FlywheelCore
import FlywheelYAML
import Foundation

/// Decides which applied monitors are due: a monitor with `every: P` checks the window ending
/// at each multiple of P since the Unix epoch (so `every: 24h` checks at 00:00 UTC and windows
/// follow one another without gaps). Each period is claimed in the store first, so it is checked
/// once even when several schedulers watch one workspace; periods missed while none ran are
/// skipped, and the latest one is checked.
public struct MonitorSchedule: Sendable {
    public let store: any MetadataStore

    public init(store: any MetadataStore) { self.store = store }

    /// The end of the latest period of `every` seconds at or before `now`.
    public static func periodEnd(every: Double, at now: Timestamp) -> Timestamp {
        let p = max(Int64((every * 1000).rounded()), 1)
        let ms = now.millisecondsSince1970
        return Timestamp(millisecondsSince1970: ms - ((ms % p) + p) % p)
    }

    /// The monitors due at `now`, each with the end of the window to check, claimed. A stored
    /// spec that no longer parses is skipped and reported in `skipped`.
    public func due(at now: Timestamp) async throws -> (due: [(MonitorSpec, Timestamp)], skipped: [String]) {
        var due: [(MonitorSpec, Timestamp)] = []
        var skipped: [String] = []
        for record in try await store.listMonitors() {
            let (spec, problems) = MonitorSpec.parse(record.spec)
            guard let spec else {
                skipped.append("\(record.name): \(problems.first?.description ?? "does not parse")")
                continue
            }
            guard let every = spec.every else { continue }
            let end = Self.periodEnd(every: every, at: now)
            // A check already recorded for this period (by `monitor run`, say) counts too; one
            // dated in a later period (a mistyped `--at`) does not stop this one.
            let next = Timestamp(millisecondsSince1970: end.millisecondsSince1970 + Int64((every * 1000).rounded()))
            let recent = try await store.monitorChecks(monitor: spec.name, since: end, limit: 50)
            if recent.contains(where: { $0.windowEnd >= end && $0.windowEnd < next }) { continue }
            guard try await store.claimTrigger("monitor:\(spec.name):\(end.millisecondsSince1970)", pipeline: "monitor:\(spec.name)", at: now) else {
                continue
            }
            due.append((spec, end))
        }
        return (due, skipped)
    }
}

/// A check and what it did to alerts: what `flywheel monitor run` and the scheduler report.
public struct MonitorOutcome: Sendable {
    public var check: MonitorCheck
    public var transitions: [AlertTransition]
}

/// Runs a monitor's check and evaluates its alert rules, in that order.
public struct MonitorService: Sendable {
    public let runner: MonitorRunner
    public let alerts: AlertEngine

    public init(store: any MetadataStore, blobs: any BlobStore, hooks: (any AlertHooks)?, clock: any WallClock = SystemWallClock()) {
        runner = MonitorRunner(store: store, blobs: blobs)
        alerts = AlertEngine(store: store, blobs: blobs, hooks: hooks, clock: clock)
    }

    public func run(_ spec: MonitorSpec, at time: Timestamp) async throws -> MonitorOutcome {
        let check = try await runner.check(spec, at: time)
        return MonitorOutcome(check: check, transitions: try await alerts.evaluate(spec, check))
    }
}
