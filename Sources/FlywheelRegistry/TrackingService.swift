import FlywheelCore
import Foundation

/// Experiments, runs and their params, metrics, tags and artifacts, over any backend.
///
/// The service validates input and generates IDs and names; the store makes each write atomic.
///
/// ```swift
/// let tracking = TrackingService(store: store, blobs: blobs)
/// let exp = try await tracking.ensureExperiment(named: "iris")
/// let run = try await tracking.startRun(in: exp.id, params: ["lr": "0.1"])
/// try await tracking.log(run.id, metrics: [("accuracy", 0.93)], step: 1)
/// try await tracking.endRun(run.id)
/// ```
public struct TrackingService: Sendable {
    public let store: any MetadataStore
    public let blobs: any BlobStore
    public let clock: any WallClock

    public init(store: any MetadataStore, blobs: any BlobStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.blobs = blobs
        self.clock = clock
    }

    // MARK: Experiments

    public func createExperiment(name: String, description: String = "", labels: Labels = [:]) async throws -> Experiment {
        try await store.createExperiment(NewExperiment(name: name, description: description, labels: labels), at: clock.now())
    }

    /// The experiment named `ref`, or with ID `ref`; a not-found error says which was tried.
    public func experiment(_ ref: String) async throws -> Experiment {
        if let e = try await store.experiment(named: ref) { return e }
        if let e = try await store.experiment(id: ExperimentID(ref)) { return e }
        throw FlywheelError.notFound("no experiment named or numbered '\(ref)'")
    }

    /// The experiment with this name, created if it does not exist yet.
    public func ensureExperiment(named name: String) async throws -> Experiment {
        if let e = try await store.experiment(named: name) { return e }
        do {
            return try await createExperiment(name: name)
        } catch let e as FlywheelError where e.code == .alreadyExists {
            // Another process created it between our read and our write.
            if let found = try await store.experiment(named: name) { return found }
            throw e
        }
    }

    public func setArchived(_ ref: String, _ archived: Bool) async throws -> Experiment {
        var e = try await experiment(ref)
        e.archived = archived
        e.updatedAt = clock.now()
        try await store.updateExperiment(e)
        return e
    }

    // MARK: Runs

    /// Starts a run, recording its environment and the digests of the input files it names.
    ///
    /// Each input becomes a lineage edge `dataset:<digest> → run:<id>`.
    public func startRun(
        in experiment: ExperimentID, name: String? = nil, parent: RunID? = nil, labels: Labels = [:],
        params: [String: String] = [:], tags: [String: String] = [:], environment: RunEnvironment = .init(),
        inputs: [URL] = []
    ) async throws -> Run {
        var env = environment
        for url in inputs {
            let (digest, size) = try Digest.ofFile(at: url)
            env.inputs.append(RunInput(path: url.path, digest: digest, size: size))
        }
        let id = RunID.generate()
        let now = clock.now()
        let run = Run(
            id: id, experimentID: experiment, name: name ?? RunNames.make(from: id), status: .running, startTime: now,
            parentID: parent, labels: labels, environment: env)
        try await store.createRun(run)
        if !params.isEmpty || !tags.isEmpty {
            try await log(id, params: params, tags: tags)
        }
        if !env.inputs.isEmpty {
            try await store.addLineage(env.inputs.map {
                LineageEdge(source: .dataset($0.digest), target: .run(id), relation: "input", createdAt: now)
            })
        }
        return run
    }

    public func run(_ id: RunID) async throws -> Run {
        guard let r = try await store.run(id: id) else { throw FlywheelError.notFound("run \(id) not found") }
        return r
    }

    public func detail(_ id: RunID) async throws -> RunDetail {
        RunDetail(run: try await run(id), data: try await store.runData(id: id))
    }

