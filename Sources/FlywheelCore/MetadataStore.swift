/// Everything Flywheel records, one protocol per area so that a backend (SQLite, PostgreSQL, the
/// in-memory store) is written and tested area by area: ``TrackingStore`` (experiments, runs,
/// artifacts), ``LoggedModelStore``, ``RegistryStore`` (models, versions, aliases, lineage),
/// ``PipelineStore``, ``ServingStore`` (deployments, prediction log, feedback) and
/// ``MonitoringStore`` (monitors, checks, alerts). ``MetadataStore`` is all of them: what a
/// workspace opens and what most of Flywheel takes. Each area has its conformance suite
/// (Tests/FlywheelStoreTests/*ConformanceTests.swift) that every backend runs.
///
/// Backends keep these promises:
/// - each call is atomic: a batch is written whole or not at all;
/// - names are unique where the record says so, and a clash is ``FlywheelError/Code/alreadyExists``;
/// - a missing parent (experiment, run, model, version) is ``FlywheelError/Code/notFound``;
/// - params are write-once: the same value again is a no-op, another value is
///   ``FlywheelError/Code/conflict`` naming both;
/// - registry changes (alias moves, status changes) are recorded as ``RegistryEvent``s in the same
///   transaction as the change.
public protocol MetadataStore: TrackingStore, LoggedModelStore, RegistryStore, PipelineStore, ServingStore, MonitoringStore {}

/// Experiments, runs (params, metrics, tags, inputs and outputs) and their artifacts' records.
public protocol TrackingStore: Sendable {
    // MARK: Experiments
    func createExperiment(_ new: NewExperiment, at time: Timestamp) async throws -> Experiment
    func experiment(id: ExperimentID) async throws -> Experiment?
    func experiment(named name: String) async throws -> Experiment?
    /// All experiments, oldest first; archived ones only when asked.
    func listExperiments(includeArchived: Bool) async throws -> [Experiment]
    /// Replaces name, description, labels and the archived flag of an existing experiment.
    func updateExperiment(_ experiment: Experiment) async throws
    /// Per experiment that has any: how many active (not deleted) runs it holds and when the latest
    /// of them started (the experiments page, without reading the runs).
    func experimentActivity() async throws -> [ExperimentID: ExperimentActivity]

    // MARK: Runs
    func createRun(_ run: Run) async throws
    func run(id: RunID) async throws -> Run?
    /// Sets status and end time (and name, when given).
    func updateRun(id: RunID, status: RunStatus, endTime: Timestamp?, name: String?) async throws
    /// Params, metrics and tags in one transaction; see the write-once rule above. A deleted run
    /// refuses them (``TrackingRules/deletedRun(_:)``).
    func logBatch(runID: RunID, params: [Param], metrics: [Metric], tags: [Tag]) async throws
    func deleteTag(runID: RunID, key: String) async throws
    func runData(id: RunID) async throws -> RunData
    /// Every recorded value of one metric, by step then timestamp.
    func metricHistory(runID: RunID, key: String) async throws -> [Metric]
    func searchRuns(_ query: RunQuery) async throws -> RunPage
    /// Params, latest metrics and tags of many runs, only the keys in `only` (all when nil);
    /// a run that does not exist is left out.
    func runData(ids: [RunID], only: RunFields?) async throws -> [RunID: RunData]
    /// The distinct metric, param and tag keys these runs have: each kind sorted, the first
    /// `limit`, narrowed to keys that contain `containing` (ignoring ASCII case) when given, with the
    /// number of each kind in all.
    func runKeys(ids: [RunID], containing: String?, limit: Int) async throws -> RunKeys
    /// Marks a run deleted (`at` a time) or restores it (nil); its data stays either way.
    func setRunDeleted(id: RunID, at time: Timestamp?) async throws
    /// Records datasets and logged models a run read; one already recorded is kept as it was
    /// (its tags updated).
    func logRunInputs(runID: RunID, datasets: [DatasetInput], models: [LoggedModelID]) async throws
    /// Records logged models a run produced; one already recorded keeps its first step.
    func logRunOutputs(runID: RunID, models: [ModelOutput]) async throws
    /// A run's inputs and outputs, in the order they were first recorded.
    func runIO(id: RunID) async throws -> RunIO

