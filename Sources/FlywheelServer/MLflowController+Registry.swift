import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation
import HTTPTypes
import Hummingbird

/// MLflow's model registry endpoints over Flywheel's registry: registered models, versions
/// (MLflow sends versions as strings), aliases, tags, renames, deletions, and the deprecated
/// stages mapped onto aliases (see ``RegistryStage``). A version registered from
/// `runs:/RUN/PATH` keeps the run and the source (when PATH is one artifact file its digest is the
/// version's model file); one from a logged model (`models:/m-…`) keeps the model's run.
extension MLflowController {
    var registry: ModelRegistry { ModelRegistry(store: store, blobs: blobs) }
    static var mlflowActor: String { "mlflow" }

    func addRegistryRoutes(to api: RouterGroup<Context>) {
        api.post("registered-models/create") { request, _ in
            let b = try await body(request)
            var labels: Labels = [:]
            for t in try MLflowJSON.keyValues(b, "tags") { labels[t.key] = t.value }
            let description = try optionalString(b, "description") ?? ""
            let m = try await registry.createModel(name: try MLflowJSON.string(b, "name"), description: description, labels: labels)
            return try MLflowJSON.response(["registered_model": try await registeredModel(m)])
        }
        api.get("registered-models/get") { request, _ in
            let m = try await registry.model(try query(request, "name"))
            return try MLflowJSON.response(["registered_model": try await registeredModel(m)])
        }
        api.post("registered-models/rename") { request, _ in
            let b = try await body(request)
            let name = try MLflowJSON.string(b, "name"), newName = try MLflowJSON.string(b, "new_name")
            try await store.renameModel(name, to: newName, by: Attribution(actor: Self.mlflowActor, reason: "renamed from \(name) through the MLflow API"), at: SystemWallClock().now())
            return try MLflowJSON.response(["registered_model": try await registeredModel(try await registry.model(newName))])
        }
        api.patch("registered-models/update") { request, _ in
            let b = try await body(request)
            var m = try await registry.model(try MLflowJSON.string(b, "name"))
            if case .string(let d)? = b["description"] { m.description = d }
            m.updatedAt = SystemWallClock().now()
            try await store.updateModel(m)
            return try MLflowJSON.response(["registered_model": try await registeredModel(m)])
        }
        api.delete("registered-models/delete") { request, _ in
            let name = try await fields(request, "name")[0]
            _ = try await registry.model(name)
            try await store.deleteModel(named: name)
            return MLflowJSON.empty()
        }
        api.post("registered-models/set-tag") { request, _ in
            let b = try await body(request)
            let key = try MLflowJSON.string(b, "key"), value = try MLflowJSON.string(b, "value")
            try TrackingRules.validate(key: key, kind: "tag")
            var m = try await registry.model(try MLflowJSON.string(b, "name"))
            m.labels[key] = value
            m.updatedAt = SystemWallClock().now()
            try await store.updateModel(m)
            return MLflowJSON.empty()
        }
        api.delete("registered-models/delete-tag") { request, _ in
            let f = try await fields(request, "name", "key")
            var m = try await registry.model(f[0])
            let key = f[1]
            guard m.labels[key] != nil else { throw FlywheelError.notFound("No tag with name: \(key) in registered model \(m.name)") }
            m.labels[key] = nil
            m.updatedAt = SystemWallClock().now()
            try await store.updateModel(m)
            return MLflowJSON.empty()
        }
        api.get("registered-models/search") { request, _ in try await searchModels(MLflowJSON.queryObject(request)) }
        api.post("registered-models/search") { request, _ in try await searchModels(try await body(request)) }
        api.post("registered-models/get-latest-versions") { request, _ in try await latestVersions(try await body(request)) }
        api.get("registered-models/get-latest-versions") { request, _ in try await latestVersions(MLflowJSON.queryObject(request, lists: ["stages"])) }
        api.post("registered-models/alias") { request, _ in
            let b = try await body(request)
            let name = try MLflowJSON.string(b, "name"), alias = try MLflowJSON.string(b, "alias")
            let version = try Self.version(try MLflowJSON.string(b, "version"))
            _ = try await registry.setAlias(alias, model: name, version: version, by: Attribution(actor: Self.mlflowActor, reason: "set through the MLflow API"))
            return MLflowJSON.empty()
        }
        api.delete("registered-models/alias") { request, _ in
            // The client sends name and alias as a JSON body; other clients as query parameters.
            let f = try await fields(request, "name", "alias")
            let name = f[0], alias = f[1]
            // Deleting an alias that is not set succeeds, as on MLflow's server; the model must exist.
            guard try await store.aliases(model: try await registry.model(name).name)[alias] != nil else { return MLflowJSON.empty() }
            _ = try await registry.deleteAlias(alias, model: name, by: Attribution(actor: Self.mlflowActor, reason: "deleted through the MLflow API"))
            return MLflowJSON.empty()
        }
        api.get("registered-models/alias") { request, _ in
            let name = try query(request, "name"), alias = try query(request, "alias")
            guard let n = try await store.aliases(model: try await registry.model(name).name)[alias] else {
                // MLflow's server answers an unknown alias with INVALID_PARAMETER_VALUE (400).
                throw FlywheelError.invalidArgument("Registered model alias \(alias) not found.")
            }
            return try MLflowJSON.response(["model_version": try await modelVersion(try await registry.version(name, n))])
        }

        api.post("model-versions/create") { request, _ in try await createVersion(try await body(request)) }
        api.get("model-versions/get") { request, _ in
            let v = try await registry.version(try query(request, "name"), try Self.version(try query(request, "version")))
            return try MLflowJSON.response(["model_version": try await modelVersion(v)])
        }
        api.patch("model-versions/update") { request, _ in
            let b = try await body(request)
            var v = try await registry.version(try MLflowJSON.string(b, "name"), try Self.version(try MLflowJSON.string(b, "version")))
            if case .string(let d)? = b["description"] { v.description = d }
            v.updatedAt = SystemWallClock().now()
            try await store.updateModelVersion(v)
            return try MLflowJSON.response(["model_version": try await modelVersion(v)])
        }
        api.delete("model-versions/delete") { request, _ in
            let f = try await fields(request, "name", "version")
            let name = f[0], version = try Self.version(f[1])
            _ = try await registry.version(name, version)
            try await store.deleteModelVersion(
                model: name, version: version, by: Attribution(actor: Self.mlflowActor, reason: "deleted through the MLflow API"), at: SystemWallClock().now())
            return MLflowJSON.empty()
        }
        api.post("model-versions/set-tag") { request, _ in
            let b = try await body(request)
            let key = try MLflowJSON.string(b, "key"), value = try MLflowJSON.string(b, "value")
            try TrackingRules.validate(key: key, kind: "tag")
            var v = try await registry.version(try MLflowJSON.string(b, "name"), try Self.version(try MLflowJSON.string(b, "version")))
            v.labels[key] = value
            v.updatedAt = SystemWallClock().now()
            try await store.updateModelVersion(v)
            return MLflowJSON.empty()
        }
        api.delete("model-versions/delete-tag") { request, _ in
            let f = try await fields(request, "name", "version", "key")
            var v = try await registry.version(f[0], try Self.version(f[1]))
            let key = f[2]
            guard v.labels[key] != nil else {
                throw FlywheelError.notFound("No tag with name: \(key) in model version \(v.modelName) version \(v.version)")
            }
            v.labels[key] = nil
            v.updatedAt = SystemWallClock().now()
            try await store.updateModelVersion(v)
            return MLflowJSON.empty()
        }
        api.post("model-versions/transition-stage") { request, _ in
            let b = try await body(request)
            let name = try MLflowJSON.string(b, "name"), version = try Self.version(try MLflowJSON.string(b, "version"))
            let stage = try RegistryStage(parsing: try MLflowJSON.string(b, "stage"))
            let archiveExisting: Bool = switch b["archive_existing_versions"] {
            case .bool(let x)?: x
            case .string(let s)?: s.lowercased() == "true"
            default: false
            }
            try await stage.transition(
                registry: registry, model: name, version: version, archiveExisting: archiveExisting,
                by: Attribution(actor: Self.mlflowActor, reason: "stage set to \(stage.name) through the MLflow API"))
            return try MLflowJSON.response(["model_version": try await modelVersion(try await registry.version(name, version))])
        }
        api.get("model-versions/get-download-uri") { request, _ in
            let v = try await registry.version(try query(request, "name"), try Self.version(try query(request, "version")))
            return try MLflowJSON.response(["artifact_uri": .string(try await downloadURI(v))])
        }
        api.get("model-versions/search") { request, _ in try await searchVersions(MLflowJSON.queryObject(request)) }
        api.post("model-versions/search") { request, _ in try await searchVersions(try await body(request)) }
    }

