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

            api.post("runs/create") { request, _ in try await createRun(try await body(request)) }
            api.get("runs/get") { request, _ in
                let id = try MLflowJSON.runID(query(request, "run_id", alternative: "run_uuid"))
                return try MLflowJSON.response(["run": MLflowJSON.run(try await detail(id), artifacts: artifactRoot)])
            }
            api.post("runs/update") { request, _ in try await updateRun(try await body(request)) }
            api.post("runs/log-metric") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await loggable(id)
                try await tracking.logBatch(id, metrics: [try MLflowJSON.metric(b)])
                return MLflowJSON.empty()
            }
            api.post("runs/log-parameter") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await loggable(id)
                try await tracking.logBatch(id, params: [Param(key: try MLflowJSON.string(b, "key"), value: try MLflowJSON.string(b, "value"))])
                return MLflowJSON.empty()
            }
            api.post("runs/set-tag") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await loggable(id)
                try await setTags(id, [Tag(key: try MLflowJSON.string(b, "key"), value: try MLflowJSON.string(b, "value"))])
                return MLflowJSON.empty()
            }
            api.post("runs/delete-tag") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                _ = try await tracking.run(id)
                try await store.deleteTag(runID: id, key: try MLflowJSON.string(b, "key"))
                return MLflowJSON.empty()
            }
            api.post("runs/log-batch") { request, _ in
                let b = try await body(request)
                let id = try MLflowJSON.runID(b)
                try await loggable(id)
                let metrics = try MLflowJSON.list(b, "metrics").map(MLflowJSON.metric)
                let params = try MLflowJSON.list(b, "params").map { Param(key: try MLflowJSON.string($0, "key"), value: try MLflowJSON.string($0, "value")) }
                let tags = try MLflowJSON.list(b, "tags").map { Tag(key: try MLflowJSON.string($0, "key"), value: try MLflowJSON.string($0, "value")) }
                guard metrics.count <= 1000, params.count <= 100, tags.count <= 100 else {
                    throw FlywheelError.invalidArgument("a batch holds at most 1000 metrics, 100 params and 100 tags")
                }
                try await tracking.logBatch(id, metrics: metrics, params: params, tags: [])
                if !tags.isEmpty { try await setTags(id, tags) }
                return MLflowJSON.empty()
            }
            api.post("runs/search") { request, _ in try await searchRuns(try await body(request)) }
            api.get("metrics/get-history") { request, _ in
                let id = try MLflowJSON.runID(query(request, "run_id", alternative: "run_uuid"))
                _ = try await tracking.run(id)
                let key = try query(request, "metric_key")
                let history = try await store.metricHistory(runID: id, key: key)
                return try MLflowJSON.response(["metrics": .array(history.map(MLflowJSON.metric))])
            }
            // MLflow 3's logged models (`mlflow.<flavor>.log_model`) are not stored here; listing a
            // run's artifacts asks for them, and the true answer is none.
            api.post("logged-models/search") { request, _ in
                let b = try await body(request)
                for id in try MLflowJSON.list(b, "experiment_ids") {
                    guard case .string(let s) = id else { throw FlywheelError.invalidArgument("experiment_ids must be a list of strings") }
                    _ = try await experiment(id: s)
                }
                return try MLflowJSON.response(["models": .array([])])
            }
            addRegistryRoutes(to: api)
            api.get("artifacts/list") { request, _ in
                let id = try MLflowJSON.runID(query(request, "run_id", alternative: "run_uuid"))
                let run = try await tracking.run(id)
                let path = MLflowJSON.formQuery(request)["path"] ?? ""
                return try await listArtifacts(id, under: path, root: "\(artifactRoot(run))")
            }
        }

        // The artifact proxy: paths are EXPERIMENT/RUN/artifacts/LOGICAL_PATH.
        let artifacts = router.group("/api/2.0/mlflow-artifacts/artifacts")
        artifacts.get { request, _ in
            let path = MLflowJSON.formQuery(request)["path"] ?? ""
            let (run, logical) = try await locate(path, allowRoot: true)
            return try await listArtifacts(run.id, under: logical, root: nil)
        }
        artifacts.get("**") { request, context in
            let (run, logical) = try await locate(Self.decodedPath(context), allowRoot: false)
            guard let record = try await store.artifacts(runID: run.id, prefix: nil).first(where: { $0.path == logical }) else {
                throw FlywheelError.notFound("run \(run.id) has no artifact '\(logical)'")
            }
            let data = try await blobs.data(record.digest)
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        artifacts.put("**") { request, context in
            let (run, logical) = try await locate(Self.decodedPath(context), allowRoot: false)
            try ArtifactRecord.validate(path: logical)
            var request = request
            let buffer = try await JSONBody.bytes(&request, limit: maxArtifactBytes, what: "the artifact")
            let info = try await blobs.put(Data(buffer.readableBytesView))
            try await store.recordArtifacts([
                ArtifactRecord(runID: run.id, path: logical, digest: info.digest, size: info.size, createdAt: SystemWallClock().now())
            ])
            return MLflowJSON.empty()
        }
    }

    /// The catch-all path with each segment percent-decoded (`my%20model.pkl` is `my model.pkl`).
    static func decodedPath(_ context: Context) throws -> String {
        try context.parameters.getCatchAll().map { segment in
            guard let s = String(segment).removingPercentEncoding else {
                throw FlywheelError.invalidArgument("artifact path segment '\(segment)' has a malformed percent escape")
            }
            return s
        }.joined(separator: "/")
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
        // view_type: ACTIVE_ONLY (default), DELETED_ONLY, ALL.
        let view = b["view_type"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "ACTIVE_ONLY"
        var all = try await store.listExperiments(includeArchived: view != "ACTIVE_ONLY")
        if view == "DELETED_ONLY" { all = all.filter(\.archived) }
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

    /// MLflow logs to any run that exists (finished ones too; only deleted runs refuse).
    func loggable(_ id: RunID) async throws { _ = try await tracking.run(id) }

    func setTags(_ id: RunID, _ tags: [Tag]) async throws {
        for t in tags { try TrackingRules.validate(key: t.key, kind: "tag") }
        try await store.logBatch(runID: id, params: [], metrics: [], tags: tags)
        // The run's name is a tag in MLflow; keep Flywheel's name in step.
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
        if case .string(let t)? = b["page_token"], !t.isEmpty { query.pageToken = t }
        try query.validate()
        let page = try await tracking.search(query)
        var out: [String: JSONValue] = ["runs": .array(page.runs.map { MLflowJSON.run($0, artifacts: artifactRoot) })]
        if let next = page.nextPageToken { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }

    // MARK: Artifacts

    /// EXPERIMENT/RUN/artifacts[/PATH] → the run and PATH.
    func locate(_ path: String, allowRoot: Bool) async throws -> (Run, String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 3, parts[2] == "artifacts", allowRoot || parts.count > 3 else {
            throw FlywheelError.invalidArgument("artifact path '\(path)' is not valid: expected EXPERIMENT_ID/RUN_ID/artifacts/PATH")
        }
        let run = try await detail(RunID(parts[1])).run
        guard run.experimentID.rawValue == parts[0] else {
            throw FlywheelError.notFound("run \(run.id) is not in experiment \(parts[0])")
        }
        return (run, parts.dropFirst(3).joined(separator: "/"))
    }

    /// The direct children of `path` among a run's artifacts: files with their sizes, and folders.
    func listArtifacts(_ id: RunID, under path: String, root: String?) async throws -> Response {
        let clean = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let all = try await store.artifacts(runID: id, prefix: clean.isEmpty ? nil : clean)
        var files: [String: (isDir: Bool, size: Int64)] = [:]
        for a in all {
            let rest = clean.isEmpty ? a.path : String(a.path.dropFirst(clean.count + 1))
            guard !rest.isEmpty else { continue }  // `path` names a file, not a folder: no children
            if let slash = rest.firstIndex(of: "/") {
                files[String(rest[..<slash]), default: (true, 0)] = (true, 0)
            } else {
                files[rest] = (false, a.size)
            }
        }
        // The proxy lists paths relative to the listed folder; the tracking API relative to the run's root.
        let entries: [JSONValue] = files.sorted { $0.key < $1.key }.map { name, f in
            var o: [String: JSONValue] = ["path": .string(root == nil || clean.isEmpty ? name : clean + "/" + name), "is_dir": .bool(f.isDir)]
            if !f.isDir { o["file_size"] = .number(Double(f.size)) }
            return .object(o)
        }
        var out: [String: JSONValue] = ["files": .array(entries)]
        if let root { out["root_uri"] = .string(root) }
        return try MLflowJSON.response(out)
    }

    // MARK: Requests

    func body(_ request: Request) async throws -> JSONValue {
        var request = request
        let data = try await JSONBody.json(&request, limit: maxBodyBytes)
        if data.isEmpty { return .object([:]) }
        let value = try JSONValue(parsing: data)
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