    // MARK: Artifacts
    /// Records (or replaces) artifacts by logical path.
    func recordArtifacts(_ artifacts: [ArtifactRecord]) async throws
    /// A run's artifacts, by path, optionally those under `prefix/`.
    func artifacts(runID: RunID, prefix: String?) async throws -> [ArtifactRecord]
}

/// Registered models, versions, aliases and their history; lineage edges between anything.
public protocol RegistryStore: Sendable {
    // MARK: Registry
    func createModel(_ model: RegisteredModel) async throws
    func model(named name: String) async throws -> RegisteredModel?
    func listModels() async throws -> [RegisteredModel]
    func updateModel(_ model: RegisteredModel) async throws
    /// Renames a model; its versions, aliases, history and lineage follow. Records a `renamed` event.
    func renameModel(_ name: String, to newName: String, by who: Attribution, at time: Timestamp) async throws
    /// Removes a model with its versions, aliases and history (MLflow's `delete_registered_model`).
    func deleteModel(named name: String) async throws
    /// Assigns the next version number (1 for the first) and records a `version_created` event.
    func createModelVersion(_ new: NewModelVersion, by who: Attribution, at time: Timestamp) async throws -> ModelVersion
    func modelVersion(model: String, version: Int) async throws -> ModelVersion?
    /// The model's versions that are not deleted, by number.
    func modelVersions(model: String) async throws -> [ModelVersion]
    /// Replaces a version's description and labels.
    func updateModelVersion(_ version: ModelVersion) async throws
    /// Deletes a version: hidden from then on, its aliases removed (each an `alias_deleted`
    /// event), its number never reused; records a `version_deleted` event.
    func deleteModelVersion(model: String, version: Int, by who: Attribution, at time: Timestamp) async throws
    func setVersionStatus(model: String, version: Int, status: ModelVersionStatus, by who: Attribution, at time: Timestamp) async throws
    /// Points `alias` at `version` and returns the version it pointed at before, if any.
    @discardableResult
    func setAlias(model: String, alias: String, version: Int, by who: Attribution, at time: Timestamp) async throws -> Int?
    /// Removes `alias`, returning the version it pointed at; not found when it is not set.
    @discardableResult
    func deleteAlias(model: String, alias: String, by who: Attribution, at time: Timestamp) async throws -> Int
    /// Alias → version for one model.
    func aliases(model: String) async throws -> [String: Int]
    /// The model's registry events, oldest first.
    func registryEvents(model: String) async throws -> [RegistryEvent]

    // MARK: Lineage
    /// Adds edges; an edge already present is kept as it was.
    func addLineage(_ edges: [LineageEdge]) async throws
    /// Edges that end at `ref` (upstream) or start from it (downstream).
    func lineage(of ref: ResourceRef, direction: LineageDirection) async throws -> [LineageEdge]
}

/// Pipeline runs, step attempts, the step cache, trigger claims and events.
public protocol PipelineStore: Sendable {
    // MARK: Pipelines
    func createPipelineRun(_ run: PipelineRun) async throws
    func updatePipelineRun(id: PipelineRunID, status: PipelineRunStatus, endTime: Timestamp?) async throws
    func pipelineRun(id: PipelineRunID) async throws -> PipelineRun?
    /// Newest first; `pipeline` nil lists every pipeline's runs.
    func listPipelineRuns(pipeline: String?, limit: Int) async throws -> [PipelineRun]
    /// Inserts an attempt, or replaces the one with the same run, step and attempt number.
    func recordStepAttempt(_ attempt: StepAttempt) async throws
    /// A run's attempts in the order they started (step, then attempt, breaking ties).
    func stepAttempts(pipelineRunID: PipelineRunID) async throws -> [StepAttempt]
    /// The newest succeeded attempt, in any run, whose cache key is `key`.
    func cachedStep(key: String) async throws -> StepAttempt?
    /// Claims a trigger key (a file's digest, an event's dedupe key, a schedule's fire time) once:
    /// true for the first caller, false for every later one, across processes.
    func claimTrigger(_ key: String, pipeline: String, at time: Timestamp) async throws -> Bool
    /// Queues an event; false (and nothing queued) when an event with this dedupe key was submitted before.
    func submitEvent(_ event: PipelineTriggerEvent) async throws -> Bool
    /// Events not yet consumed, oldest first.
    func pendingEvents(limit: Int) async throws -> [PipelineTriggerEvent]
    /// Marks an event handled; false when another scheduler got there first.
    func consumeEvent(id: Int64, at time: Timestamp) async throws -> Bool
}