    static func version(_ s: String) throws -> Int {
        guard let n = Int(s), n >= 1 else { throw FlywheelError.invalidArgument("version '\(s)' is not a version number") }
        return n
    }

    /// The required fields of a DELETE, in order: the client sends a JSON body, other clients
    /// query parameters. (The body is read once: a request's body can be collected only once.)
    func fields(_ request: Request, _ names: String...) async throws -> [String] {
        let b = try await body(request)
        return try names.map { name in
            if let v = try? MLflowJSON.string(b, name) { return v }
            return try query(request, name)
        }
    }

    func createVersion(_ b: JSONValue) async throws -> Response {
        let name = try MLflowJSON.string(b, "name")
        _ = try await registry.model(name)
        let source = try optionalString(b, "source") ?? ""
        var runID = try optionalString(b, "run_id").map(MLflowJSON.runID)
        if let runID, try await store.run(id: runID) == nil { throw FlywheelError.notFound("Run '\(runID)' not found") }
        // A logged model: by model_id, or a `models:/m-…` source.
        var modelID = try optionalString(b, "model_id")
        if modelID == nil, source.hasPrefix("models:/"), LoggedModelID.isWellFormed(String(source.dropFirst("models:/".count))) {
            modelID = String(source.dropFirst("models:/".count))
        }
        let logged = try await modelID.asyncMap { try await loggedModel(id: $0) }
        if runID == nil { runID = logged?.sourceRunID }
        var labels: Labels = [:]
        for t in try MLflowJSON.keyValues(b, "tags") { labels[t.key] = t.value }
        if let logged { labels[Self.modelIDLabel] = logged.id.rawValue }
        let v = try await store.createModelVersion(
            NewModelVersion(
                modelName: name, runID: runID, digest: logged == nil ? try await digest(of: source, run: runID) : nil, source: source,
                description: try optionalString(b, "description") ?? "", labels: labels),
            by: Attribution(actor: Self.mlflowActor, reason: "registered through the MLflow API"), at: SystemWallClock().now())
        var edges: [LineageEdge] = []
        if let runID { edges.append(LineageEdge(source: .run(runID), target: .modelVersion(name, v.version), relation: "registered", createdAt: v.createdAt)) }
        if let logged {
            edges.append(LineageEdge(source: .loggedModel(logged.id), target: .modelVersion(name, v.version), relation: "registered", createdAt: v.createdAt))
        }
        if !edges.isEmpty { try await store.addLineage(edges) }
        // The logged model lists the versions made from it (`mlflow.modelVersions`, JSON), as
        // MLflow's server keeps it.
        if let logged {
            let entry: JSONValue = .object(["name": .string(name), "version": .number(Double(v.version))])
            try await changeLoggedModel(logged.id) { m in
                var list: [JSONValue] = []
                if let text = m.tags["mlflow.modelVersions"], case .array(let a)? = try? JSONValue(parsing: Data(text.utf8)) { list = a }
                guard !list.contains(entry) else { return }
                var w = JSONWriter()
                w.value(.array(list + [entry]))
                m.tags["mlflow.modelVersions"] = String(decoding: w.bytes, as: UTF8.self)
            }
        }
        return try MLflowJSON.response(["model_version": try await modelVersion(v)])
    }

