import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation
import HTTPTypes
import Hummingbird

/// MLflow's model registry endpoints over Flywheel's registry: registered models, versions
/// (MLflow sends versions as strings), aliases, and search by name. A version registered from
/// `runs:/RUN/PATH` keeps the run and the source; when PATH is one artifact file its digest is
/// the version's model file. Stages (deprecated in MLflow) are not offered: aliases are.
extension MLflowController {
    var registry: ModelRegistry { ModelRegistry(store: store, blobs: blobs) }

    func addRegistryRoutes(to api: RouterGroup<Context>) {
        api.post("registered-models/create") { request, _ in
            let b = try await body(request)
            var labels: Labels = [:]
            for t in try MLflowJSON.list(b, "tags") { labels[try MLflowJSON.string(t, "key")] = try MLflowJSON.string(t, "value") }
            let description = b["description"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
            let m = try await registry.createModel(name: try MLflowJSON.string(b, "name"), description: description, labels: labels)
            return try MLflowJSON.response(["registered_model": try await registeredModel(m)])
        }
        api.get("registered-models/get") { request, _ in
            let m = try await registry.model(try query(request, "name"))
            return try MLflowJSON.response(["registered_model": try await registeredModel(m)])
        }
        api.patch("registered-models/update") { request, _ in
            let b = try await body(request)
            var m = try await registry.model(try MLflowJSON.string(b, "name"))
            if case .string(let d)? = b["description"] { m.description = d }
            m.updatedAt = SystemWallClock().now()
            try await store.updateModel(m)
            return try MLflowJSON.response(["registered_model": try await registeredModel(m)])
        }
        api.post("registered-models/set-tag") { request, _ in
            let b = try await body(request)
            var m = try await registry.model(try MLflowJSON.string(b, "name"))
            m.labels[try MLflowJSON.string(b, "key")] = try MLflowJSON.string(b, "value")
            m.updatedAt = SystemWallClock().now()
            try await store.updateModel(m)
            return MLflowJSON.empty()
        }
        api.get("registered-models/search") { request, _ in try await searchModels(MLflowJSON.queryObject(request)) }
        api.post("registered-models/search") { request, _ in try await searchModels(try await body(request)) }
        api.post("registered-models/get-latest-versions") { request, _ in
            let b = try await body(request)
            let versions = try await registry.versions(try await registry.model(try MLflowJSON.string(b, "name")).name)
            let latest = versions.max { $0.version < $1.version }
            return try MLflowJSON.response(["model_versions": .array(try await latest.asyncMap(modelVersion).map { [$0] } ?? [])])
        }
        api.post("registered-models/alias") { request, _ in
            let b = try await body(request)
            let name = try MLflowJSON.string(b, "name"), alias = try MLflowJSON.string(b, "alias")
            let version = try Self.version(try MLflowJSON.string(b, "version"))
            _ = try await registry.setAlias(alias, model: name, version: version, by: Attribution(actor: "mlflow", reason: "set through the MLflow API"))
            return MLflowJSON.empty()
        }
        api.delete("registered-models/alias") { request, _ in
            // The client sends name and alias as a JSON body; other clients as query parameters.
            let b = try await body(request)
            let name = try (try? MLflowJSON.string(b, "name")) ?? query(request, "name")
            let alias = try (try? MLflowJSON.string(b, "alias")) ?? query(request, "alias")
            _ = try await registry.deleteAlias(alias, model: name, by: Attribution(actor: "mlflow", reason: "deleted through the MLflow API"))
            return MLflowJSON.empty()
        }
        api.get("registered-models/alias") { request, _ in
            let name = try query(request, "name"), alias = try query(request, "alias")
            guard let n = try await store.aliases(model: try await registry.model(name).name)[alias] else {
                throw FlywheelError.notFound("Registered model alias \(alias) not found.")
            }
            return try MLflowJSON.response(["model_version": try await modelVersion(try await registry.version(name, n))])
        }

        api.post("model-versions/create") { request, _ in
            let b = try await body(request)
            let name = try MLflowJSON.string(b, "name")
            _ = try await registry.model(name)
            let source = (try? MLflowJSON.string(b, "source")) ?? ""
            let runID = try b["run_id"].flatMap { v -> RunID? in
                guard case .string(let s) = v, !s.isEmpty else { return nil }
                return try MLflowJSON.runID(s)
            }
            if let runID, try await store.run(id: runID) == nil { throw FlywheelError.notFound("Run '\(runID)' not found") }
            var labels: Labels = [:]
            for t in try MLflowJSON.list(b, "tags") { labels[try MLflowJSON.string(t, "key")] = try MLflowJSON.string(t, "value") }
            let description = b["description"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
            let v = try await store.createModelVersion(
                NewModelVersion(
                    modelName: name, runID: runID, digest: try await digest(of: source, run: runID), source: source, description: description,
                    labels: labels),
                by: Attribution(actor: "mlflow", reason: "registered through the MLflow API"), at: SystemWallClock().now())
            if let runID {
                try await store.addLineage([LineageEdge(source: .run(runID), target: .modelVersion(name, v.version), relation: "registered", createdAt: v.createdAt)])
            }
            return try MLflowJSON.response(["model_version": try await modelVersion(v)])
        }
        api.get("model-versions/get") { request, _ in
            let v = try await registry.version(try query(request, "name"), try Self.version(try query(request, "version")))
            return try MLflowJSON.response(["model_version": try await modelVersion(v)])
        }
        api.get("model-versions/get-download-uri") { request, _ in
            let v = try await registry.version(try query(request, "name"), try Self.version(try query(request, "version")))
            return try MLflowJSON.response(["artifact_uri": .string(v.source)])
        }
        api.get("model-versions/search") { request, _ in try await searchVersions(MLflowJSON.queryObject(request)) }
        api.post("model-versions/search") { request, _ in try await searchVersions(try await body(request)) }
    }

    static func version(_ s: String) throws -> Int {
        guard let n = Int(s), n >= 1 else { throw FlywheelError.invalidArgument("version '\(s)' is not a version number") }
        return n
    }

    /// The model file behind `runs:/RUN/PATH` (or the proxy's `mlflow-artifacts:/EXP/RUN/artifacts/PATH`) when PATH is one artifact.
    func digest(of source: String, run: RunID?) async throws -> Digest? {
        var runID = run, path: String?
        if source.hasPrefix("runs:/") {
            let parts = source.dropFirst("runs:/".count).split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2 { runID = RunID(parts[0]); path = parts[1] }
        } else if source.hasPrefix("mlflow-artifacts:/") {
            let parts = source.dropFirst("mlflow-artifacts:/".count).split(separator: "/").map(String.init)
            if parts.count > 3, parts[2] == "artifacts" { runID = RunID(parts[1]); path = parts.dropFirst(3).joined(separator: "/") }
        }
        guard let runID, let path else { return nil }
        if let run, run != runID {
            throw FlywheelError.invalidArgument("source '\(source)' names run \(runID), but run_id is \(run)")
        }
        return try await store.artifacts(runID: runID, prefix: path).first { $0.path == path }?.digest
    }

    func registeredModel(_ m: RegisteredModel) async throws -> JSONValue {
        let versions = try await store.modelVersions(model: m.name)
        let aliases = try await store.aliases(model: m.name)
        var latest: [JSONValue] = []
        if let v = versions.max(by: { $0.version < $1.version }) { latest.append(try await modelVersion(v)) }
        return .object([
            "name": .string(m.name), "description": .string(m.description),
            "creation_timestamp": .number(Double(m.createdAt.millisecondsSince1970)),
            "last_updated_timestamp": .number(Double(m.updatedAt.millisecondsSince1970)),
            "latest_versions": .array(latest),
            "tags": .array(m.labels.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
            "aliases": .array(aliases.sorted { $0.key < $1.key }.map { .object(["alias": .string($0.key), "version": .string(String($0.value))]) }),
        ])
    }

    func modelVersion(_ v: ModelVersion) async throws -> JSONValue {
        let aliases = try await store.aliases(model: v.modelName).filter { $0.value == v.version }.keys.sorted()
        var o: [String: JSONValue] = [
            "name": .string(v.modelName), "version": .string(String(v.version)),
            "creation_timestamp": .number(Double(v.createdAt.millisecondsSince1970)),
            "last_updated_timestamp": .number(Double(v.updatedAt.millisecondsSince1970)),
            "current_stage": .string(v.status == .archived ? "Archived" : "None"), "description": .string(v.description),
            "source": .string(v.source), "status": .string("READY"),
            "tags": .array(v.labels.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
            "aliases": .array(aliases.map(JSONValue.string)),
        ]
        if let r = v.runID { o["run_id"] = .string(r.rawValue) }
        return .object(o)
    }

    func searchModels(_ b: JSONValue) async throws -> Response {
        var all = try await store.listModels()
        if case .string(let f)? = b["filter"], !f.isEmpty {
            all = try MLflowJSON.filter(all, f, fields: ["name": { $0.name }], tags: { $0.labels })
        }
        let page = try MLflowJSON.page(all, b)
        var out: [String: JSONValue] = ["registered_models": .array(try await page.items.asyncMap(registeredModel))]
        if let next = page.next { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }

    func searchVersions(_ b: JSONValue) async throws -> Response {
        var all: [ModelVersion] = []
        for m in try await store.listModels() { all += try await store.modelVersions(model: m.name) }
        if case .string(let f)? = b["filter"], !f.isEmpty {
            all = try MLflowJSON.filter(all, f, fields: ["name": { $0.modelName }, "run_id": { $0.runID?.rawValue ?? "" }, "source": { $0.source }], tags: { $0.labels })
        }
        all.sort { ($0.modelName, -$0.version) < ($1.modelName, -$1.version) }
        let page = try MLflowJSON.page(all, b)
        var out: [String: JSONValue] = ["model_versions": .array(try await page.items.asyncMap(modelVersion))]
        if let next = page.next { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }
}

extension Optional {
    func asyncMap<T>(_ f: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let w = self else { return nil }
        return try await f(w)
    }
}

extension Array {
    func asyncMap<T>(_ f: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for x in self { out.append(try await f(x)) }
        return out
    }
}
