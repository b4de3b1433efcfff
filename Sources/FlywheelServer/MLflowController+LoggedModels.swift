import FlywheelCore
import FlywheelRegistry
import Foundation
import HTTPTypes
import Hummingbird

/// MLflow 3's logged models (`/api/2.0/mlflow/logged-models…`): what `mlflow.<flavor>.log_model`
/// creates, uploads into and finalizes, and what `models:/m-…` and `runs:/RUN/NAME` resolve to.
/// A logged model's files go through the artifact proxy under `EXP/models/ID/artifacts/…`.
extension MLflowController {
    func addLoggedModelRoutes(to api: RouterGroup<Context>) {
        api.post("logged-models") { request, _ in
            let b = try await body(request)
            let e = try await experiment(id: try MLflowJSON.string(b, "experiment_id"))
            guard !e.archived else { throw FlywheelError.invalidArgument("experiment \(e.id) is deleted; restore it to log models into it") }
            let runID = try optionalString(b, "source_run_id").map(MLflowJSON.runID)
            if let runID { try await loggable(runID) }
            var params: [String: String] = [:]
            for p in try MLflowJSON.keyValues(b, "params") { params[p.key] = p.value }
            var tags: [String: String] = [:]
            for t in try MLflowJSON.keyValues(b, "tags") { tags[t.key] = t.value }
            let now = SystemWallClock().now()
            let model = LoggedModel(
                id: .generate(), experimentID: e.id, name: try optionalString(b, "name") ?? "model",
                modelType: try optionalString(b, "model_type") ?? "", sourceRunID: runID, params: params, tags: tags,
                createdAt: now, updatedAt: now)
            try await store.createLoggedModel(model)
            if let runID {
                try await store.addLineage([LineageEdge(source: .run(runID), target: .loggedModel(model.id), relation: "produced", createdAt: now)])
            }
            return try MLflowJSON.response(["model": MLflowJSON.loggedModel(model)])
        }
        api.post("logged-models/search") { request, _ in try await searchLoggedModels(try await body(request)) }
        api.get("logged-models/:model_id") { request, context in
            let allowDeleted = MLflowJSON.formQuery(request)["allow_deleted"] == "true"
            return try MLflowJSON.response(["model": MLflowJSON.loggedModel(try await loggedModel(context, allowDeleted: allowDeleted))])
        }
        api.patch("logged-models/:model_id") { request, context in
            // Finalizing: the client sends the outcome of its upload.
            let status = try MLflowJSON.loggedModelStatus(try await body(request)["status"])
            let m = try await changeLoggedModel(context) { $0.status = status }
            return try MLflowJSON.response(["model": MLflowJSON.loggedModel(m)])
        }
        api.delete("logged-models/:model_id") { _, context in
            let now = SystemWallClock().now()
            try await changeLoggedModel(context) { $0.deletedAt = now }
            return MLflowJSON.empty()
        }
        api.patch("logged-models/:model_id/tags") { request, context in
            let tags = try MLflowJSON.keyValues(try await body(request), "tags")
            for t in tags { try TrackingRules.validate(key: t.key, kind: "tag") }
            let m = try await changeLoggedModel(context) { m in for t in tags { m.tags[t.key] = t.value } }
            return try MLflowJSON.response(["model": MLflowJSON.loggedModel(m)])
        }
        api.delete("logged-models/:model_id/tags/:tag_key") { _, context in
            let key = try context.parameters.require("tag_key").removingPercentEncoding ?? ""
            try await changeLoggedModel(context) { m in
                guard m.tags.removeValue(forKey: key) != nil else {
                    throw FlywheelError.notFound("No tag with key '\(key)' found for logged model \(m.id)")
                }
            }
            return MLflowJSON.empty()
        }
        api.post("logged-models/:model_id/params") { request, context in
            let params = try MLflowJSON.keyValues(try await body(request), "params")
            for p in params { try TrackingRules.validate(key: p.key, kind: "param") }
            try await changeLoggedModel(context) { m in
                for p in params {
                    if let old = m.params[p.key], old != p.value { throw TrackingRules.paramConflict(key: p.key, old: old, new: p.value) }
                    m.params[p.key] = p.value
                }
            }
            return MLflowJSON.empty()
        }
        api.get("logged-models/:model_id/artifacts/directories") { request, context in
            let m = try await loggedModel(context, allowDeleted: false)
            let path = MLflowJSON.formQuery(request)["artifact_directory_path"] ?? ""
            let files = try await store.modelArtifacts(modelID: m.id, prefix: nil).map { ($0.path, $0.size) }
            return try ArtifactListing.response(files, under: path, root: MLflowJSON.loggedModelRoot(m))
        }
    }

    func optionalString(_ b: JSONValue, _ key: String) throws -> String? {
        switch b[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s.isEmpty ? nil : s
        default: throw FlywheelError.invalidArgument("parameter '\(key)' must be a string")
        }
    }

