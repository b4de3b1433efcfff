import FlywheelCore
import Foundation
import GRDB

/// Run deletion, run inputs/outputs and MLflow 3's logged models.
extension SQLiteMetadataStore {
    public func setRunDeleted(id: RunID, at time: Timestamp?) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE runs SET deleted_at = ? WHERE id = ?", arguments: [time?.millisecondsSince1970, id.rawValue])
            guard db.changesCount == 1 else { throw FlywheelError.notFound("run \(id) not found") }
        }
    }

    public func logRunInputs(runID: RunID, datasets: [DatasetInput], models: [LoggedModelID]) async throws {
        let rows: [(kind: String, key: String, body: String)] =
            try datasets.map { ("dataset", "\($0.name)@\($0.digest)", try JSONCoding.encode($0)) }
            + models.map { ("model", $0.rawValue, try JSONCoding.encode($0)) }
        try await write { db in
            try Self.requireRun(db, runID)
            for m in models { try Self.requireLoggedModel(db, m) }
            // A dataset logged again keeps its place; its record (tags) is the newer one.
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO run_io (run_id, direction, kind, key, body) VALUES (?, 'input', ?, ?, ?)
                    ON CONFLICT (run_id, direction, kind, key) DO UPDATE SET body = excluded.body
                    """)
            for r in rows { try upsert.execute(arguments: [runID.rawValue, r.kind, r.key, r.body]) }
        }
    }

    public func logRunOutputs(runID: RunID, models: [ModelOutput]) async throws {
        let rows = try models.map { ($0.modelID.rawValue, try JSONCoding.encode($0)) }
        try await write { db in
            try Self.requireRun(db, runID)
            for m in models { try Self.requireLoggedModel(db, m.modelID) }
            let insert = try db.cachedStatement(
                sql: "INSERT INTO run_io (run_id, direction, kind, key, body) VALUES (?, 'output', 'model', ?, ?) ON CONFLICT DO NOTHING")
            for (key, body) in rows { try insert.execute(arguments: [runID.rawValue, key, body]) }
        }
    }

    public func runIO(id: RunID) async throws -> RunIO {
        try lookup { db in
            try Self.requireRun(db, id)
            var io = RunIO()
            for row in try Row.fetchAll(db, sql: "SELECT direction, kind, body FROM run_io WHERE run_id = ? ORDER BY seq", arguments: [id.rawValue]) {
                let body: String = row["body"]
                switch (row["direction"] as String, row["kind"] as String) {
                case ("input", "dataset"): io.datasetInputs.append(try JSONCoding.decode(DatasetInput.self, body))
                case ("input", "model"): io.modelInputs.append(try JSONCoding.decode(LoggedModelID.self, body))
                default: io.modelOutputs.append(try JSONCoding.decode(ModelOutput.self, body))
                }
            }
            return io
        }
    }

    // MARK: Logged models

    static func requireLoggedModel(_ db: Database, _ id: LoggedModelID) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM logged_models WHERE id = ?", arguments: [id.rawValue]) != nil else {
            throw FlywheelError.notFound("logged model \(id) not found")
        }
    }

    static func loggedModel(_ db: Database, _ id: LoggedModelID) throws -> LoggedModel? {
        try String.fetchOne(db, sql: "SELECT body FROM logged_models WHERE id = ?", arguments: [id.rawValue]).map {
            try JSONCoding.decode(LoggedModel.self, $0)
        }
    }

    public func createLoggedModel(_ model: LoggedModel) async throws {
        try LoggedModel.validate(name: model.name)
        guard let exp = Int64(model.experimentID.rawValue) else { throw FlywheelError.notFound("experiment \(model.experimentID) not found") }
        let body = try JSONCoding.encode(model)
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM experiments WHERE id = ?", arguments: [exp]) != nil else {
                throw FlywheelError.notFound("experiment \(model.experimentID) not found")
            }
            if let r = model.sourceRunID { try Self.requireRun(db, r) }
            try db.execute(
                sql: "INSERT INTO logged_models (id, experiment_id, name, source_run_id, created_at, deleted_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    model.id.rawValue, exp, model.name, model.sourceRunID?.rawValue, model.createdAt.millisecondsSince1970,
                    model.deletedAt?.millisecondsSince1970, body,
                ])
        }
    }

    public func loggedModel(id: LoggedModelID) async throws -> LoggedModel? {
        try lookup { db in try Self.loggedModel(db, id) }
    }

    public func updateLoggedModel(id: LoggedModelID, _ change: @escaping @Sendable (inout LoggedModel) throws -> Void) async throws -> LoggedModel {
        try await write { db in
            guard var m = try Self.loggedModel(db, id) else { throw FlywheelError.notFound("logged model \(id) not found") }
            try change(&m)
            // The ID, experiment and creation time are the model's identity: a change cannot move them.
            guard m.id == id else { throw FlywheelError.invalidArgument("a logged model's ID cannot change") }
            try LoggedModel.validate(name: m.name)
            try db.execute(
                sql: "UPDATE logged_models SET name = ?, deleted_at = ?, body = ? WHERE id = ?",
                arguments: [m.name, m.deletedAt?.millisecondsSince1970, try JSONCoding.encode(m), id.rawValue])
            return m
        }
    }

    public func loggedModels(experimentIDs: [ExperimentID]) async throws -> [LoggedModel] {
        let ids = experimentIDs.map { Int64($0.rawValue) ?? -1 }
        return try await read { db in
            var sql = "SELECT body FROM logged_models WHERE deleted_at IS NULL"
            if !ids.isEmpty { sql += " AND experiment_id IN (\(databaseQuestionMarks(count: ids.count)))" }
            return try String.fetchAll(db, sql: sql + " ORDER BY created_at DESC, id", arguments: StatementArguments(ids)).map {
                try JSONCoding.decode(LoggedModel.self, $0)
            }
        }
    }

    public func recordModelArtifacts(_ list: [ModelArtifactRecord]) async throws {
        for a in list { try ArtifactRecord.validate(path: a.path) }
        try await write { db in
            try Self.upsertFiles(
                db, table: "model_artifacts", owner: "model_id", list.map { ($0.modelID.rawValue, $0.path, $0.digest, $0.size, $0.createdAt) }
            ) { try Self.requireLoggedModel(db, LoggedModelID($0)) }
        }
    }

    public func modelArtifacts(modelID: LoggedModelID, prefix: String?) async throws -> [ModelArtifactRecord] {
        try lookup { db in
            try Self.requireLoggedModel(db, modelID)
            return try Self.files(db, table: "model_artifacts", owner: "model_id", modelID.rawValue, prefix: prefix).map {
                ModelArtifactRecord(modelID: modelID, path: $0.path, digest: $0.digest, size: $0.size, createdAt: $0.createdAt)
            }
        }
    }
}
