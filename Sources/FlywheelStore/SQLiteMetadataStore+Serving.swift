import FlywheelCore
import Foundation
import GRDB

extension SQLiteMetadataStore {
    static func deploymentRevision(_ row: Row) -> DeploymentRevision {
        DeploymentRevision(
            name: row["name"], revision: row["revision"], action: DeploymentAction(rawValue: row["action"]) ?? .applied,
            spec: row["spec"], actor: row["actor"], time: Timestamp(millisecondsSince1970: row["time"]))
    }

    static func latestRevision(_ db: Database, _ name: String) throws -> DeploymentRevision? {
        try Row.fetchOne(db, sql: "SELECT * FROM deployment_revisions WHERE name = ? ORDER BY revision DESC LIMIT 1", arguments: [name])
            .map(deploymentRevision)
    }

    static func insert(_ db: Database, _ r: DeploymentRevision) throws {
        try db.execute(
            sql: "INSERT INTO deployment_revisions (name, revision, action, spec, actor, time) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [r.name, r.revision, r.action.rawValue, r.spec, r.actor, r.time.millisecondsSince1970])
    }

    public func applyDeployment(name: String, spec: String, actor: String, at time: Timestamp) async throws -> DeploymentRevision {
        try DeploymentRevision.validate(name: name)
        return try await write { db in
            let latest = try Self.latestRevision(db, name)
            if let latest, latest.action == .applied, latest.spec == spec { return latest }
            let r = DeploymentRevision(name: name, revision: (latest?.revision ?? 0) + 1, action: .applied, spec: spec, actor: actor, time: time)
            try Self.insert(db, r)
            return r
        }
    }

    public func deployment(named name: String) async throws -> DeploymentRevision? {
        try lookup { db in
            try Self.latestRevision(db, name).flatMap { $0.action == .applied ? $0 : nil }
        }
    }

    public func listDeployments() async throws -> [DeploymentRevision] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.* FROM deployment_revisions d
                    WHERE d.revision = (SELECT MAX(revision) FROM deployment_revisions WHERE name = d.name) AND d.action = 'applied'
                    ORDER BY d.name
                    """
            ).map(Self.deploymentRevision)
        }
    }

    public func deleteDeployment(named name: String, actor: String, at time: Timestamp) async throws -> DeploymentRevision {
        try await write { db in
            guard let latest = try Self.latestRevision(db, name), latest.action == .applied else {
                throw FlywheelError.notFound("deployment '\(name)' not found")
            }
            let r = DeploymentRevision(name: name, revision: latest.revision + 1, action: .deleted, spec: "", actor: actor, time: time)
            try Self.insert(db, r)
            return r
        }
    }

    public func deploymentHistory(named name: String) async throws -> [DeploymentRevision] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deployment_revisions WHERE name = ? ORDER BY revision", arguments: [name])
                .map(Self.deploymentRevision)
        }
    }

    public func appendPredictions(_ records: [PredictionRecord]) async throws {
        guard !records.isEmpty else { return }
        // Encoded before the write so the writer queue only runs SQL.
        let rows = try records.map { r in
            (r, try JSONCoding.encode(r.features), try JSONCoding.encode(r.output), try JSONCoding.encode(r.shadow))
        }
        try await write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO predictions (request_id, idx, time, deployment, model, version, features, output, latency_us, shadow)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for (r, features, output, shadow) in rows {
                try insert.execute(arguments: [
                    r.requestID, r.index, r.time.millisecondsSince1970, r.deployment, r.model, r.version, features, output,
                    r.latencyMicros, shadow,
                ])
            }
        }
    }

    public func predictions(_ q: PredictionQuery) async throws -> [PredictionRecord] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let d = q.deployment { conditions.append("p.deployment = ?"); arguments += [d] }
        if let s = q.since { conditions.append("p.time >= ?"); arguments += [s.millisecondsSince1970] }
        if let u = q.until { conditions.append("p.time < ?"); arguments += [u.millisecondsSince1970] }
        arguments += [q.limit]
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT p.*, f.label AS feedback FROM predictions p
            LEFT JOIN feedback f ON f.request_id = p.request_id AND f.idx = p.idx
            \(whereClause) ORDER BY p.time, p.request_id, p.idx LIMIT ?
            """
        let args = arguments
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                let feedback: String? = row["feedback"]
                return PredictionRecord(
                    requestID: row["request_id"], index: row["idx"], time: Timestamp(millisecondsSince1970: row["time"]),
                    deployment: row["deployment"], model: row["model"], version: row["version"],
                    features: try JSONCoding.decode([String: JSONValue].self, row["features"]),
                    output: try JSONCoding.decode(JSONValue.self, row["output"]), latencyMicros: row["latency_us"],
                    shadow: try JSONCoding.decode([String: JSONValue].self, row["shadow"]),
                    feedback: try feedback.map { try JSONCoding.decode(JSONValue.self, $0) })
            }
        }
    }

    public func recordFeedback(_ labels: [FeedbackLabel]) async throws -> Int {
        guard !labels.isEmpty else { return 0 }
        let rows = try labels.map { ($0, try JSONCoding.encode($0.label)) }
        return try await write { db in
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO feedback (request_id, idx, label, time) VALUES (?, ?, ?, ?)")
            let known = try db.cachedStatement(sql: "SELECT 1 FROM predictions WHERE request_id = ? AND idx = ?")
            var matched = 0
            for (l, label) in rows {
                try upsert.execute(arguments: [l.requestID, l.index, label, l.time.millisecondsSince1970])
                if try Bool.fetchOne(known, arguments: [l.requestID, l.index]) != nil { matched += 1 }
            }
            return matched
        }
    }
}