    /// Logs metrics (all at `step`, stamped now unless given), params and tags in one transaction.
    public func log(
        _ id: RunID, metrics: [(key: String, value: Double)] = [], step: Int64 = 0, timestamp: Timestamp? = nil,
        params: [String: String] = [:], tags: [String: String] = [:]
    ) async throws {
        let ts = timestamp ?? clock.now()
        try await logBatch(
            id, metrics: metrics.map { Metric(key: $0.key, value: $0.value, step: step, timestamp: ts) },
            params: params.map { Param(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key },
            tags: tags.map { Tag(key: $0.key, value: $0.value) })
    }

    /// Logs prepared records in one transaction after checking every key.
    public func logBatch(_ id: RunID, metrics: [Metric] = [], params: [Param] = [], tags: [Tag] = []) async throws {
        // A batch repeats few keys: check each distinct key once.
        var checked: Set<String> = []
        for m in metrics where checked.insert(m.key).inserted { try TrackingRules.validate(key: m.key, kind: "metric") }
        for p in params {
            try TrackingRules.validate(key: p.key, kind: "param")
            guard p.value.utf8.count <= 6000 else {
                throw FlywheelError.invalidArgument("param '\(p.key)' is too long: at most 6000 bytes")
            }
        }
        for t in tags { try TrackingRules.validate(key: t.key, kind: "tag") }
        try await store.logBatch(runID: id, params: params, metrics: metrics, tags: tags)
    }

    /// Marks a run ended with `status`.
    public func endRun(_ id: RunID, status: RunStatus = .finished) async throws {
        try await store.updateRun(id: id, status: status, endTime: status.isTerminal ? clock.now() : nil, name: nil)
    }

    public func search(_ query: RunQuery) async throws -> RunPage { try await store.searchRuns(query) }

    /// Runs side by side: one row per run, a column per param and per latest metric.
    public func compare(_ ids: [RunID]) async throws -> RunComparison {
        var details: [RunDetail] = []
        for id in ids { details.append(try await detail(id)) }
        return RunComparison(runs: details)
    }

    // MARK: Artifacts

    /// Stores a file, or every file under a directory, as artifacts of a run.
    ///
    /// A file lands at `path` (default: its name); a directory's files land under `path/`
    /// keeping their relative paths. `progress` is told (files done, files in all, bytes done)
    /// after each file.
    @discardableResult
    public func logArtifact(
        _ id: RunID, from url: URL, as path: String? = nil,
        progress: (@Sendable (_ done: Int, _ total: Int, _ bytes: Int64) -> Void)? = nil
    ) async throws -> [ArtifactRecord] {
        _ = try await run(id)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw FlywheelError.notFound("no file or directory at '\(url.path)'")
        }
        let base = path ?? url.standardizedFileURL.lastPathComponent
        try ArtifactRecord.validate(path: base)
        var files: [(URL, String)] = []
        if isDir.boolValue {
            let root = url.standardizedFileURL.resolvingSymlinksInPath()
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
                throw FlywheelError.notFound("cannot list '\(url.path)'")
            }
            for case let f as URL in walker {
                guard (try? f.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                let full = f.resolvingSymlinksInPath().path
                let rel = String(full.dropFirst(root.path.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                files.append((f, base + "/" + rel))
            }
            files.sort { $0.1 < $1.1 }
        } else {
            files = [(url, base)]
        }
        let now = clock.now()
        var records: [ArtifactRecord] = []
        var bytes: Int64 = 0
        for (file, logical) in files {
            let info = try await blobs.put(contentsOf: file)
            records.append(ArtifactRecord(runID: id, path: logical, digest: info.digest, size: info.size, createdAt: now))
            bytes += info.size
            progress?(records.count, files.count, bytes)
        }
        try await store.recordArtifacts(records)
        return records
    }

    /// Writes one artifact, or every artifact under a directory path, to `destination`.
    @discardableResult
    public func downloadArtifact(_ id: RunID, path: String, to destination: URL) async throws -> [ArtifactRecord] {
        let all = try await store.artifacts(runID: id, prefix: path)
        guard !all.isEmpty else { throw FlywheelError.notFound("run \(id) has no artifact '\(path)'") }
        if all.count == 1, all[0].path == path {
            try await blobs.export(all[0].digest, to: destination)
        } else {
            for a in all {
                let rel = String(a.path.dropFirst(path.count + 1))
                try await blobs.export(a.digest, to: destination.appendingPathComponent(rel))
            }
        }
        return all
    }
}

/// Runs side by side.
public struct RunComparison: Sendable, Codable {
    public var runs: [RunDetail]
    /// Every param key any run has, sorted.
    public var paramKeys: [String]
    /// Every metric key any run has, sorted.
    public var metricKeys: [String]

    public init(runs: [RunDetail]) {
        self.runs = runs
        paramKeys = Set(runs.flatMap { $0.data.params.keys }).sorted()
        metricKeys = Set(runs.flatMap { $0.data.latestMetrics.keys }).sorted()
    }
}
