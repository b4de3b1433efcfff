import FlywheelCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run the scheduler decided to start, and why.
public struct ScheduledRun: Hashable, Sendable {
    public var pipeline: String
    /// `schedule`, `files` or `event` (as recorded on the pipeline run).
    public var trigger: String
    /// For people: the fire time, the file and its digest, or the event.
    public var reason: String
    /// Param overrides for the run (a file trigger sets `file` when the pipeline declares it).
    public var params: [String: String]
}

/// Decides which pipeline runs are due: cron schedules (UTC), new or changed files matching
/// `on: files` globs (by digest), and submitted events. Every decision is claimed in the store
/// first, so a fire time, a file version or an event starts exactly one run even when several
/// schedulers watch the same workspace or a file is seen twice.
///
/// Time comes from the caller (`due(at:)`), so tests drive it with any clock.
public actor Scheduler {
    public let pipelines: [PipelineSpec]
    let schedules: [String: CronSchedule]
    let store: any MetadataStore
    let workspaceRoot: URL
    private var lastTick: [String: Timestamp] = [:]
    private var fileDigests: [String: (size: Int64, modified: Date, digest: Digest)] = [:]

    public init(pipelines: [PipelineSpec], store: any MetadataStore, workspaceRoot: URL) throws {
        self.pipelines = pipelines
        self.store = store
        self.workspaceRoot = workspaceRoot
        var s: [String: CronSchedule] = [:]
        for p in pipelines {
            if let text = p.schedule { s[p.name] = try CronSchedule(parsing: text) }
        }
        schedules = s
    }

    /// Everything due at `now`, each claimed so no other scheduler starts it too.
    public func due(at now: Timestamp) async throws -> [ScheduledRun] {
        var out: [ScheduledRun] = []
        for p in pipelines {
            if let cron = schedules[p.name] { out += try await scheduled(p, cron, now) }
            for case .files(let glob) in p.triggers { out += try await changedFiles(p, glob, now) }
        }
        out += try await events(now)
        return out
    }

    private func scheduled(_ p: PipelineSpec, _ cron: CronSchedule, _ now: Timestamp) async throws -> [ScheduledRun] {
        guard let last = lastTick[p.name] else {
            // First look since this scheduler started: what was missed while none ran?
            lastTick[p.name] = now
            guard p.catchUp == "once" else { return [] }
            let previous = try await store.listPipelineRuns(pipeline: p.name, limit: 200).first { $0.trigger == "schedule" }
            guard let since = previous?.startTime, let missed = cron.next(after: since), missed <= now else { return [] }
            // The latest missed time names the claim, so two schedulers starting together catch up once.
            var latest = missed
            while let n = cron.next(after: latest), n <= now { latest = n }
            guard try await store.claimTrigger("schedule:\(p.name):\(latest.millisecondsSince1970)", pipeline: p.name, at: now) else { return [] }
            return [ScheduledRun(pipeline: p.name, trigger: "schedule", reason: "catch-up for \(cron) (missed \(latest))", params: [:])]
        }
        lastTick[p.name] = now
        // Every fire time since the last look; if several passed (the process was suspended), one run.
        guard var fire = cron.next(after: last), fire <= now else { return [] }
        while let n = cron.next(after: fire), n <= now { fire = n }
        guard try await store.claimTrigger("schedule:\(p.name):\(fire.millisecondsSince1970)", pipeline: p.name, at: now) else { return [] }
        return [ScheduledRun(pipeline: p.name, trigger: "schedule", reason: "\(cron) at \(fire)", params: [:])]
    }

    private func changedFiles(_ p: PipelineSpec, _ glob: String, _ now: Timestamp) async throws -> [ScheduledRun] {
        var out: [ScheduledRun] = []
        for path in Self.matches(glob, under: workspaceRoot) {
            let url = workspaceRoot.appendingPathComponent(path)
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = (attrs[.size] as? NSNumber)?.int64Value, let modified = attrs[.modificationDate] as? Date else { continue }
            let digest: Digest
            if let c = fileDigests[path], c.size == size, c.modified == modified {
                digest = c.digest
            } else {
                guard let d = try? Digest.ofFile(at: url).digest else { continue }
                digest = d
                fileDigests[path] = (size, modified, d)
            }
            guard try await store.claimTrigger("files:\(p.name):\(path)@\(digest)", pipeline: p.name, at: now) else { continue }
            let params = p.param("file") != nil ? ["file": path] : [:]
            out.append(ScheduledRun(pipeline: p.name, trigger: "files", reason: "\(path) (\(digest.hex.prefix(12)))", params: params))
        }
        return out
    }

    private func events(_ now: Timestamp) async throws -> [ScheduledRun] {
        var out: [ScheduledRun] = []
        for e in try await store.pendingEvents(limit: 100) {
            let listeners = pipelines.filter { $0.triggers.contains(.event(e.name)) }
            // An event nobody here listens for stays queued for a scheduler that does.
            guard !listeners.isEmpty, try await store.consumeEvent(id: e.id, at: now) else { continue }
            for p in listeners {
                let params = e.params.filter { p.param($0.key) != nil }
                out.append(ScheduledRun(pipeline: p.name, trigger: "event", reason: "\(e.name) (key \(e.dedupeKey.hasPrefix(e.name + ":") ? String(e.dedupeKey.dropFirst(e.name.count + 1)) : e.dedupeKey))", params: params))
            }
        }
        return out
    }

    /// Workspace-relative files matching a glob (`*`, `?`, `[…]` within a path segment; `**` across them).
    public static func matches(_ glob: String, under root: URL) -> [String] {
        let parts = glob.split(separator: "/").map(String.init)
        let fixed = parts.prefix { !$0.contains(where: { "*?[".contains($0) }) }
        let base = fixed.joined(separator: "/")
        let start = base.isEmpty ? root : root.appendingPathComponent(base)
        guard let walker = FileManager.default.enumerator(atPath: start.path) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            let path = base.isEmpty ? rel : base + "/" + rel
            if path.hasPrefix(".flywheel") { continue }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDir), !isDir.boolValue else { continue }
            if glob.contains("**") ? fnmatch(glob.replacingOccurrences(of: "**/", with: "*"), path, 0) == 0 : fnmatch(glob, path, FNM_PATHNAME) == 0 {
                out.append(path)
            }
        }
        return out.sorted()
    }
}
