import FlywheelCore
import Foundation

/// Registered models, their numbered versions and aliases, over any backend.
///
/// Every alias move and status change carries an ``Attribution`` and is kept as a
/// ``RegistryEvent``; versions link back to the run that produced them through lineage.
public struct ModelRegistry: Sendable {
    public let store: any MetadataStore
    public let blobs: any BlobStore
    public let clock: any WallClock

    public init(store: any MetadataStore, blobs: any BlobStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.blobs = blobs
        self.clock = clock
    }

    @discardableResult
    public func createModel(name: String, description: String = "", labels: Labels = [:]) async throws -> RegisteredModel {
        let now = clock.now()
        let m = RegisteredModel(name: name, description: description, labels: labels, createdAt: now, updatedAt: now)
        try await store.createModel(m)
        return m
    }

    public func model(_ name: String) async throws -> RegisteredModel {
        guard let m = try await store.model(named: name) else {
            throw FlywheelError.notFound("registered model '\(name)' not found")
        }
        return m
    }

    /// What the model file of a new version is.
    public enum ModelSource: Sendable {
        /// A file on disk, stored into the blob store.
        case file(URL)
        /// An artifact already logged by the version's run (`model/model.json`).
        case runArtifact(String)
        /// A blob already in the store.
        case blob(Digest)
        /// No file (metadata only).
        case none
    }

    /// Registers a new version, numbered after the last, and links `run → version` in lineage.
    public func createVersion(
        model name: String, run runID: RunID? = nil, source: ModelSource = .none, signature: JSONValue? = nil,
        description: String = "", labels: Labels = [:], by who: Attribution
    ) async throws -> ModelVersion {
        _ = try await model(name)
        var digest: Digest?
        var sourceText = ""
        switch source {
        case .file(let url):
            digest = try await blobs.put(contentsOf: url).digest
            sourceText = url.path
        case .runArtifact(let path):
            guard let runID else {
                throw FlywheelError.invalidArgument("a version from a run artifact needs the run: pass the run ID")
            }
            guard let a = try await store.artifacts(runID: runID, prefix: path).first(where: { $0.path == path }) else {
                throw FlywheelError.notFound("run \(runID) has no artifact '\(path)'")
            }
            digest = a.digest
            sourceText = "runs:/\(runID)/\(path)"
        case .blob(let d):
            guard try await blobs.info(d) != nil else { throw FlywheelError.notFound("blob \(d) is not in the artifact store") }
            digest = d
            sourceText = d.description
        case .none:
            break
        }
        let v = try await store.createModelVersion(
            NewModelVersion(
                modelName: name, runID: runID, digest: digest, source: sourceText, signature: signature,
                description: description, labels: labels),
            by: who, at: clock.now())
        if let runID {
            try await store.addLineage([
                LineageEdge(source: .run(runID), target: .modelVersion(name, v.version), relation: "registered", createdAt: v.createdAt)
            ])
        }
        return v
    }

    public func versions(_ name: String) async throws -> [ModelVersion] { try await store.modelVersions(model: name) }

    public func version(_ name: String, _ number: Int) async throws -> ModelVersion {
        _ = try await model(name)
        guard let v = try await store.modelVersion(model: name, version: number) else {
            throw FlywheelError.notFound("model '\(name)' has no version \(number)")
        }
        return v
    }

    @discardableResult
    public func setAlias(_ alias: String, model: String, version: Int, by who: Attribution) async throws -> Int? {
        try await store.setAlias(model: model, alias: alias, version: version, by: who, at: clock.now())
    }

    @discardableResult
    public func deleteAlias(_ alias: String, model: String, by who: Attribution) async throws -> Int {
        try await store.deleteAlias(model: model, alias: alias, by: who, at: clock.now())
    }

    public func setStatus(_ status: ModelVersionStatus, model: String, version: Int, by who: Attribution) async throws {
        try await store.setVersionStatus(model: model, version: version, status: status, by: who, at: clock.now())
    }

    /// Resolves `models:/name/3`, `models:/name@alias` (or the same without `models:/`).
    public func resolve(_ uri: String) async throws -> ModelVersion {
        let ref = try ModelURI(parsing: uri)
        switch ref.selector {
        case .version(let n):
            return try await version(ref.name, n)
        case .alias(let a):
            _ = try await model(ref.name)
            guard let n = try await store.aliases(model: ref.name)[a] else {
                throw FlywheelError.notFound("model '\(ref.name)' has no alias '\(a)'")
            }
            return try await version(ref.name, n)
        case .latest:
            guard let v = try await versions(ref.name).last else {
                throw FlywheelError.notFound("model '\(ref.name)' has no versions yet")
            }
            return v
        }
    }

    /// Everything about one model: versions, aliases and the history of changes.
    public func summary(_ name: String) async throws -> ModelSummary {
        ModelSummary(
            model: try await model(name), versions: try await versions(name), aliases: try await store.aliases(model: name),
            events: try await store.registryEvents(model: name))
    }
}

/// A model with its versions, aliases and history.
public struct ModelSummary: Sendable, Codable {
    public var model: RegisteredModel
    public var versions: [ModelVersion]
    public var aliases: [String: Int]
    public var events: [RegistryEvent]
}

/// A parsed model reference: `models:/iris/3`, `models:/iris@production`, `iris@staging`, `iris/latest`.
public struct ModelURI: Hashable, Sendable, CustomStringConvertible {
    public enum Selector: Hashable, Sendable {
        case version(Int)
        case alias(String)
        case latest
    }
    public var name: String
    public var selector: Selector

    public init(parsing text: String) throws {
        var body = Substring(text)
        if body.hasPrefix("models:/") { body = body.dropFirst("models:/".count) }
        let bad = FlywheelError.invalidArgument(
            "model reference '\(text)' is not valid: expected models:/NAME/VERSION, models:/NAME@ALIAS or NAME@ALIAS")
        if let at = body.lastIndex(of: "@") {
            name = String(body[..<at])
            let alias = String(body[body.index(after: at)...])
            guard !alias.isEmpty else { throw bad }
            selector = .alias(alias)
        } else if let slash = body.lastIndex(of: "/") {
            name = String(body[..<slash])
            let v = body[body.index(after: slash)...]
            if v == "latest" {
                selector = .latest
            } else {
                guard let n = Int(v), n >= 1 else { throw bad }
                selector = .version(n)
            }
        } else {
            throw bad
        }
        guard !name.isEmpty else { throw bad }
    }

    public var description: String {
        switch selector {
        case .version(let n): "models:/\(name)/\(n)"
        case .alias(let a): "models:/\(name)@\(a)"
        case .latest: "models:/\(name)/latest"
        }
    }
}