    func loggedModel(id: String, allowDeleted: Bool = false) async throws -> LoggedModel {
        guard let m = try await store.loggedModel(id: LoggedModelID(id)), allowDeleted || m.deletedAt == nil else {
            throw FlywheelError.notFound("Logged model with ID '\(id)' not found.")
        }
        return m
    }

    func loggedModel(_ context: Context, allowDeleted: Bool) async throws -> LoggedModel {
        try await loggedModel(id: try context.parameters.require("model_id"), allowDeleted: allowDeleted)
    }

    /// Changes a logged model that is not deleted, in one store transaction; stamps the update time.
    @discardableResult
    func changeLoggedModel(_ context: Context, _ change: @escaping @Sendable (inout LoggedModel) throws -> Void) async throws -> LoggedModel {
        try await changeLoggedModel(LoggedModelID(try context.parameters.require("model_id")), change)
    }

    @discardableResult
    func changeLoggedModel(_ id: LoggedModelID, _ change: @escaping @Sendable (inout LoggedModel) throws -> Void) async throws -> LoggedModel {
        let now = SystemWallClock().now()
        do {
            return try await store.updateLoggedModel(id: id) { m in
                guard m.deletedAt == nil else { throw FlywheelError.notFound("Logged model with ID '\(id)' not found.") }
                try change(&m)
                m.updatedAt = now
            }
        } catch let e as FlywheelError where e.code == .notFound && !e.message.hasPrefix("No tag") {
            throw FlywheelError.notFound("Logged model with ID '\(id)' not found.")
        }
    }

    /// Metrics logged with a `model_id` also belong to that model (MLflow shows them on it).
    func linkMetrics(_ metrics: [(Metric, MLflowJSON.MetricLink)], run: RunID) async throws {
        var byModel: [String: [LoggedModelMetric]] = [:]
        for (m, link) in metrics {
            byModel[link.modelID, default: []].append(
                LoggedModelMetric(metric: m, runID: run, datasetName: link.datasetName, datasetDigest: link.datasetDigest))
        }
        for (id, list) in byModel {
            try await changeLoggedModel(LoggedModelID(id)) { m in
                for x in list where !m.metrics.contains(x) { m.metrics.append(x) }
            }
        }
    }

    func searchLoggedModels(_ b: JSONValue) async throws -> Response {
        var ids: [ExperimentID] = []
        for v in try MLflowJSON.list(b, "experiment_ids") {
            guard case .string(let s) = v else { throw FlywheelError.invalidArgument("experiment_ids must be a list of strings") }
            ids.append(try await experiment(id: s).id)
        }
        var all = try await store.loggedModels(experimentIDs: ids)
        if case .string(let f)? = b["filter"], !f.trimmingCharacters(in: .whitespaces).isEmpty {
            all = try MLflowJSON.filter(
                all, f,
                fields: [
                    "name": { $0.name }, "model_id": { $0.id.rawValue }, "model_type": { $0.modelType },
                    "source_run_id": { $0.sourceRunID?.rawValue ?? "" }, "status": { MLflowJSON.loggedModelStatus($0.status) },
                ],
                maps: ["tags": { $0.tags }, "tag": { $0.tags }, "params": { $0.params }, "param": { $0.params }])
        }
        // order_by: [{field_name, ascending}] over the model's attributes; newest first by default.
        let orders: [(String, Bool)] = try MLflowJSON.list(b, "order_by").map { o in
            let field = try MLflowJSON.string(o, "field_name")
            let ascending = if case .bool(let a)? = o["ascending"] { a } else { true }
            guard ["name", "creation_timestamp", "creation_time", "last_updated_timestamp", "model_id"].contains(field) else {
                throw FlywheelError.invalidArgument("order_by field '\(field)' is not supported: expected name, creation_timestamp, last_updated_timestamp or model_id")
            }
            return (field, ascending)
        }
        if !orders.isEmpty {
            all.sort { a, b in
                for (field, asc) in orders {
                    let c: Int = switch field {
                    case "name": a.name == b.name ? 0 : (a.name < b.name ? -1 : 1)
                    case "model_id": a.id == b.id ? 0 : (a.id < b.id ? -1 : 1)
                    case "last_updated_timestamp": a.updatedAt == b.updatedAt ? 0 : (a.updatedAt < b.updatedAt ? -1 : 1)
                    default: a.createdAt == b.createdAt ? 0 : (a.createdAt < b.createdAt ? -1 : 1)
                    }
                    if c != 0 { return asc ? c < 0 : c > 0 }
                }
                return a.id < b.id
            }
        }
        let page = try MLflowJSON.page(all, b, defaultLimit: 100)
        var out: [String: JSONValue] = ["models": .array(page.items.map(MLflowJSON.loggedModel))]
        if let next = page.next { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }
}