    /// The label that ties a version to the logged model it was registered from.
    static var modelIDLabel: String { LoggedModel.versionLabel }

    /// Where the client downloads a version's files from: the logged model's folder for one
    /// registered from a logged model (the client loops on `models:/m-…` otherwise), else the source.
    func downloadURI(_ v: ModelVersion) async throws -> String {
        if let id = v.labels[Self.modelIDLabel], let m = try await store.loggedModel(id: LoggedModelID(id)) {
            return MLflowJSON.loggedModelRoot(m)
        }
        return v.source
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
        // MLflow lists the latest version of each stage.
        var latest: [JSONValue] = []
        for v in RegistryStage.latest(versions, aliases: aliases, stages: RegistryStage.allCases) { latest.append(modelVersion(v, aliases: aliases)) }
        return .object([
            "name": .string(m.name), "description": .string(m.description),
            "creation_timestamp": .number(Double(m.createdAt.millisecondsSince1970)),
            "last_updated_timestamp": .number(Double(m.updatedAt.millisecondsSince1970)),
            "latest_versions": .array(latest),
            "tags": .array(m.labels.sorted.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
            "aliases": .array(aliases.sorted { $0.key < $1.key }.map { .object(["alias": .string($0.key), "version": .string(String($0.value))]) }),
        ])
    }

    func modelVersion(_ v: ModelVersion) async throws -> JSONValue {
        modelVersion(v, aliases: try await store.aliases(model: v.modelName))
    }

    func modelVersion(_ v: ModelVersion, aliases: [String: Int]) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(v.modelName), "version": .string(String(v.version)),
            "creation_timestamp": .number(Double(v.createdAt.millisecondsSince1970)),
            "last_updated_timestamp": .number(Double(v.updatedAt.millisecondsSince1970)),
            "current_stage": .string(RegistryStage.of(v, aliases: aliases).name), "description": .string(v.description),
            "source": .string(v.source), "status": .string("READY"),
            "tags": .array(v.labels.sorted.filter { $0.key != Self.modelIDLabel }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
            "aliases": .array(aliases.filter { $0.value == v.version }.keys.sorted().map(JSONValue.string)),
        ]
        if let r = v.runID { o["run_id"] = .string(r.rawValue) }
        if let m = v.labels[Self.modelIDLabel] { o["model_id"] = .string(m) }
        return .object(o)
    }

