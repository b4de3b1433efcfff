import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The MLflow tracking REST API (`/api/2.0/mlflow/…`, also under `/ajax-api/2.0/mlflow/…`) and
/// its artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/…`), over Flywheel's own store, so
/// the `mlflow` Python client logs here unchanged: experiments, runs, params, metrics, tags,
/// metric history, search, and artifacts (runs report `mlflow-artifacts:/EXP/RUN/artifacts` as
/// their artifact URI, so the client uploads and downloads through this server).
///
/// Errors use MLflow's shape, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}`, with
/// its statuses (404 for a missing resource, 400 for bad input).
struct MLflowController<Context: RequestContext> {
    let store: any MetadataStore
    let blobs: any BlobStore
    let maxBodyBytes: Int
    let maxArtifactBytes: Int

    var tracking: TrackingService { TrackingService(store: store, blobs: blobs) }

    func addRoutes(to router: Router<Context>) {
        for prefix in ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"] {
            let api = router.group(RouterPath(prefix))
            api.post("experiments/create") { request, _ in try await createExperiment(try await body(request)) }
            api.get("experiments/get") { request, _ in
                try MLflowJSON.response(["experiment": MLflowJSON.experiment(try await experiment(id: try query(request, "experiment_id")))])
            }
            api.get("experiments/get-by-name") { request, _ in
                let name = try query(request, "experiment_name")
                guard let e = try await store.experiment(named: name) else {
                    throw FlywheelError.notFound("Could not find experiment with name '\(name)'")
                }
                return try MLflowJSON.response(["experiment": MLflowJSON.experiment(e)])
            }
            api.post("experiments/search") { request, _ in try await searchExperiments(try await body(request)) }
            api.get("experiments/search") { request, _ in try await searchExperiments(MLflowJSON.queryObject(request)) }
            api.post("experiments/delete") { request, _ in try await setArchived(try await body(request), true) }
            api.post("experiments/restore") { request, _ in try await setArchived(try await body(request), false) }
            api.post("experiments/update") { request, _ in
                let b = try await body(request)
                var e = try await experiment(id: try MLflowJSON.string(b, "experiment_id"))
                e.name = try MLflowJSON.string(b, "new_name")
                e.updatedAt = SystemWallClock().now()
                try await store.updateExperiment(e)
                return MLflowJSON.empty()
            }
            api.post("experiments/set-experiment-tag") { request, _ in
                let b = try await body(request)
                var e = try await experiment(id: try MLflowJSON.string(b, "experiment_id"))
                e.labels[try MLflowJSON.string(b, "key")] = try MLflowJSON.string(b, "value")
                e.updatedAt = SystemWallClock().now()
                try await store.updateExperiment(e)
                return MLflowJSON.empty()
            }

            api.post("experiments/delete-experiment-tag") { request, _ in
                let b = try await body(request)
                var e = try await experiment(id: try MLflowJSON.string(b, "experiment_id"))
                e.labels[try MLflowJSON.string(b, "key")] = nil
                e.updatedAt = SystemWallClock().now()
                try await store.updateExperiment(e)
                return MLflowJSON.empty()
            }

            api.post("runs/create") { request, _ in try await createRun(try await body(request)) }
            api.get("runs/get") { request, _ in
                let id = try MLflowJSON.runID(query(request, "run_id", alternative: "run_uuid"))
                let d = try await detail(id)
                return try MLflowJSON.response(["run": MLflowJSON.run(d, io: try await store.runIO(id: id), artifacts: artifactRoot)])
            }
            api.post("runs/delete") { request, _ in
                let id = try MLflowJSON.runID(try await body(request))
                _ = try await detail(id)
                try await store.setRunDeleted(id: id, at: SystemWallClock().now())
                return MLflowJSON.empty()
            }
            api.post("runs/restore") { request, _ in
                let id = try MLflowJSON.runID(try await body(request))
                _ = try await detail(id)
                try await store.setRunDeleted(id: id, at: nil)
                return MLflowJSON.empty()
            }
            api.post("runs/log-inputs") { request, _ in try await logInputs(try await body(request)) }
            api.post("runs/outputs") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await loggable(id)
                let outputs = try MLflowJSON.list(b, "models").map { o in
                    ModelOutput(modelID: LoggedModelID(try MLflowJSON.string(o, "model_id")), step: Int64(try MLflowJSON.int(o, "step") ?? 0))
                }
                for o in outputs { _ = try await loggedModel(id: o.modelID.rawValue) }
                try await store.logRunOutputs(runID: id, models: outputs)
                let now = SystemWallClock().now()
                try await store.addLineage(outputs.map { LineageEdge(source: .run(id), target: .loggedModel($0.modelID), relation: "produced", createdAt: now) })
                return MLflowJSON.empty()
            }
            api.post("runs/update") { request, _ in try await updateRun(try await body(request)) }
            api.post("runs/log-metric") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                let metric = try MLflowJSON.metric(b)
                try await tracking.logBatch(id, metrics: [metric])
                if let link = MLflowJSON.MetricLink(b) { try await linkMetrics([(metric, link)], run: id) }
                return MLflowJSON.empty()
            }
            api.post("runs/log-parameter") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await tracking.logBatch(id, params: [Param(key: try MLflowJSON.string(b, "key"), value: try MLflowJSON.string(b, "value"))])
                return MLflowJSON.empty()
            }
            api.post("runs/set-tag") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await setTags(id, [Tag(key: try MLflowJSON.string(b, "key"), value: try MLflowJSON.string(b, "value"))])
                return MLflowJSON.empty()
            }
            api.post("runs/delete-tag") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await loggable(id)
                try await store.deleteTag(runID: id, key: try MLflowJSON.string(b, "key"))
                return MLflowJSON.empty()
            }
            api.post("runs/log-batch") { request, _ in
                var request = request
                let bytes = try await JSONBody.json(&request, limit: maxBodyBytes)
                let b: MLflowJSON.Batch
                do { b = try MLflowJSON.batch(bytes, now: SystemWallClock().now()) } catch let e as FlywheelError where e.message.contains("line ") {
                    throw FlywheelError(.malformed, "the body is not valid JSON: \(e.message)")
                }
                guard let id = b.runID else { throw FlywheelError.invalidArgument("Missing value for required parameter 'run_id'") }
                guard b.metrics.count <= 1000, b.params.count <= 100, b.tags.count <= 100 else {
                    throw FlywheelError.invalidArgument("a batch holds at most 1000 metrics, 100 params and 100 tags")
                }
                try await tracking.logBatch(id, metrics: b.metrics, params: b.params, tags: b.tags)
                try await syncName(id, b.tags)
                if b.links.contains(where: { $0 != nil }) {
                    try await linkMetrics(zip(b.metrics, b.links).compactMap { m, l in l.map { (m, $0) } }, run: id)
                }
                return MLflowJSON.empty()
            }
            api.post("runs/log-model") { request, _ in
                // MLflow 2's record of a logged model: kept, as MLflow keeps it, in the run's
                // `mlflow.log-model.history` tag (a JSON list).
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                let model = try JSONValue(parsing: Data(try MLflowJSON.string(b, "model_json").utf8))
                let history = try await store.runData(id: id).tags["mlflow.log-model.history"]
                var list: [JSONValue] = []
                if let history, case .array(let a)? = try? JSONValue(parsing: Data(history.utf8)) { list = a }
                list.append(model)
                var w = JSONWriter()
                w.value(.array(list))
                try await setTags(id, [Tag(key: "mlflow.log-model.history", value: String(decoding: w.bytes, as: UTF8.self))])
                return MLflowJSON.empty()
            }
            api.get("metrics/get-history-bulk-interval") { request, _ in
                let q = MLflowJSON.queryObject(request, lists: ["run_ids"])
                let key = try MLflowJSON.string(q, "metric_key")
                let ids = try MLflowJSON.list(q, "run_ids").map { v -> RunID in
                    guard case .string(let s) = v else { throw FlywheelError.invalidArgument("run_ids must be strings") }
                    return try MLflowJSON.runID(s)
                }
                guard !ids.isEmpty, ids.count <= 100 else { throw FlywheelError.invalidArgument("run_ids must name 1 to 100 runs") }
                let start = try MLflowJSON.int(q, "start_step").map(Int64.init), end = try MLflowJSON.int(q, "end_step").map(Int64.init)
                let limit = try MLflowJSON.int(q, "max_results") ?? 25_000
                var out: [JSONValue] = []
                for id in ids {
                    // Evenly spaced steps within the range, as MLflow samples them, first and last kept.
                    let all = try await store.metricHistory(runID: id, key: key).filter { m in
                        (start.map { m.step >= $0 } ?? true) && (end.map { m.step <= $0 } ?? true)
                    }
                    let picked = all.count <= limit ? all : (0..<limit).map { all[$0 * (all.count - 1) / max(limit - 1, 1)] }
                    for m in picked {
                        guard case .object(var o) = MLflowJSON.metric(m) else { continue }
                        o["run_id"] = .string(id.rawValue)
                        out.append(.object(o))
                    }
                }
                return try MLflowJSON.response(["metrics": .array(out)])
            }
            api.post("runs/search") { request, _ in try await searchRuns(try await body(request)) }
            api.get("metrics/get-history") { request, _ in
                let id = try MLflowJSON.runID(query(request, "run_id", alternative: "run_uuid"))
                _ = try await tracking.run(id)
                let key = try query(request, "metric_key")
                let history = try await store.metricHistory(runID: id, key: key)
                return try MLflowJSON.response(["metrics": .array(history.map(MLflowJSON.metric))])
            }
            addLoggedModelRoutes(to: api)
            addRegistryRoutes(to: api)
            api.get("artifacts/list") { request, _ in
                let id = try MLflowJSON.runID(query(request, "run_id", alternative: "run_uuid"))
                let run = try await tracking.run(id)
                let path = MLflowJSON.formQuery(request)["path"] ?? ""
                let files = try await store.artifacts(runID: run.id, prefix: nil).map { ($0.path, $0.size) }
                return try ArtifactListing.response(files, under: path, root: artifactRoot(run))
            }
        }

        addArtifactRoutes(to: router)
        addPlainRoutes(to: router)
    }

    // MARK: Experiments

    /// An experiment by id; MLflow's clients use "0" for the default experiment when none is
    /// set, which is the one named "Default" here (made on first use).
    func experiment(id: String) async throws -> Experiment {
        if id == "0", try await store.experiment(id: ExperimentID(id)) == nil { return try await tracking.ensureExperiment(named: "Default") }
        guard let e = try await store.experiment(id: ExperimentID(id)) else {
            throw FlywheelError.notFound("No Experiment with id=\(id) exists")
        }
        return e
    }

    func createExperiment(_ b: JSONValue) async throws -> Response {
        let name = try MLflowJSON.string(b, "name")
        var labels: Labels = [:]
        for t in try MLflowJSON.list(b, "tags") { labels[try MLflowJSON.string(t, "key")] = try MLflowJSON.string(t, "value") }
        let e = try await store.createExperiment(NewExperiment(name: name, labels: labels), at: SystemWallClock().now())
        return try MLflowJSON.response(["experiment_id": .string(e.id.rawValue)])
    }

    func setArchived(_ b: JSONValue, _ archived: Bool) async throws -> Response {
        var e = try await experiment(id: try MLflowJSON.string(b, "experiment_id"))
        e.archived = archived
        e.updatedAt = SystemWallClock().now()
        try await store.updateExperiment(e)
        return MLflowJSON.empty()
    }

    func searchExperiments(_ b: JSONValue) async throws -> Response {
        let view = try MLflowJSON.viewType(b["view_type"])
        var all = try await store.listExperiments(includeArchived: view != .active)
        if view == .deleted { all = all.filter(\.archived) }
        if let filter = b["filter"], case .string(let f) = filter, !f.isEmpty {
            all = try MLflowJSON.filter(all, f, fields: ["name": { $0.name }], tags: { $0.labels })
        }
        let page = try MLflowJSON.page(all, b)
        var out: [String: JSONValue] = ["experiments": .array(page.items.map(MLflowJSON.experiment))]
        if let next = page.next { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }

    // MARK: Runs

    func artifactRoot(_ run: Run) -> String { "mlflow-artifacts:/\(run.experimentID.rawValue)/\(run.id.rawValue)/artifacts" }

    func detail(_ id: RunID) async throws -> RunDetail {
        guard let run = try await store.run(id: id) else { throw FlywheelError.notFound("Run '\(id)' not found") }
        return RunDetail(run: run, data: try await store.runData(id: id))
    }

    /// MLflow logs to any run that exists (finished ones too); a deleted run refuses, as MLflow's does.
    func loggable(_ id: RunID) async throws {
        guard let run = try await store.run(id: id) else { throw FlywheelError.notFound("Run '\(id)' not found") }
        guard run.deletedAt == nil else { throw TrackingRules.deletedRun(id) }
    }

    /// `log_inputs`: datasets (with their digest, source and tags such as the context) and logged
    /// models a run read; each dataset joins the run in lineage as `dataset:NAME@DIGEST`.
    func logInputs(_ b: JSONValue) async throws -> Response {
        let id = try MLflowJSON.runID(b)
        try await loggable(id)
        let datasets = try MLflowJSON.list(b, "datasets").map { input -> DatasetInput in
            guard let d = input["dataset"] else { throw FlywheelError.invalidArgument("Missing value for required parameter 'dataset'") }
            var tags: [String: String] = [:]
            for t in try MLflowJSON.keyValues(input, "tags") { tags[t.key] = t.value }
            return DatasetInput(
                name: try MLflowJSON.string(d, "name"), digest: try MLflowJSON.string(d, "digest"),
                sourceType: try optionalString(d, "source_type") ?? "", source: try optionalString(d, "source") ?? "",
                schema: try optionalString(d, "schema"), profile: try optionalString(d, "profile"), tags: tags)
        }
        let models = try MLflowJSON.list(b, "models").map { LoggedModelID(try MLflowJSON.string($0, "model_id")) }
        for m in models { _ = try await loggedModel(id: m.rawValue) }
        try await store.logRunInputs(runID: id, datasets: datasets, models: models)
        let now = SystemWallClock().now()
        try await store.addLineage(
            datasets.map { LineageEdge(source: $0.ref, target: .run(id), relation: "input", createdAt: now) }
                + models.map { LineageEdge(source: .loggedModel($0), target: .run(id), relation: "input", createdAt: now) })
        return MLflowJSON.empty()
    }

    func setTags(_ id: RunID, _ tags: [Tag]) async throws {
        for t in tags { try TrackingRules.validate(key: t.key, kind: "tag") }
        try await store.logBatch(runID: id, params: [], metrics: [], tags: tags)
        try await syncName(id, tags)
    }

    /// The run's name is a tag in MLflow; keep Flywheel's name in step.
    func syncName(_ id: RunID, _ tags: [Tag]) async throws {
        if let name = tags.last(where: { $0.key == "mlflow.runName" })?.value, !name.isEmpty {
            let run = try await detail(id).run
            try await store.updateRun(id: id, status: run.status, endTime: run.endTime, name: name)
        }
    }

    func createRun(_ b: JSONValue) async throws -> Response {
        let experimentID = try MLflowJSON.string(b, "experiment_id")
        let e = try await experiment(id: experimentID)
        guard !e.archived else { throw FlywheelError.invalidArgument("experiment \(experimentID) is deleted; restore it to log runs into it") }
        var tags: [Tag] = []
        for t in try MLflowJSON.list(b, "tags") { tags.append(Tag(key: try MLflowJSON.string(t, "key"), value: try MLflowJSON.string(t, "value"))) }
        // Every tag is checked before the run exists, so a refused request leaves nothing behind.
        for t in tags { try TrackingRules.validate(key: t.key, kind: "tag") }
        let id = RunID.generate()
        let start = try MLflowJSON.int(b, "start_time").map { Timestamp(millisecondsSince1970: Int64($0)) } ?? SystemWallClock().now()
        let given = b["run_name"].flatMap { if case .string(let s) = $0, !s.isEmpty { s } else { nil } }
            ?? tags.last(where: { $0.key == "mlflow.runName" })?.value
        var env = RunEnvironment()
        env.user = b["user_id"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? tags.last(where: { $0.key == "mlflow.user" })?.value
        let parent = tags.last(where: { $0.key == "mlflow.parentRunId" }).map { RunID($0.value) }
        let run = Run(
            id: id, experimentID: e.id, name: given ?? RunNames.make(from: id), status: .running, startTime: start, parentID: parent,
            labels: [:], environment: env)
        try await store.createRun(run)
        var all = tags
        if !all.contains(where: { $0.key == "mlflow.runName" }) { all.append(Tag(key: "mlflow.runName", value: run.name)) }
        try await setTags(id, all)
        return try MLflowJSON.response(["run": MLflowJSON.run(try await detail(id), artifacts: artifactRoot)])
    }

    func updateRun(_ b: JSONValue) async throws -> Response {
        let id = try MLflowJSON.runID(b)
        let current = try await detail(id).run
        var status = current.status
        if let s = b["status"] {
            guard case .string(let text) = s, let parsed = MLflowJSON.status(text) else {
                throw FlywheelError.invalidArgument("status '\(s)' is not valid: expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED")
            }
            status = parsed
        }
        var end = try MLflowJSON.int(b, "end_time").map { Timestamp(millisecondsSince1970: Int64($0)) } ?? current.endTime
        if !status.isTerminal { end = nil } else if end == nil { end = SystemWallClock().now() }
        let name = b["run_name"].flatMap { if case .string(let s) = $0, !s.isEmpty { s } else { nil } }
        try await store.updateRun(id: id, status: status, endTime: end, name: name)
        if let name { try await store.logBatch(runID: id, params: [], metrics: [], tags: [Tag(key: "mlflow.runName", value: name)]) }
        let run = try await detail(id)
        return try MLflowJSON.response(["run_info": MLflowJSON.runInfo(run.run, artifacts: artifactRoot)])
    }

    func searchRuns(_ b: JSONValue) async throws -> Response {
        let ids = try MLflowJSON.list(b, "experiment_ids").map { v -> ExperimentID in
            guard case .string(let s) = v else { throw FlywheelError.invalidArgument("experiment_ids must be a list of strings") }
            return ExperimentID(s)
        }
        var query = RunQuery(experimentIDs: ids)
        if case .string(let f)? = b["filter"], !f.trimmingCharacters(in: .whitespaces).isEmpty { query.filter = try RunFilter(parsing: f) }
        query.orderBy = try MLflowJSON.list(b, "order_by").flatMap { v -> [RunOrder] in
            guard case .string(let s) = v else { throw FlywheelError.invalidArgument("order_by must be a list of strings") }
            return try RunOrder.parseList(s)
        }
        query.limit = try MLflowJSON.int(b, "max_results") ?? 1000
        query.lifecycle = try MLflowJSON.viewType(b["run_view_type"])
        if case .string(let t)? = b["page_token"], !t.isEmpty { query.pageToken = t }
        try query.validate()
        let page = try await tracking.search(query)
        var out: [String: JSONValue] = ["runs": .array(page.runs.map { MLflowJSON.run($0, artifacts: artifactRoot) })]
        if let next = page.nextPageToken { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }

    // MARK: Requests

    func body(_ request: Request) async throws -> JSONValue {
        var request = request
        let data = try await JSONBody.json(&request, limit: maxBodyBytes)
        if data.isEmpty { return .object([:]) }
        let value: JSONValue
        do { value = try JSONValue(parsing: data) } catch let e as FlywheelError {
            throw FlywheelError(.malformed, "the body is not valid JSON: \(e.message)")
        }
        guard case .object = value else { throw FlywheelError.invalidArgument("the body must be a JSON object") }
        return value
    }

    func query(_ request: Request, _ name: String, alternative: String? = nil) throws -> String {
        let params = MLflowJSON.formQuery(request)
        if let v = params[name], !v.isEmpty { return v }
        if let alternative, let v = params[alternative], !v.isEmpty { return v }
        throw FlywheelError.invalidArgument("Missing value for required parameter '\(name)'")
    }
}
