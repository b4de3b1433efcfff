import FlywheelCore
import Foundation
import GRDB

extension SQLiteMetadataStore {
    static func model(_ row: Row) throws -> RegisteredModel {
        RegisteredModel(
            name: row["name"], description: row["description"], labels: try JSONCoding.decode(Labels.self, row["labels"]),
            createdAt: Timestamp(millisecondsSince1970: row["created_at"]),
            updatedAt: Timestamp(millisecondsSince1970: row["updated_at"]))
    }

    static func version(_ row: Row) throws -> ModelVersion {
        let run: String? = row["run_id"]
        let digest: String? = row["digest"]
        let signature: String? = row["signature"]
        return ModelVersion(
            modelName: row["model_name"], version: row["version"], runID: run.map(RunID.init(rawValue:)),
            digest: try digest.map(Digest.init(parsing:)), source: row["source"],
            signature: try signature.map { try JSONCoding.decode(JSONValue.self, $0) }, description: row["description"],
            status: ModelVersionStatus(rawValue: row["status"]) ?? .ready, labels: try JSONCoding.decode(Labels.self, row["labels"]),
            createdAt: Timestamp(millisecondsSince1970: row["created_at"]),
            updatedAt: Timestamp(millisecondsSince1970: row["updated_at"]))
    }

