import FlywheelCore
import Foundation
import GRDB

extension SQLiteMetadataStore {
    static func pipelineRun(_ row: Row) throws -> PipelineRun {
        let resumed: String? = row["resumed_from"]
        let tracking: String? = row["tracking_run_id"]
        let end: Int64? = row["end_time"]
        return PipelineRun(
            id: PipelineRunID(rawValue: row["id"]), pipeline: row["pipeline"], specDigest: try Digest(parsing: row["spec_digest"]),
            specPath: row["spec_path"], params: try JSONCoding.decode([String: JSONValue].self, row["params"]),
            status: PipelineRunStatus(rawValue: row["status"]) ?? .failed, trigger: row["trigger"],
            startTime: Timestamp(millisecondsSince1970: row["start_time"]), endTime: end.map(Timestamp.init(millisecondsSince1970:)),
            resumedFrom: resumed.map(PipelineRunID.init(rawValue:)), trackingRunID: tracking.map(RunID.init(rawValue:)))
    }

    static func stepAttempt(_ row: Row) throws -> StepAttempt {
        let end: Int64? = row["end_time"]
        let log: String? = row["log_digest"]
        let run: String? = row["run_id"]
        return StepAttempt(
            pipelineRunID: PipelineRunID(rawValue: row["pipeline_run_id"]), step: row["step"], attempt: row["attempt"],
            status: StepStatus(rawValue: row["status"]) ?? .failed, startTime: Timestamp(millisecondsSince1970: row["start_time"]),
            endTime: end.map(Timestamp.init(millisecondsSince1970:)), exitCode: row["exit_code"], cacheHit: row["cache_hit"],
            cacheKey: row["cache_key"], inputs: try JSONCoding.decode([String: JSONValue].self, row["inputs"]),
            outputs: try JSONCoding.decode([String: StepOutput].self, row["outputs"]), logDigest: try log.map(Digest.init(parsing:)),
            message: row["message"], runID: run.map(RunID.init(rawValue:)))
    }

    public func createPipelineRun(_ run: PipelineRun) async throws {
        let params = try JSONCoding.encode(run.params)
        do {
            try await write { db in
                try db.execute(
                    sql: """
                        INSERT INTO pipeline_runs (id, pipeline, spec_digest, spec_path, params, status, trigger, start_time, end_time,
                                                   resumed_from, tracking_run_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        run.id.rawValue, run.pipeline, run.specDigest.description, run.specPath, params, run.status.rawValue, run.trigger,
                        run.startTime.millisecondsSince1970, run.endTime?.millisecondsSince1970, run.resumedFrom?.rawValue,
                        run.trackingRunID?.rawValue,
                    ])
            }
        } catch let e as FlywheelError where e.code == .alreadyExists {
            throw FlywheelError(.alreadyExists, "pipeline run \(run.id) already exists", underlying: e.underlying)
        }
    }

    public func updatePipelineRun(id: PipelineRunID, status: PipelineRunStatus, endTime: Timestamp?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE pipeline_runs SET status = ?, end_time = ? WHERE id = ?",
                arguments: [status.rawValue, endTime?.millisecondsSince1970, id.rawValue])
            guard db.changesCount == 1 else { throw FlywheelError.notFound("pipeline run \(id) not found") }
        }
    }

    public func pipelineRun(id: PipelineRunID) async throws -> PipelineRun? {
        try lookup { db in
            try Row.fetchOne(db, sql: "SELECT * FROM pipeline_runs WHERE id = ?", arguments: [id.rawValue]).map(Self.pipelineRun)
        }
    }

    public func listPipelineRuns(pipeline: String?, limit: Int) async throws -> [PipelineRun] {
        try await read { db in
            if let pipeline {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM pipeline_runs WHERE pipeline = ? ORDER BY start_time DESC, id DESC LIMIT ?",
                    arguments: [pipeline, limit]
                ).map(Self.pipelineRun)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM pipeline_runs ORDER BY start_time DESC, id DESC LIMIT ?", arguments: [limit])
                .map(Self.pipelineRun)
        }
    }

    public func recordStepAttempt(_ a: StepAttempt) async throws {
        let inputs = try JSONCoding.encode(a.inputs)
        let outputs = try JSONCoding.encode(a.outputs)
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM pipeline_runs WHERE id = ?", arguments: [a.pipelineRunID.rawValue]) != nil else {
                throw FlywheelError.notFound("pipeline run \(a.pipelineRunID) not found")
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO step_attempts (pipeline_run_id, step, attempt, status, start_time, end_time, exit_code, cache_hit,
                                                          cache_key, inputs, outputs, log_digest, message, run_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    a.pipelineRunID.rawValue, a.step, a.attempt, a.status.rawValue, a.startTime.millisecondsSince1970,
                    a.endTime?.millisecondsSince1970, a.exitCode, a.cacheHit, a.cacheKey, inputs, outputs, a.logDigest?.description,
                    a.message, a.runID?.rawValue,
                ])
        }
    }

    public func stepAttempts(pipelineRunID: PipelineRunID) async throws -> [StepAttempt] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM step_attempts WHERE pipeline_run_id = ? ORDER BY start_time, step, attempt",
                arguments: [pipelineRunID.rawValue]
            ).map(Self.stepAttempt)
        }
    }

    public func cachedStep(key: String) async throws -> StepAttempt? {
        try lookup { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM step_attempts WHERE cache_key = ? AND status = 'succeeded'
                    ORDER BY end_time DESC, pipeline_run_id, step, attempt LIMIT 1
                    """,
                arguments: [key]
            ).map(Self.stepAttempt)
        }
    }

    public func claimTrigger(_ key: String, pipeline: String, at time: Timestamp) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO trigger_claims (key, pipeline, claimed_at) VALUES (?, ?, ?)",
                arguments: [key, pipeline, time.millisecondsSince1970])
            return db.changesCount == 1
        }
    }

    public func submitEvent(_ e: PipelineTriggerEvent) async throws -> Bool {
        let params = try JSONCoding.encode(e.params)
        return try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO pipeline_events (name, dedupe_key, params, submitted_at) VALUES (?, ?, ?, ?)",
                arguments: [e.name, e.dedupeKey, params, e.submittedAt.millisecondsSince1970])
            return db.changesCount == 1
        }
    }

    public func pendingEvents(limit: Int) async throws -> [PipelineTriggerEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM pipeline_events WHERE consumed_at IS NULL ORDER BY id LIMIT ?", arguments: [limit]).map { row in
                PipelineTriggerEvent(
                    id: row["id"], name: row["name"], dedupeKey: row["dedupe_key"],
                    params: try JSONCoding.decode([String: String].self, row["params"]),
                    submittedAt: Timestamp(millisecondsSince1970: row["submitted_at"]))
            }
        }
    }

    public func consumeEvent(id: Int64, at time: Timestamp) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE pipeline_events SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL",
                           arguments: [time.millisecondsSince1970, id])
            return db.changesCount == 1
        }
    }
}