/// Deployment revisions, the prediction log and feedback labels.
public protocol ServingStore: Sendable {
    // MARK: Deployments
    /// Records a new revision applying `spec` under `name` (numbered one past the latest, deleted
    /// or not) and returns it; when the current revision already holds exactly this spec, returns
    /// that one and records nothing.
    func applyDeployment(name: String, spec: String, actor: String, at time: Timestamp) async throws -> DeploymentRevision
    /// The current revision, nil when the deployment never existed or was deleted last.
    func deployment(named name: String) async throws -> DeploymentRevision?
    /// Every current (not deleted) deployment, by name.
    func listDeployments() async throws -> [DeploymentRevision]
    /// Records a deletion revision; `not_found` when there is no current deployment of that name.
    func deleteDeployment(named name: String, actor: String, at time: Timestamp) async throws -> DeploymentRevision
    /// Every revision of `name`, oldest first.
    func deploymentHistory(named name: String) async throws -> [DeploymentRevision]

    // MARK: Prediction log and feedback
    /// Appends logged predictions in one transaction; an entry whose request ID and index are
    /// already logged is kept as it was.
    func appendPredictions(_ records: [PredictionRecord]) async throws
    /// Logged predictions matching `query`, oldest first, each with its feedback label if any.
    func predictions(_ query: PredictionQuery) async throws -> [PredictionRecord]
    /// Stores feedback labels (a later label for the same request and index replaces the earlier);
    /// returns how many named a logged prediction.
    func recordFeedback(_ labels: [FeedbackLabel]) async throws -> Int
}

/// Monitors, their checks, alerts and the actions alerts ran.
public protocol MonitoringStore: Sendable {
    // MARK: Monitors and alerts
    /// Stores a monitor's spec under its name (replacing an earlier one; `createdAt` is kept).
    func applyMonitor(name: String, spec: String, actor: String, at time: Timestamp) async throws -> MonitorRecord
    func monitor(named name: String) async throws -> MonitorRecord?
    /// Every monitor, by name.
    func listMonitors() async throws -> [MonitorRecord]
    /// Removes a monitor (its checks and alerts stay as history); `not_found` when there is none.
    func deleteMonitor(named name: String) async throws
    /// Records a check and its results in one transaction; returns it with its id.
    func recordMonitorCheck(_ check: MonitorCheck) async throws -> MonitorCheck
    /// A monitor's checks, oldest first: the latest `limit` of them, none before `since`.
    func monitorChecks(monitor: String, since: Timestamp?, limit: Int) async throws -> [MonitorCheck]
    /// A breach of a monitor's rule, in one transaction: counted on the alert firing for the rule
    /// (occurrences; last seen and message unless a later check was counted already), or else a
    /// new firing alert. Two checks of one monitor
    /// at once (the scheduler's and `monitor run`) never open two alerts or lose a count.
    func raiseAlert(monitor: String, rule: String, message: String, at time: Timestamp, checkID: Int64) async throws -> AlertRaise
    /// Resolves the alert firing for a monitor's rule, in one transaction; nil when none fires.
    func resolveAlert(monitor: String, rule: String, at time: Timestamp) async throws -> Alert?
    /// Sets when an alert's actions ran (only that field); `not_found` when there is no such alert.
    func setAlertActionsTime(alertID: Int64, _ time: Timestamp?) async throws -> Alert
    /// Alerts, newest first, filtered by monitor and state.
    func alerts(monitor: String?, state: AlertState?, limit: Int) async throws -> [Alert]
    func recordAlertAction(_ action: AlertActionRecord) async throws
    /// An alert's actions, oldest first.
    func alertActions(alertID: Int64) async throws -> [AlertActionRecord]
    /// Runs one read-only SQL query over the prediction log (`predictions`: request_id, idx,
    /// time in ms, deployment, model, version, features and output as JSON text, latency_us) and
    /// `feedback` (request_id, idx, label as JSON text, time), with `:since` and `:until` (ms)
    /// bound; returns its first row (the only one a monitor reads). Backends without SQL throw
    /// `unsupported`.
    func queryPredictionLog(sql: String, since: Timestamp, until: Timestamp) async throws -> [[String: JSONValue]]
}