    static func requireModel(_ db: Database, _ name: String) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [name]) != nil else {
            throw FlywheelError.notFound("registered model '\(name)' not found")
        }
    }

    static func requireVersion(_ db: Database, _ model: String, _ version: Int) throws -> ModelVersionStatus {
        try requireModel(db, model)
        guard let s = try String.fetchOne(
            db, sql: "SELECT status FROM model_versions WHERE model_name = ? AND version = ? AND deleted_at IS NULL",
            arguments: [model, version])
        else { throw FlywheelError.notFound("model '\(model)' has no version \(version)") }
        return ModelVersionStatus(rawValue: s) ?? .ready
    }

    static func record(_ db: Database, _ e: RegistryEvent) throws {
        try db.execute(
            sql: """
                INSERT INTO registry_events (model_name, kind, alias, version, previous_version, status, previous_status, actor, reason, time)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                e.modelName, e.kind.rawValue, e.alias, e.version, e.previousVersion, e.status?.rawValue,
                e.previousStatus?.rawValue, e.actor, e.reason, e.time.millisecondsSince1970,
            ])
    }

    public func createModel(_ model: RegisteredModel) async throws {
        try RegisteredModel.validate(name: model.name)
        let labels = try JSONCoding.encode(model.labels)
        do {
            try await write { db in
                try db.execute(
                    sql: "INSERT INTO registered_models (name, description, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [model.name, model.description, labels, model.createdAt.millisecondsSince1970, model.updatedAt.millisecondsSince1970])
            }
        } catch let e as FlywheelError where e.code == .alreadyExists {
            throw FlywheelError(.alreadyExists, "registered model '\(model.name)' already exists", underlying: e.underlying)
        }
    }

    public func model(named name: String) async throws -> RegisteredModel? {
        try lookup { db in
            try Row.fetchOne(db, sql: "SELECT * FROM registered_models WHERE name = ?", arguments: [name]).map(Self.model)
        }
    }

    public func listModels() async throws -> [RegisteredModel] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM registered_models ORDER BY name").map(Self.model) }
    }

    public func updateModel(_ model: RegisteredModel) async throws {
        let labels = try JSONCoding.encode(model.labels)
        try await write { db in
            try db.execute(
                sql: "UPDATE registered_models SET description = ?, labels = ?, updated_at = ? WHERE name = ?",
                arguments: [model.description, labels, model.updatedAt.millisecondsSince1970, model.name])
            guard db.changesCount == 1 else { throw FlywheelError.notFound("registered model '\(model.name)' not found") }
        }
    }

    public func renameModel(_ name: String, to newName: String, by who: Attribution, at time: Timestamp) async throws {
        try RegisteredModel.validate(name: newName)
        do {
            try await write { db in
                try Self.requireModel(db, name)
                // Versions, aliases and events refer to the model by name: the foreign keys are
                // checked at commit, once every row has moved.
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                try db.execute(sql: "UPDATE registered_models SET name = ?, updated_at = ? WHERE name = ?", arguments: [newName, time.millisecondsSince1970, name])
                for table in ["model_versions", "model_aliases", "registry_events"] {
                    try db.execute(sql: "UPDATE \(table) SET model_name = ? WHERE model_name = ?", arguments: [newName, name])
                }
                let old = "model:\(name)/", new = "model:\(newName)/"
                for column in ["source", "target"] {
                    try db.execute(
                        sql: "UPDATE lineage_edges SET \(column) = ? || substr(\(column), ?) WHERE substr(\(column), 1, ?) = ?",
                        arguments: [new, old.unicodeScalars.count + 1, old.unicodeScalars.count, old])
                }
                try Self.record(db, RegistryEvent(
                    modelName: newName, kind: .renamed, actor: who.actor, reason: who.reason.isEmpty ? "renamed from \(name)" : who.reason, time: time))
            }
        } catch let e as FlywheelError where e.code == .alreadyExists {
            throw FlywheelError(.alreadyExists, "registered model '\(newName)' already exists", underlying: e.underlying)
        }
    }

    public func deleteModel(named name: String) async throws {
        try await write { db in
            try Self.requireModel(db, name)
            let prefix = "model:\(name)/"
            try db.execute(
                sql: "DELETE FROM lineage_edges WHERE substr(source, 1, ?) = ? OR substr(target, 1, ?) = ?",
                arguments: [prefix.unicodeScalars.count, prefix, prefix.unicodeScalars.count, prefix])
            for table in ["model_aliases", "model_versions", "registry_events"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE model_name = ?", arguments: [name])
            }
            try db.execute(sql: "DELETE FROM registered_models WHERE name = ?", arguments: [name])
        }
    }

    public func updateModelVersion(_ v: ModelVersion) async throws {
        let labels = try JSONCoding.encode(v.labels)
        try await write { db in
            _ = try Self.requireVersion(db, v.modelName, v.version)
            try db.execute(
                sql: "UPDATE model_versions SET description = ?, labels = ?, updated_at = ? WHERE model_name = ? AND version = ?",
                arguments: [v.description, labels, v.updatedAt.millisecondsSince1970, v.modelName, v.version])
        }
    }

    public func deleteModelVersion(model: String, version: Int, by who: Attribution, at time: Timestamp) async throws {
        try await write { db in
            _ = try Self.requireVersion(db, model, version)
            for alias in try String.fetchAll(
                db, sql: "SELECT alias FROM model_aliases WHERE model_name = ? AND version = ? ORDER BY alias", arguments: [model, version])
            {
                try db.execute(sql: "DELETE FROM model_aliases WHERE model_name = ? AND alias = ?", arguments: [model, alias])
                try Self.record(db, RegistryEvent(
                    modelName: model, kind: .aliasDeleted, alias: alias, previousVersion: version, actor: who.actor,
                    reason: "its version was deleted", time: time))
            }
            try db.execute(
                sql: "UPDATE model_versions SET deleted_at = ?, updated_at = ? WHERE model_name = ? AND version = ?",
                arguments: [time.millisecondsSince1970, time.millisecondsSince1970, model, version])
            try Self.record(db, RegistryEvent(
                modelName: model, kind: .versionDeleted, version: version, actor: who.actor, reason: who.reason, time: time))
        }
    }

    public func createModelVersion(_ new: NewModelVersion, by who: Attribution, at time: Timestamp) async throws -> ModelVersion {
        let labels = try JSONCoding.encode(new.labels)
        let signature = try new.signature.map { try JSONCoding.encode($0) }
        return try await write { db in
            try Self.requireModel(db, new.modelName)
            if let r = new.runID { try Self.requireRun(db, r) }
            let number = (try Int.fetchOne(
                db, sql: "SELECT MAX(version) FROM model_versions WHERE model_name = ?", arguments: [new.modelName]) ?? 0) + 1
            try db.execute(
                sql: """
                    INSERT INTO model_versions (model_name, version, run_id, digest, source, signature, description, status, labels, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?, ?)
                    """,
                arguments: [
                    new.modelName, number, new.runID?.rawValue, new.digest?.description, new.source, signature, new.description,
                    labels, time.millisecondsSince1970, time.millisecondsSince1970,
                ])
            try Self.record(db, RegistryEvent(
                modelName: new.modelName, kind: .versionCreated, version: number, status: .ready, actor: who.actor,
                reason: who.reason, time: time))
            return ModelVersion(
                modelName: new.modelName, version: number, runID: new.runID, digest: new.digest, source: new.source,
                signature: new.signature, description: new.description, status: .ready, labels: new.labels,
                createdAt: time, updatedAt: time)
        }
    }

    public func modelVersion(model: String, version: Int) async throws -> ModelVersion? {
        try lookup { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM model_versions WHERE model_name = ? AND version = ? AND deleted_at IS NULL",
                arguments: [model, version]
            ).map(Self.version)
        }
    }

    public func modelVersions(model: String) async throws -> [ModelVersion] {
        try lookup { db in
            try Self.requireModel(db, model)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM model_versions WHERE model_name = ? AND deleted_at IS NULL ORDER BY version", arguments: [model]
            ).map(Self.version)
        }
    }

    public func setVersionStatus(model: String, version: Int, status: ModelVersionStatus, by who: Attribution, at time: Timestamp) async throws {
        try await write { db in
            let old = try Self.requireVersion(db, model, version)
            try db.execute(
                sql: "UPDATE model_versions SET status = ?, updated_at = ? WHERE model_name = ? AND version = ?",
                arguments: [status.rawValue, time.millisecondsSince1970, model, version])
            try Self.record(db, RegistryEvent(
                modelName: model, kind: .statusChanged, version: version, status: status, previousStatus: old,
                actor: who.actor, reason: who.reason, time: time))
        }
    }

    public func setAlias(model: String, alias: String, version: Int, by who: Attribution, at time: Timestamp) async throws -> Int? {
        try validateAlias(alias)
        return try await write { db in
            _ = try Self.requireVersion(db, model, version)
            let old = try Int.fetchOne(
                db, sql: "SELECT version FROM model_aliases WHERE model_name = ? AND alias = ?", arguments: [model, alias])
            try db.execute(
                sql: """
                    INSERT INTO model_aliases (model_name, alias, version) VALUES (?, ?, ?)
                    ON CONFLICT (model_name, alias) DO UPDATE SET version = excluded.version
                    """,
                arguments: [model, alias, version])
            try Self.record(db, RegistryEvent(
                modelName: model, kind: .aliasSet, alias: alias, version: version, previousVersion: old, actor: who.actor,
                reason: who.reason, time: time))
            return old
        }
    }

    public func deleteAlias(model: String, alias: String, by who: Attribution, at time: Timestamp) async throws -> Int {
        try await write { db in
            try Self.requireModel(db, model)
            guard let old = try Int.fetchOne(
                db, sql: "SELECT version FROM model_aliases WHERE model_name = ? AND alias = ?", arguments: [model, alias])
            else { throw FlywheelError.notFound("model '\(model)' has no alias '\(alias)'") }
            try db.execute(sql: "DELETE FROM model_aliases WHERE model_name = ? AND alias = ?", arguments: [model, alias])
            try Self.record(db, RegistryEvent(
                modelName: model, kind: .aliasDeleted, alias: alias, previousVersion: old, actor: who.actor, reason: who.reason,
                time: time))
            return old
        }
    }

    public func aliases(model: String) async throws -> [String: Int] {
        try lookup { db in
            try Self.requireModel(db, model)
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT alias, version FROM model_aliases WHERE model_name = ?", arguments: [model]) {
                out[row["alias"]] = row["version"]
            }
            return out
        }
    }

    public func registryEvents(model: String) async throws -> [RegistryEvent] {
        try await read { db in
            try Self.requireModel(db, model)
            return try Row.fetchAll(db, sql: "SELECT * FROM registry_events WHERE model_name = ? ORDER BY id", arguments: [model]).map { row in
                let status: String? = row["status"]
                let previous: String? = row["previous_status"]
                return RegistryEvent(
                    modelName: row["model_name"], kind: RegistryEvent.Kind(rawValue: row["kind"]) ?? .aliasSet,
                    alias: row["alias"], version: row["version"], previousVersion: row["previous_version"],
                    status: status.flatMap(ModelVersionStatus.init(rawValue:)),
                    previousStatus: previous.flatMap(ModelVersionStatus.init(rawValue:)), actor: row["actor"],
                    reason: row["reason"], time: Timestamp(millisecondsSince1970: row["time"]))
            }
        }
    }

    // MARK: Lineage

    public func addLineage(_ edges: [LineageEdge]) async throws {
        try await write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO lineage_edges (source, target, relation, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            for e in edges {
                try insert.execute(arguments: [e.source.description, e.target.description, e.relation, e.createdAt.millisecondsSince1970])
            }
        }
    }

    public func lineage(of ref: ResourceRef, direction: LineageDirection) async throws -> [LineageEdge] {
        let column = direction == .upstream ? "target" : "source"
        return try lookup { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM lineage_edges WHERE \(column) = ? ORDER BY created_at, source, target, relation",
                arguments: [ref.description]
            ).map { row in
                LineageEdge(
                    source: try ResourceRef(parsing: row["source"]), target: try ResourceRef(parsing: row["target"]),
                    relation: row["relation"], createdAt: Timestamp(millisecondsSince1970: row["created_at"]))
            }
        }
    }
}
