import FlywheelCore
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteMetadataStore {
    static func monitorRecord(_ row: Row) -> MonitorRecord {
        MonitorRecord(
            name: row["name"], spec: row["spec"], actor: row["actor"], createdAt: Timestamp(millisecondsSince1970: row["created_at"]),
            updatedAt: Timestamp(millisecondsSince1970: row["updated_at"]))
    }

    public func applyMonitor(name: String, spec: String, actor: String, at time: Timestamp) async throws -> MonitorRecord {
        try DeploymentRevision.validate(name: name)
        return try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO monitors (name, spec, actor, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, actor = excluded.actor, updated_at = excluded.updated_at
                    """,
                arguments: [name, spec, actor, time.millisecondsSince1970, time.millisecondsSince1970])
            return try Row.fetchOne(db, sql: "SELECT * FROM monitors WHERE name = ?", arguments: [name]).map(Self.monitorRecord)!
        }
    }

    public func monitor(named name: String) async throws -> MonitorRecord? {
        try lookup { db in try Row.fetchOne(db, sql: "SELECT * FROM monitors WHERE name = ?", arguments: [name]).map(Self.monitorRecord) }
    }

    public func listMonitors() async throws -> [MonitorRecord] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM monitors ORDER BY name").map(Self.monitorRecord) }
    }

    public func deleteMonitor(named name: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM monitors WHERE name = ?", arguments: [name])
            if db.changesCount == 0 { throw FlywheelError.notFound("monitor '\(name)' not found") }
        }
    }

    public func recordMonitorCheck(_ check: MonitorCheck) async throws -> MonitorCheck {
        let rules = try JSONCoding.encode(check.breachedRules)
        return try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO monitor_checks (monitor, time, window_start, window_end, reference, reference_rows, current_rows, status, message, breached_rules)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    check.monitor, check.time.millisecondsSince1970, check.windowStart.millisecondsSince1970,
                    check.windowEnd.millisecondsSince1970, check.reference, check.referenceRows, check.currentRows, check.status.rawValue,
                    check.message, rules,
                ])
            var out = check
            out.id = db.lastInsertedRowID
            // As it reads back: SQLite has no NaN, so a non-finite score or threshold is none.
            for i in out.results.indices {
                if let s = out.results[i].score, !s.isFinite { out.results[i].score = nil }
                if let t = out.results[i].threshold, !t.isFinite { out.results[i].threshold = nil }
            }
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO monitor_results (check_id, position, kind, name, method, score, threshold, breached, status, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for (i, r) in check.results.enumerated() {
                // SQLite has no NaN: a non-finite score is stored as no score.
                try insert.execute(arguments: [
                    out.id, i, r.kind, r.name, r.method, r.score.flatMap { $0.isFinite ? $0 : nil }, r.threshold.flatMap { $0.isFinite ? $0 : nil },
                    r.breached, r.status, r.detail,
                ])
            }
            return out
        }
    }

    public func monitorChecks(monitor: String, since: Timestamp?, limit: Int) async throws -> [MonitorCheck] {
        try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM monitor_checks WHERE monitor = ? AND time >= ? ORDER BY id DESC LIMIT ?",
                arguments: [monitor, since?.millisecondsSince1970 ?? Int64.min, max(limit, 0)])
            let results = try db.cachedStatement(sql: "SELECT * FROM monitor_results WHERE check_id = ? ORDER BY position")
            return try rows.reversed().map { row in
                MonitorCheck(
                    id: row["id"], monitor: row["monitor"], time: Timestamp(millisecondsSince1970: row["time"]),
                    windowStart: Timestamp(millisecondsSince1970: row["window_start"]), windowEnd: Timestamp(millisecondsSince1970: row["window_end"]),
                    reference: row["reference"], referenceRows: row["reference_rows"], currentRows: row["current_rows"],
                    status: MonitorCheckStatus(rawValue: row["status"]) ?? .failed, message: row["message"],
                    breachedRules: try JSONCoding.decode([String].self, row["breached_rules"]),
                    results: try Row.fetchAll(results, arguments: [row["id"] as Int64]).map { r in
                        MonitorResult(
                            kind: r["kind"], name: r["name"], method: r["method"], score: r["score"], threshold: r["threshold"],
                            breached: r["breached"], status: r["status"], detail: r["detail"])
                    })
            }
        }
    }

    static func alert(_ row: Row) -> Alert {
        Alert(
            id: row["id"], monitor: row["monitor"], rule: row["rule"], state: AlertState(rawValue: row["state"]) ?? .firing,
            message: row["message"], firedAt: Timestamp(millisecondsSince1970: row["fired_at"]),
            lastSeenAt: Timestamp(millisecondsSince1970: row["last_seen_at"]),
            resolvedAt: (row["resolved_at"] as Int64?).map(Timestamp.init(millisecondsSince1970:)), occurrences: row["occurrences"],
            actionsAt: (row["actions_at"] as Int64?).map(Timestamp.init(millisecondsSince1970:)), checkID: row["check_id"])
    }

    public func raiseAlert(monitor: String, rule: String, message: String, at time: Timestamp, checkID: Int64) async throws -> AlertRaise {
        // A write transaction is BEGIN IMMEDIATE: other connections and processes wait for it.
        try await write { db in
            let latest = try Row.fetchOne(
                db, sql: "SELECT * FROM alerts WHERE monitor = ? AND rule = ? ORDER BY id DESC LIMIT 1", arguments: [monitor, rule]
            ).map(Self.alert)
            if var firing = latest, firing.state == .firing {
                firing.occurrences += 1
                if time >= firing.lastSeenAt {  // a check of an earlier window (--at) only counts
                    firing.lastSeenAt = time
                    firing.message = message
                }
                try db.execute(
                    sql: "UPDATE alerts SET occurrences = ?, last_seen_at = ?, message = ? WHERE id = ?",
                    arguments: [firing.occurrences, firing.lastSeenAt.millisecondsSince1970, firing.message, firing.id])
                return AlertRaise(alert: firing, opened: false, previousActionsAt: nil)
            }
            var alert = Alert(monitor: monitor, rule: rule, state: .firing, message: message, firedAt: time, lastSeenAt: time, checkID: checkID)
            try db.execute(
                sql: """
                    INSERT INTO alerts (monitor, rule, state, message, fired_at, last_seen_at, resolved_at, occurrences, actions_at, check_id)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, 1, NULL, ?)
                    """,
                arguments: [monitor, rule, AlertState.firing.rawValue, message, time.millisecondsSince1970, time.millisecondsSince1970, checkID])
            alert.id = db.lastInsertedRowID
            return AlertRaise(alert: alert, opened: true, previousActionsAt: latest?.actionsAt)
        }
    }

    public func resolveAlert(monitor: String, rule: String, at time: Timestamp) async throws -> Alert? {
        try await write { db in
            guard var firing = try Row.fetchOne(
                db, sql: "SELECT * FROM alerts WHERE monitor = ? AND rule = ? ORDER BY id DESC LIMIT 1", arguments: [monitor, rule]
            ).map(Self.alert), firing.state == .firing else { return nil }
            firing.state = .resolved
            firing.resolvedAt = time
            try db.execute(
                sql: "UPDATE alerts SET state = ?, resolved_at = ? WHERE id = ?",
                arguments: [AlertState.resolved.rawValue, time.millisecondsSince1970, firing.id])
            return firing
        }
    }

    public func setAlertActionsTime(alertID: Int64, _ time: Timestamp?) async throws -> Alert {
        try await write { db in
            try db.execute(sql: "UPDATE alerts SET actions_at = ? WHERE id = ?", arguments: [time?.millisecondsSince1970, alertID])
            guard db.changesCount > 0, let row = try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [alertID]) else {
                throw FlywheelError.notFound("alert \(alertID) not found")
            }
            return Self.alert(row)
        }
    }

    public func alerts(monitor: String?, state: AlertState?, limit: Int) async throws -> [Alert] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let monitor { conditions.append("monitor = ?"); arguments += [monitor] }
        if let state { conditions.append("state = ?"); arguments += [state.rawValue] }
        arguments += [max(limit, 0)]
        let sql = "SELECT * FROM alerts \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?"
        let args = arguments
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: args).map(Self.alert) }
    }

    public func recordAlertAction(_ a: AlertActionRecord) async throws {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM alerts WHERE id = ?", arguments: [a.alertID]) != nil else {
                throw FlywheelError.notFound("alert \(a.alertID) not found")
            }
            try db.execute(
                sql: """
                    INSERT INTO alert_actions (alert_id, seq, time, kind, target, outcome, attempts, message)
                    VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM alert_actions WHERE alert_id = ?), ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [a.alertID, a.alertID, a.time.millisecondsSince1970, a.kind, a.target, a.outcome.rawValue, a.attempts, a.message])
        }
    }

    public func alertActions(alertID: Int64) async throws -> [AlertActionRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert_actions WHERE alert_id = ? ORDER BY seq", arguments: [alertID]).map { row in
                AlertActionRecord(
                    alertID: row["alert_id"], time: Timestamp(millisecondsSince1970: row["time"]), kind: row["kind"], target: row["target"],
                    outcome: AlertActionOutcome(rawValue: row["outcome"]) ?? .failed, attempts: row["attempts"], message: row["message"])
            }
        }
    }

    public func queryPredictionLog(sql: String, since: Timestamp, until: Timestamp) async throws -> [[String: JSONValue]] {
        let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        let head = trimmed.prefix(6).uppercased()
        guard head.hasPrefix("SELECT") || head.hasPrefix("WITH") else {
            throw FlywheelError.invalidArgument("a monitor query must be one SELECT (or WITH … SELECT) statement")
        }
        do {
            // A reader connection is read-only, so a query cannot change the workspace.
            let timeout = monitorQueryTimeout
            return try await pool.read { db in
                // SQLite calls the handler every 1,000 virtual-machine steps; past the deadline it
                // answers 1 and the query stops with SQLITE_INTERRUPT. Only this connection is touched.
                let deadline = UnsafeMutablePointer<Double>.allocate(capacity: 1)
                deadline.pointee = Date().timeIntervalSince1970 + timeout
                sqlite3_progress_handler(db.sqliteConnection, 1000, { context in
                    guard let context else { return 0 }
                    return Date().timeIntervalSince1970 > context.assumingMemoryBound(to: Double.self).pointee ? 1 : 0
                }, deadline)
                defer {
                    sqlite3_progress_handler(db.sqliteConnection, 0, nil, nil)
                    deadline.deallocate()
                }
                let statement = try db.makeStatement(sql: trimmed)
                // Named values the query does not use are ignored; a name or `?` it needs and lacks fails.
                try statement.setArguments(["since": since.millisecondsSince1970, "until": until.millisecondsSince1970])
                // Only the first row is used: fetching one keeps a query over the whole log cheap.
                guard let row = try Row.fetchOne(statement) else { return [] }
                var out: [String: JSONValue] = [:]
                for (column, value) in row {
                    switch value.storage {
                    case .null: out[column] = .null
                    case .int64(let i): out[column] = .number(Double(i))
                    case .double(let d): out[column] = .number(d)
                    case .string(let s): out[column] = .string(s)
                    case .blob(let b): out[column] = .string(b.base64EncodedString())
                    }
                }
                return [out]
            }
        } catch let e as FlywheelError {
            throw e
        } catch let e as DatabaseError where e.resultCode == .SQLITE_INTERRUPT {
            throw FlywheelError.invalidArgument("the monitor query ran over \(monitorQueryTimeout == monitorQueryTimeout.rounded() ? String(Int(monitorQueryTimeout)) : String(monitorQueryTimeout)) s and was stopped")
        } catch let e as DatabaseError {
            throw FlywheelError.invalidArgument("the monitor query failed: \(e.message ?? "\(e.resultCode)")")
        }
    }
}
