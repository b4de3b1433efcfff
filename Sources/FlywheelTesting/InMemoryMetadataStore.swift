import FlywheelCore

/// A `MetadataStore` held in memory, for tests and as the reference the conformance suite
/// compares every real backend against.
public actor InMemoryMetadataStore: MetadataStore {
    private var experiments: [Experiment] = []
    private var runs: [RunID: Run] = [:]
    private var params: [RunID: [String: String]] = [:]
    private var metrics: [RunID: Set<Metric>] = [:]
    private var latest: [RunID: [String: Metric]] = [:]
    private var tags: [RunID: [String: String]] = [:]
    private var artifactRecords: [RunID: [String: ArtifactRecord]] = [:]
    private var models: [String: RegisteredModel] = [:]
    private var versions: [String: [ModelVersion]] = [:]
    private var aliasTable: [String: [String: Int]] = [:]
    private var events: [String: [RegistryEvent]] = [:]
    private var edges: [LineageEdge] = []
    private var pipelineRuns: [PipelineRunID: PipelineRun] = [:]
    private var attempts: [PipelineRunID: [StepAttempt]] = [:]
    private var claims: Set<String> = []
    private var triggerEvents: [PipelineTriggerEvent] = []
    private var deploymentRevisions: [String: [DeploymentRevision]] = [:]
    private var predictionLog: [PredictionRecord] = []
    private var loggedKeys: Set<String> = []
    private var feedbackLabels: [String: JSONValue] = [:]
    private var monitors: [String: MonitorRecord] = [:]
    private var checks: [MonitorCheck] = []
    private var alertList: [Alert] = []
    private var actions: [AlertActionRecord] = []
    private var deletedVersions: [String: Set<Int>] = [:]
    private var io: [RunID: RunIO] = [:]
    private var loggedModelTable: [LoggedModelID: LoggedModel] = [:]
    private var modelFiles: [LoggedModelID: [String: ModelArtifactRecord]] = [:]

    public init() {}

    // MARK: Experiments

    public func createExperiment(_ new: NewExperiment, at time: Timestamp) throws -> Experiment {
        try Experiment.validate(name: new.name)
        guard !experiments.contains(where: { $0.name == new.name }) else {
            throw FlywheelError.alreadyExists("experiment '\(new.name)' already exists")
        }
        let e = Experiment(
            id: ExperimentID(String(experiments.count + 1)), name: new.name, description: new.description,
            labels: new.labels, createdAt: time, updatedAt: time)
        experiments.append(e)
        return e
    }

    public func experiment(id: ExperimentID) -> Experiment? { experiments.first { $0.id == id } }
    public func experiment(named name: String) -> Experiment? { experiments.first { $0.name == name } }
    public func listExperiments(includeArchived: Bool) -> [Experiment] {
        experiments.filter { includeArchived || !$0.archived }
    }

    public func experimentActivity() -> [ExperimentID: ExperimentActivity] {
        var out: [ExperimentID: ExperimentActivity] = [:]
        for run in runs.values where run.deletedAt == nil {
            var a = out[run.experimentID] ?? ExperimentActivity(runs: 0, lastActivity: nil)
            a.runs += 1
            a.lastActivity = max(a.lastActivity ?? run.startTime, run.startTime)
            out[run.experimentID] = a
        }
        return out
    }

    public func updateExperiment(_ experiment: Experiment) throws {
        try Experiment.validate(name: experiment.name)
        guard let i = experiments.firstIndex(where: { $0.id == experiment.id }) else {
            throw FlywheelError.notFound("experiment \(experiment.id) not found")
        }
        if experiments.contains(where: { $0.name == experiment.name && $0.id != experiment.id }) {
            throw FlywheelError.alreadyExists("experiment '\(experiment.name)' already exists")
        }
        experiments[i] = experiment
    }

    // MARK: Runs

    public func createRun(_ run: Run) throws {
        guard experiment(id: run.experimentID) != nil else {
            throw FlywheelError.notFound("experiment \(run.experimentID) not found")
        }
        if let p = run.parentID, runs[p] == nil { throw FlywheelError.notFound("parent run \(p) not found") }
        guard runs[run.id] == nil else { throw FlywheelError.alreadyExists("run \(run.id) already exists") }
        runs[run.id] = run
    }

    public func run(id: RunID) -> Run? { runs[id] }

    private func requireRun(_ id: RunID) throws -> Run {
        guard let r = runs[id] else { throw FlywheelError.notFound("run \(id) not found") }
        return r
    }

    public func updateRun(id: RunID, status: RunStatus, endTime: Timestamp?, name: String?) throws {
        var r = try requireRun(id)
        r.status = status
        r.endTime = endTime
        if let name { r.name = name }
        runs[id] = r
    }

    public func logBatch(runID: RunID, params newParams: [Param], metrics newMetrics: [Metric], tags newTags: [Tag]) throws {
        guard try requireRun(runID).deletedAt == nil else { throw TrackingRules.deletedRun(runID) }
        var p = params[runID] ?? [:]
        for param in newParams {
            if let old = p[param.key], old != param.value {
                throw TrackingRules.paramConflict(key: param.key, old: old, new: param.value)
            }
            p[param.key] = param.value
        }
        params[runID] = p
        metrics[runID, default: []].formUnion(newMetrics)  // the very same measurement twice is kept once
        var l = latest[runID] ?? [:]
        for m in newMetrics where l[m.key].map({ m.supersedes($0) }) ?? true { l[m.key] = m }
        latest[runID] = l
        for t in newTags { tags[runID, default: [:]][t.key] = t.value }
    }

    public func deleteTag(runID: RunID, key: String) throws {
        _ = try requireRun(runID)
        guard tags[runID]?.removeValue(forKey: key) != nil else {
            throw FlywheelError.notFound("run \(runID) has no tag '\(key)'")
        }
    }

    public func runData(id: RunID) throws -> RunData {
        _ = try requireRun(id)
        return data(id)
    }

    private func data(_ id: RunID) -> RunData {
        RunData(params: params[id] ?? [:], latestMetrics: latest[id] ?? [:], tags: tags[id] ?? [:])
    }

    public func metricHistory(runID: RunID, key: String) throws -> [Metric] {
        _ = try requireRun(runID)
        return (metrics[runID] ?? []).filter { $0.key == key }.sorted { HistoryOrder.key($0) < HistoryOrder.key($1) }
    }

    public func searchRuns(_ query: RunQuery) throws -> RunPage {
        var page = try query.apply(to: runs.values.map { RunDetail(run: $0, data: data($0.id)) })
        if let only = query.only {
            page.runs = page.runs.map { RunDetail(run: $0.run, data: RunQuery.select($0.data, only)) }
        }
        return page
    }

    public func runData(ids: [RunID], only: RunFields?) -> [RunID: RunData] {
        var out: [RunID: RunData] = [:]
        for id in ids where runs[id] != nil { out[id] = RunQuery.select(data(id), only) }
        return out
    }

    public func runKeys(ids: [RunID], containing: String?, limit: Int) -> RunKeys {
        RunKeys(ids.filter { runs[$0] != nil }.map(data), containing: containing, limit: limit)
    }

    public func setRunDeleted(id: RunID, at time: Timestamp?) throws {
        var r = try requireRun(id)
        r.deletedAt = time
        runs[id] = r
    }

    public func logRunInputs(runID: RunID, datasets: [DatasetInput], models: [LoggedModelID]) throws {
        _ = try requireRun(runID)
        for m in models { _ = try requireLoggedModel(m) }
        var cur = io[runID] ?? RunIO()
        for d in datasets {
            if let i = cur.datasetInputs.firstIndex(where: { $0.name == d.name && $0.digest == d.digest }) {
                cur.datasetInputs[i] = d
            } else {
                cur.datasetInputs.append(d)
            }
        }
        for m in models where !cur.modelInputs.contains(m) { cur.modelInputs.append(m) }
        io[runID] = cur
    }

    public func logRunOutputs(runID: RunID, models: [ModelOutput]) throws {
        _ = try requireRun(runID)
        for m in models { _ = try requireLoggedModel(m.modelID) }
        var cur = io[runID] ?? RunIO()
        for m in models where !cur.modelOutputs.contains(where: { $0.modelID == m.modelID }) { cur.modelOutputs.append(m) }
        io[runID] = cur
    }

    public func runIO(id: RunID) throws -> RunIO {
        _ = try requireRun(id)
        return io[id] ?? RunIO()
    }

    // MARK: Logged models

    private func requireLoggedModel(_ id: LoggedModelID) throws -> LoggedModel {
        guard let m = loggedModelTable[id] else { throw FlywheelError.notFound("logged model \(id) not found") }
        return m
    }

    public func createLoggedModel(_ model: LoggedModel) throws {
        try LoggedModel.validate(name: model.name)
        guard experiment(id: model.experimentID) != nil else { throw FlywheelError.notFound("experiment \(model.experimentID) not found") }
        if let r = model.sourceRunID { _ = try requireRun(r) }
        guard loggedModelTable[model.id] == nil else { throw FlywheelError.alreadyExists("logged model \(model.id) already exists") }
        loggedModelTable[model.id] = model
    }

    public func loggedModel(id: LoggedModelID) -> LoggedModel? { loggedModelTable[id] }

    public func updateLoggedModel(id: LoggedModelID, _ change: @escaping @Sendable (inout LoggedModel) throws -> Void) throws -> LoggedModel {
        var m = try requireLoggedModel(id)
        try change(&m)
        guard m.id == id else { throw FlywheelError.invalidArgument("a logged model's ID cannot change") }
        try LoggedModel.validate(name: m.name)
        loggedModelTable[id] = m
        return m
    }

    public func loggedModels(experimentIDs: [ExperimentID]) -> [LoggedModel] {
        let ids = Set(experimentIDs)
        return loggedModelTable.values.filter { $0.deletedAt == nil && (ids.isEmpty || ids.contains($0.experimentID)) }
            .sorted { ($0.createdAt.millisecondsSince1970, $1.id.rawValue) > ($1.createdAt.millisecondsSince1970, $0.id.rawValue) }
    }

    public func recordModelArtifacts(_ list: [ModelArtifactRecord]) throws {
        for a in list {
            _ = try requireLoggedModel(a.modelID)
            try ArtifactRecord.validate(path: a.path)
        }
        for a in list { modelFiles[a.modelID, default: [:]][a.path] = a }
    }

    public func modelArtifacts(modelID: LoggedModelID, prefix: String?) throws -> [ModelArtifactRecord] {
        _ = try requireLoggedModel(modelID)
        return (modelFiles[modelID] ?? [:]).values
            .filter { a in prefix.map { a.path == $0 || a.path.hasPrefix($0 + "/") } ?? true }
            .sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    // MARK: Artifacts

    public func recordArtifacts(_ list: [ArtifactRecord]) throws {
        for a in list {
            _ = try requireRun(a.runID)
            try ArtifactRecord.validate(path: a.path)
        }
        for a in list { artifactRecords[a.runID, default: [:]][a.path] = a }
    }

    public func artifacts(runID: RunID, prefix: String?) throws -> [ArtifactRecord] {
        _ = try requireRun(runID)
        return (artifactRecords[runID] ?? [:]).values
            .filter { a in prefix.map { a.path == $0 || a.path.hasPrefix($0 + "/") } ?? true }
            .sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    // MARK: Registry

    public func createModel(_ model: RegisteredModel) throws {
        try RegisteredModel.validate(name: model.name)
        guard models[model.name] == nil else {
            throw FlywheelError.alreadyExists("registered model '\(model.name)' already exists")
        }
        models[model.name] = model
    }

    public func model(named name: String) -> RegisteredModel? { models[name] }
    public func listModels() -> [RegisteredModel] { models.values.sorted { $0.name < $1.name } }

    public func updateModel(_ model: RegisteredModel) throws {
        guard models[model.name] != nil else { throw FlywheelError.notFound("registered model '\(model.name)' not found") }
        models[model.name] = model
    }

    private func requireModel(_ name: String) throws {
        guard models[name] != nil else { throw FlywheelError.notFound("registered model '\(name)' not found") }
    }

    public func createModelVersion(_ new: NewModelVersion, by who: Attribution, at time: Timestamp) throws -> ModelVersion {
        try requireModel(new.modelName)
        if let r = new.runID { _ = try requireRun(r) }
        let number = (versions[new.modelName]?.last?.version ?? 0) + 1
        let v = ModelVersion(
            modelName: new.modelName, version: number, runID: new.runID, digest: new.digest, source: new.source,
            signature: new.signature, description: new.description, status: .ready, labels: new.labels,
            createdAt: time, updatedAt: time)
        versions[new.modelName, default: []].append(v)
        events[new.modelName, default: []].append(
            RegistryEvent(modelName: new.modelName, kind: .versionCreated, version: number, status: .ready,
                          actor: who.actor, reason: who.reason, time: time))
        return v
    }

    public func modelVersion(model: String, version: Int) -> ModelVersion? {
        guard deletedVersions[model]?.contains(version) != true else { return nil }
        return versions[model]?.first { $0.version == version }
    }

    public func modelVersions(model: String) throws -> [ModelVersion] {
        try requireModel(model)
        let deleted = deletedVersions[model] ?? []
        return (versions[model] ?? []).filter { !deleted.contains($0.version) }
    }

    private func requireVersion(_ model: String, _ version: Int) throws -> Int {
        try requireModel(model)
        guard deletedVersions[model]?.contains(version) != true, let i = versions[model]?.firstIndex(where: { $0.version == version }) else {
            throw FlywheelError.notFound("model '\(model)' has no version \(version)")
        }
        return i
    }

    public func setVersionStatus(model: String, version: Int, status: ModelVersionStatus, by who: Attribution, at time: Timestamp) throws {
        let i = try requireVersion(model, version)
        // invariant: requireVersion found index i in versions[model]
        let old = versions[model]![i].status
        versions[model]![i].status = status
        versions[model]![i].updatedAt = time
        events[model, default: []].append(
            RegistryEvent(modelName: model, kind: .statusChanged, version: version, status: status, previousStatus: old,
                          actor: who.actor, reason: who.reason, time: time))
    }

    public func setAlias(model: String, alias: String, version: Int, by who: Attribution, at time: Timestamp) throws -> Int? {
        try validateAlias(alias)
        _ = try requireVersion(model, version)
        let old = aliasTable[model]?[alias]
        aliasTable[model, default: [:]][alias] = version
        events[model, default: []].append(
            RegistryEvent(modelName: model, kind: .aliasSet, alias: alias, version: version, previousVersion: old,
                          actor: who.actor, reason: who.reason, time: time))
        return old
    }

    public func deleteAlias(model: String, alias: String, by who: Attribution, at time: Timestamp) throws -> Int {
        try requireModel(model)
        guard let old = aliasTable[model]?.removeValue(forKey: alias) else {
            throw FlywheelError.notFound("model '\(model)' has no alias '\(alias)'")
        }
        events[model, default: []].append(
            RegistryEvent(modelName: model, kind: .aliasDeleted, alias: alias, previousVersion: old,
                          actor: who.actor, reason: who.reason, time: time))
        return old
    }

    public func aliases(model: String) throws -> [String: Int] {
        try requireModel(model)
        return aliasTable[model] ?? [:]
    }

    public func renameModel(_ name: String, to newName: String, by who: Attribution, at time: Timestamp) throws {
        try RegisteredModel.validate(name: newName)
        guard var m = models[name] else { throw FlywheelError.notFound("registered model '\(name)' not found") }
        guard models[newName] == nil else { throw FlywheelError.alreadyExists("registered model '\(newName)' already exists") }
        models[name] = nil
        m.name = newName
        m.updatedAt = time
        models[newName] = m
        versions[newName] = versions.removeValue(forKey: name)?.map { v in
            var v = v
            v.modelName = newName
            return v
        }
        aliasTable[newName] = aliasTable.removeValue(forKey: name)
        deletedVersions[newName] = deletedVersions.removeValue(forKey: name)
        events[newName] = events.removeValue(forKey: name)?.map { e in
            var e = e
            e.modelName = newName
            return e
        }
        events[newName, default: []].append(
            RegistryEvent(modelName: newName, kind: .renamed, actor: who.actor, reason: who.reason.isEmpty ? "renamed from \(name)" : who.reason, time: time))
        let old = "\(name)/"
        func moved(_ r: ResourceRef) -> ResourceRef {
            guard r.kind == .modelVersion, r.id.hasPrefix(old) else { return r }
            return ResourceRef(kind: .modelVersion, id: newName + "/" + r.id.dropFirst(old.count))
        }
        edges = edges.map { LineageEdge(source: moved($0.source), target: moved($0.target), relation: $0.relation, createdAt: $0.createdAt) }
    }

    public func deleteModel(named name: String) throws {
        try requireModel(name)
        models[name] = nil
        versions[name] = nil
        aliasTable[name] = nil
        deletedVersions[name] = nil
        events[name] = nil
        let prefix = "\(name)/"
        edges.removeAll { e in [e.source, e.target].contains { $0.kind == .modelVersion && $0.id.hasPrefix(prefix) } }
    }

    public func updateModelVersion(_ v: ModelVersion) throws {
        let i = try requireVersion(v.modelName, v.version)
        // invariant: requireVersion found index i in versions[model]
        versions[v.modelName]![i].description = v.description
        versions[v.modelName]![i].labels = v.labels
        versions[v.modelName]![i].updatedAt = v.updatedAt
    }

    public func deleteModelVersion(model: String, version: Int, by who: Attribution, at time: Timestamp) throws {
        _ = try requireVersion(model, version)
        for (alias, v) in (aliasTable[model] ?? [:]).sorted(by: { $0.key < $1.key }) where v == version {
            aliasTable[model]?[alias] = nil
            events[model, default: []].append(
                RegistryEvent(modelName: model, kind: .aliasDeleted, alias: alias, previousVersion: version, actor: who.actor,
                              reason: "its version was deleted", time: time))
        }
        deletedVersions[model, default: []].insert(version)
        events[model, default: []].append(
            RegistryEvent(modelName: model, kind: .versionDeleted, version: version, actor: who.actor, reason: who.reason, time: time))
    }

    public func registryEvents(model: String) throws -> [RegistryEvent] {
        try requireModel(model)
        return events[model] ?? []
    }

    // MARK: Lineage

    public func addLineage(_ new: [LineageEdge]) {
        for e in new where !edges.contains(where: { $0.source == e.source && $0.target == e.target && $0.relation == e.relation }) {
            edges.append(e)
        }
    }

    public func lineage(of ref: ResourceRef, direction: LineageDirection) -> [LineageEdge] {
        edges.filter { direction == .upstream ? $0.target == ref : $0.source == ref }
            .sorted { a, b in
                (a.createdAt.millisecondsSince1970, a.source.description, a.target.description, a.relation)
                    < (b.createdAt.millisecondsSince1970, b.source.description, b.target.description, b.relation)
            }
    }

    // MARK: Pipelines

    public func createPipelineRun(_ run: PipelineRun) throws {
        guard pipelineRuns[run.id] == nil else { throw FlywheelError.alreadyExists("pipeline run \(run.id) already exists") }
        if let r = run.resumedFrom, pipelineRuns[r] == nil { throw FlywheelError.notFound("pipeline run \(r) not found") }
        if let t = run.trackingRunID, runs[t] == nil { throw FlywheelError.notFound("run \(t) not found") }
        pipelineRuns[run.id] = run
    }

    public func updatePipelineRun(id: PipelineRunID, status: PipelineRunStatus, endTime: Timestamp?) throws {
        guard var r = pipelineRuns[id] else { throw FlywheelError.notFound("pipeline run \(id) not found") }
        r.status = status
        r.endTime = endTime
        pipelineRuns[id] = r
    }

    public func pipelineRun(id: PipelineRunID) -> PipelineRun? { pipelineRuns[id] }

    public func listPipelineRuns(pipeline: String?, limit: Int) -> [PipelineRun] {
        let all = pipelineRuns.values.filter { pipeline == nil || $0.pipeline == pipeline }
        return Array(all.sorted { ($0.startTime, $0.id) > ($1.startTime, $1.id) }.prefix(max(limit, 0)))
    }

    public func recordStepAttempt(_ a: StepAttempt) throws {
        guard pipelineRuns[a.pipelineRunID] != nil else { throw FlywheelError.notFound("pipeline run \(a.pipelineRunID) not found") }
        var list = attempts[a.pipelineRunID] ?? []
        if let i = list.firstIndex(where: { $0.step == a.step && $0.attempt == a.attempt }) { list[i] = a } else { list.append(a) }
        attempts[a.pipelineRunID] = list
    }

    public func stepAttempts(pipelineRunID: PipelineRunID) -> [StepAttempt] {
        (attempts[pipelineRunID] ?? []).sorted { ($0.startTime, $0.step, $0.attempt) < ($1.startTime, $1.step, $1.attempt) }
    }

    public func cachedStep(key: String) -> StepAttempt? {
        let hits = attempts.values.joined().filter { $0.cacheKey == key && $0.status == .succeeded }
        return hits.min { a, b in
            let ea = a.endTime ?? a.startTime, eb = b.endTime ?? b.startTime
            if ea != eb { return ea > eb }
            return (a.pipelineRunID, a.step, a.attempt) < (b.pipelineRunID, b.step, b.attempt)
        }
    }

    public func claimTrigger(_ key: String, pipeline: String, at time: Timestamp) -> Bool {
        claims.insert(key).inserted
    }

    public func submitEvent(_ e: PipelineTriggerEvent) -> Bool {
        guard !triggerEvents.contains(where: { $0.dedupeKey == e.dedupeKey }) else { return false }
        var stored = e
        stored.id = Int64(triggerEvents.count + 1)
        stored.consumedAt = nil
        triggerEvents.append(stored)
        return true
    }

    public func pendingEvents(limit: Int) -> [PipelineTriggerEvent] {
        Array(triggerEvents.filter { $0.consumedAt == nil }.prefix(max(limit, 0)))
    }

    public func consumeEvent(id: Int64, at time: Timestamp) -> Bool {
        guard let i = triggerEvents.firstIndex(where: { $0.id == id }), triggerEvents[i].consumedAt == nil else { return false }
        triggerEvents[i].consumedAt = time
        return true
    }

    // MARK: Deployments

    public func applyDeployment(name: String, spec: String, actor: String, at time: Timestamp) throws -> DeploymentRevision {
        try DeploymentRevision.validate(name: name)
        let list = deploymentRevisions[name] ?? []
        if let last = list.last, last.action == .applied, last.spec == spec { return last }
        let r = DeploymentRevision(name: name, revision: list.count + 1, action: .applied, spec: spec, actor: actor, time: time)
        deploymentRevisions[name] = list + [r]
        return r
    }

    public func deployment(named name: String) -> DeploymentRevision? {
        deploymentRevisions[name]?.last.flatMap { $0.action == .applied ? $0 : nil }
    }

    public func listDeployments() -> [DeploymentRevision] {
        deploymentRevisions.keys.sorted().compactMap { deployment(named: $0) }
    }

    public func deleteDeployment(named name: String, actor: String, at time: Timestamp) throws -> DeploymentRevision {
        guard let last = deployment(named: name) else { throw FlywheelError.notFound("deployment '\(name)' not found") }
        let r = DeploymentRevision(name: name, revision: last.revision + 1, action: .deleted, spec: "", actor: actor, time: time)
        deploymentRevisions[name, default: []].append(r)
        return r
    }

    public func deploymentHistory(named name: String) -> [DeploymentRevision] { deploymentRevisions[name] ?? [] }

    // MARK: Prediction log and feedback

    private static func key(_ request: String, _ index: Int) -> String { "\(request)#\(index)" }

    public func appendPredictions(_ records: [PredictionRecord]) {
        for r in records where loggedKeys.insert(Self.key(r.requestID, r.index)).inserted {
            var stored = r
            stored.feedback = nil
            predictionLog.append(stored)
        }
    }

    public func predictions(_ q: PredictionQuery) -> [PredictionRecord] {
        let hits = predictionLog.filter { r in
            (q.deployment == nil || r.deployment == q.deployment) && (q.since.map { r.time >= $0 } ?? true)
                && (q.until.map { r.time < $0 } ?? true)
        }.sorted { ($0.time, $0.requestID, $0.index) < ($1.time, $1.requestID, $1.index) }
        return hits.prefix(max(q.limit, 0)).map { r in
            var out = r
            out.feedback = feedbackLabels[Self.key(r.requestID, r.index)]
            return out
        }
    }

    public func recordFeedback(_ labels: [FeedbackLabel]) -> Int {
        var matched = 0
        for l in labels {
            let k = Self.key(l.requestID, l.index)
            feedbackLabels[k] = l.label
            if loggedKeys.contains(k) { matched += 1 }
        }
        return matched
    }

    // MARK: Monitors and alerts

    public func applyMonitor(name: String, spec: String, actor: String, at time: Timestamp) throws -> MonitorRecord {
        try DeploymentRevision.validate(name: name)
        var m = monitors[name] ?? MonitorRecord(name: name, spec: spec, actor: actor, createdAt: time, updatedAt: time)
        m.spec = spec
        m.actor = actor
        m.updatedAt = time
        monitors[name] = m
        return m
    }

    public func monitor(named name: String) -> MonitorRecord? { monitors[name] }
    public func listMonitors() -> [MonitorRecord] { monitors.values.sorted { $0.name < $1.name } }

    public func deleteMonitor(named name: String) throws {
        guard monitors.removeValue(forKey: name) != nil else { throw FlywheelError.notFound("monitor '\(name)' not found") }
    }

    public func recordMonitorCheck(_ check: MonitorCheck) -> MonitorCheck {
        var c = check
        c.id = Int64(checks.count + 1)
        // As SQL stores it: a non-finite score is no score.
        for i in c.results.indices {
            if let s = c.results[i].score, !s.isFinite { c.results[i].score = nil }
            if let t = c.results[i].threshold, !t.isFinite { c.results[i].threshold = nil }
        }
        checks.append(c)
        return c
    }

    public func monitorChecks(monitor: String, since: Timestamp?, limit: Int) -> [MonitorCheck] {
        Array(checks.filter { c in c.monitor == monitor && (since.map { c.time >= $0 } ?? true) }.suffix(max(limit, 0)))
    }

    public func raiseAlert(monitor: String, rule: String, message: String, at time: Timestamp, checkID: Int64) -> AlertRaise {
        let latest = alertList.lastIndex { $0.monitor == monitor && $0.rule == rule }
        if let i = latest, alertList[i].state == .firing {
            alertList[i].occurrences += 1
            if time >= alertList[i].lastSeenAt {  // a check of an earlier window (--at) only counts
                alertList[i].lastSeenAt = time
                alertList[i].message = message
            }
            return AlertRaise(alert: alertList[i], opened: false, previousActionsAt: nil)
        }
        var alert = Alert(monitor: monitor, rule: rule, state: .firing, message: message, firedAt: time, lastSeenAt: time, checkID: checkID)
        alert.id = Int64(alertList.count + 1)
        alertList.append(alert)
        return AlertRaise(alert: alert, opened: true, previousActionsAt: latest.flatMap { alertList[$0].actionsAt })
    }

    public func resolveAlert(monitor: String, rule: String, at time: Timestamp) -> Alert? {
        guard let i = alertList.lastIndex(where: { $0.monitor == monitor && $0.rule == rule }), alertList[i].state == .firing else { return nil }
        alertList[i].state = .resolved
        alertList[i].resolvedAt = time
        return alertList[i]
    }

    public func setAlertActionsTime(alertID: Int64, _ time: Timestamp?) throws -> Alert {
        guard let i = alertList.firstIndex(where: { $0.id == alertID }) else { throw FlywheelError.notFound("alert \(alertID) not found") }
        alertList[i].actionsAt = time
        return alertList[i]
    }

    public func alerts(monitor: String?, state: AlertState?, limit: Int) -> [Alert] {
        Array(alertList.reversed().filter { a in (monitor.map { a.monitor == $0 } ?? true) && (state.map { a.state == $0 } ?? true) }.prefix(max(limit, 0)))
    }

    public func recordAlertAction(_ action: AlertActionRecord) throws {
        guard alertList.contains(where: { $0.id == action.alertID }) else { throw FlywheelError.notFound("alert \(action.alertID) not found") }
        actions.append(action)
    }
    public func alertActions(alertID: Int64) -> [AlertActionRecord] { actions.filter { $0.alertID == alertID } }

    public func queryPredictionLog(sql: String, since: Timestamp, until: Timestamp) throws -> [[String: JSONValue]] {
        throw FlywheelError.unsupported("the in-memory store runs no SQL: query monitors need SQLite or PostgreSQL")
    }
}