    func latestVersions(_ b: JSONValue) async throws -> Response {
        let name = try await registry.model(try MLflowJSON.string(b, "name")).name
        let stages = try MLflowJSON.list(b, "stages").map { v -> RegistryStage in
            guard case .string(let s) = v else { throw FlywheelError.invalidArgument("stages must be a list of strings") }
            return try RegistryStage(parsing: s)
        }
        let versions = try await store.modelVersions(model: name)
        let aliases = try await store.aliases(model: name)
        let latest = RegistryStage.latest(versions, aliases: aliases, stages: stages.isEmpty ? RegistryStage.allCases : stages)
        return try MLflowJSON.response(["model_versions": .array(latest.map { modelVersion($0, aliases: aliases) })])
    }

    func searchModels(_ b: JSONValue) async throws -> Response {
        var all = try await store.listModels()
        if case .string(let f)? = b["filter"], !f.isEmpty {
            all = try MLflowJSON.filter(all, f, fields: ["name": { $0.name }], tags: { $0.labels })
        }
        // Ordered by the requested fields, then name; paged by the last row's sort values, so a
        // token stays valid however many models are added meanwhile.
        let order = try MLflowJSON.orderBy(b, fields: ["name", "last_updated_timestamp", "creation_timestamp", "timestamp"], default: ("name", true))
        func value(_ m: RegisteredModel, _ field: String) -> JSONValue {
            switch field {
            case "name": .string(m.name)
            case "creation_timestamp": .number(Double(m.createdAt.millisecondsSince1970))
            default: .number(Double(m.updatedAt.millisecondsSince1970))
            }
        }
        let page = try MLflowJSON.keysetPage(all, b, order: order + [("name", true)], value: value, defaultLimit: 100)
        var out: [String: JSONValue] = ["registered_models": .array(try await page.items.asyncMap(registeredModel))]
        if let next = page.next { out["next_page_token"] = .string(next) }
        return try MLflowJSON.response(out)
    }

    func searchVersions(_ b: JSONValue) async throws -> Response {
        var all: [ModelVersion] = []
        var aliases: [String: [String: Int]] = [:]
        for m in try await store.listModels() {
            all += try await store.modelVersions(model: m.name)
            aliases[m.name] = try await store.aliases(model: m.name)
        }
        if case .string(let f)? = b["filter"], !f.isEmpty {
            all = try MLflowJSON.filter(
                all, f,
                fields: [
                    "name": { $0.modelName }, "run_id": { $0.runID?.rawValue ?? "" }, "source": { $0.source },
                    "version_number": { String($0.version) }, "model_id": { $0.labels[Self.modelIDLabel] ?? "" },
                ],
                tags: { $0.labels })
        }
        let order = try MLflowJSON.orderBy(
            b, fields: ["name", "version_number", "creation_timestamp", "last_updated_timestamp"], default: ("name", true))
        func value(_ v: ModelVersion, _ field: String) -> JSONValue {
            switch field {
            case "name": .string(v.modelName)
            case "version_number": .number(Double(v.version))
            case "creation_timestamp": .number(Double(v.createdAt.millisecondsSince1970))
            default: .number(Double(v.updatedAt.millisecondsSince1970))
            }
        }
        let page = try MLflowJSON.keysetPage(
            all, b, order: order + [("name", true), ("version_number", false)], value: value, defaultLimit: 10_000)
        var out: [String: JSONValue] = ["model_versions": .array(page.items.map { modelVersion($0, aliases: aliases[$0.modelName] ?? [:]) })]
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
