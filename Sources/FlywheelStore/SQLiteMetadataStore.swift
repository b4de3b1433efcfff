import FlywheelCore
import Foundation
import GRDB

/// The embedded `MetadataStore`: one SQLite file in WAL mode, shared safely by many processes.
///
/// Writers queue on SQLite's lock with a generous busy timeout, so concurrent CLI processes wait
/// their turn instead of failing. Every call is one transaction; bulk paths use cached prepared
/// statements.
public final class SQLiteMetadataStore: MetadataStore {
    let pool: DatabasePool
    /// A second connection for small writes on the caller's thread (`quickWrite`); it never waits
    /// for SQLite's write lock (busy means: use the pool's writer instead).
    let quickWriter: DatabaseQueue?
    /// How long a monitor's SQL query may run before it is stopped.
    let monitorQueryTimeout: TimeInterval

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String, busyTimeout: TimeInterval = 60, monitorQueryTimeout: TimeInterval = 30) throws {
        self.monitorQueryTimeout = monitorQueryTimeout
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "flywheel"
        config.prepareDatabase { db in
            // MLflow's LIKE is case-sensitive; ILIKE is the case-insensitive form.
            try db.execute(sql: "PRAGMA case_sensitive_like = ON")
            // WAL + NORMAL survives a process crash (kill -9) with every committed transaction.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Pages are read through a memory map instead of a read(2) each (searches touch many).
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // A workspace written by a newer flywheel: say so rather than run against a schema
            // this build does not know (its migrations would be "applied" out of order).
            let applied = try pool.read { db in try SQLiteSchema.migrator.appliedIdentifiers(db) }
            let known = SQLiteSchema.migrator.migrations
            if let unknown = applied.subtracting(known).sorted().last {
                throw FlywheelError(
                    .failedPrecondition,
                    "the metadata database at '\(path)' has schema '\(unknown)', newer than this flywheel knows (up to '\(known.last ?? "none")'): use a newer flywheel for this workspace")
            }
            try SQLiteSchema.migrator.migrate(pool)
            var quick = config
            quick.busyMode = .immediateError
            quick.label = "flywheel.quick"
            quickWriter = try? DatabaseQueue(path: path, configuration: quick)
        } catch let e as DatabaseError {
            throw FlywheelError(.unavailable, "cannot open the metadata database at '\(path)': \(e.message ?? "\(e.resultCode)")", underlying: e)
        }
    }

    /// Runs SQLite's integrity check; returns its findings (`["ok"]` when sound).
    public func integrityCheck() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    // MARK: Transactions with error translation

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.translate(error) }
    }

    /// A small write on the caller's thread when SQLite's write lock is free this instant, else
    /// through the pool's writer like `write`. From an event loop this saves two thread switches
    /// per write (the hop to the writer's queue and the wake-up back), which was a third of the
    /// server's CPU per `log_metric` (BENCHMARKS.md, MLflow drop-in); it never waits on the lock,
    /// so a long write elsewhere cannot stall the loop. Only for writes of bounded size.
    func quickWrite<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        if let quickWriter {
            do {
                var result: T?
                try quickWriter.inTransaction(.immediate) { db in
                    result = try body(db)
                    return .commit
                }
                if let result { return result }
            } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
                // Another connection holds the write lock: wait for it on the writer's queue.
            } catch {
                throw Self.translate(error)
            }
        }
        return try await write(body)
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw Self.translate(error) }
    }

    /// A point lookup (one row by key, or a few), read on the caller's thread. In WAL mode a read
    /// never waits for a writer, and one this small costs less than the hop to a reader's queue
    /// and back, which measured about 100 µs of CPU per read in `flywheel server` (BENCHMARKS.md,
    /// MLflow API). Lists and searches, whose size has no bound, stay on `read`.
    func lookup<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.translate(error) }
    }

    static func translate(_ error: any Error) -> any Error {
        guard let e = error as? DatabaseError else { return error }
        switch e.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return FlywheelError(.alreadyExists, "a record with that name or key already exists", underlying: e)
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return FlywheelError(.notFound, "a record this one refers to does not exist", underlying: e)
        default:
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return FlywheelError(.unavailable, "the metadata database is busy; try again", underlying: e)
            case .SQLITE_FULL:
                return FlywheelError(.unavailable, "the disk holding the metadata database is full", underlying: e)
            case .SQLITE_CONSTRAINT:
                return FlywheelError(.invalidArgument, "a value breaks a constraint of the metadata schema", underlying: e)
            default:
                return FlywheelError(.internal, "metadata database error (\(e.resultCode))", underlying: e)
            }
        }
    }

    // MARK: Experiments

    public func createExperiment(_ new: NewExperiment, at time: Timestamp) async throws -> Experiment {
        try Experiment.validate(name: new.name)
        let labels = try JSONCoding.encode(new.labels)
        do {
            return try await write { db in
                try db.execute(
                    sql: "INSERT INTO experiments (name, description, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [new.name, new.description, labels, time.millisecondsSince1970, time.millisecondsSince1970])
                return Experiment(
                    id: ExperimentID(String(db.lastInsertedRowID)), name: new.name, description: new.description,
                    labels: new.labels, createdAt: time, updatedAt: time)
            }
        } catch let e as FlywheelError where e.code == .alreadyExists {
            throw FlywheelError(.alreadyExists, "experiment '\(new.name)' already exists", underlying: e.underlying)
        }
    }

    static func experiment(_ row: Row) throws -> Experiment {
        Experiment(
            id: ExperimentID(String(row["id"] as Int64)), name: row["name"], description: row["description"],
            labels: try JSONCoding.decode(Labels.self, row["labels"]), archived: row["archived"],
            createdAt: Timestamp(millisecondsSince1970: row["created_at"]),
            updatedAt: Timestamp(millisecondsSince1970: row["updated_at"]))
    }

    public func experiment(id: ExperimentID) async throws -> Experiment? {
        guard let n = Int64(id.rawValue) else { return nil }
        return try lookup { db in
            try Row.fetchOne(db, sql: "SELECT * FROM experiments WHERE id = ?", arguments: [n]).map(Self.experiment)
        }
    }

    public func experiment(named name: String) async throws -> Experiment? {
        try lookup { db in
            try Row.fetchOne(db, sql: "SELECT * FROM experiments WHERE name = ?", arguments: [name]).map(Self.experiment)
        }
    }

    public func listExperiments(includeArchived: Bool) async throws -> [Experiment] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM experiments \(includeArchived ? "" : "WHERE archived = 0") ORDER BY id"
            ).map(Self.experiment)
        }
    }

    public func experimentActivity() async throws -> [ExperimentID: ExperimentActivity] {
        try await read { db in
            var out: [ExperimentID: ExperimentActivity] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT experiment_id, COUNT(*), MAX(start_time) FROM runs WHERE deleted_at IS NULL GROUP BY experiment_id")
            while let row = try rows.next() {
                let last: Int64? = row[2]
                out[ExperimentID(rawValue: String(row[0] as Int64))] = ExperimentActivity(
                    runs: row[1], lastActivity: last.map { Timestamp(millisecondsSince1970: $0) })
            }
            return out
        }
    }

    public func updateExperiment(_ e: Experiment) async throws {
        try Experiment.validate(name: e.name)
        guard let n = Int64(e.id.rawValue) else { throw FlywheelError.notFound("experiment \(e.id) not found") }
        let labels = try JSONCoding.encode(e.labels)
        do {
            try await write { db in
                try db.execute(
                    sql: "UPDATE experiments SET name = ?, description = ?, labels = ?, archived = ?, updated_at = ? WHERE id = ?",
                    arguments: [e.name, e.description, labels, e.archived, e.updatedAt.millisecondsSince1970, n])
                guard db.changesCount == 1 else { throw FlywheelError.notFound("experiment \(e.id) not found") }
            }
        } catch let err as FlywheelError where err.code == .alreadyExists {
            throw FlywheelError(.alreadyExists, "experiment '\(e.name)' already exists", underlying: err.underlying)
        }
    }

    // MARK: Runs

    public func createRun(_ run: Run) async throws {
        guard let exp = Int64(run.experimentID.rawValue) else {
            throw FlywheelError.notFound("experiment \(run.experimentID) not found")
        }
        let labels = try JSONCoding.encode(run.labels)
        let env = try JSONCoding.encode(run.environment)
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM experiments WHERE id = ?", arguments: [exp]) != nil else {
                throw FlywheelError.notFound("experiment \(run.experimentID) not found")
            }
            if let p = run.parentID,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [p.rawValue]) == nil
            {
                throw FlywheelError.notFound("parent run \(p) not found")
            }
            do {
                try db.execute(
                    sql: """
                        INSERT INTO runs (id, experiment_id, name, status, start_time, end_time, parent_id, labels, environment, deleted_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        run.id.rawValue, exp, run.name, run.status.rawValue, run.startTime.millisecondsSince1970,
                        run.endTime?.millisecondsSince1970, run.parentID?.rawValue, labels, env, run.deletedAt?.millisecondsSince1970,
                    ])
            } catch let e as DatabaseError where e.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw FlywheelError(.alreadyExists, "run \(run.id) already exists", underlying: e)
            }
        }
    }

    /// The columns ``run(_:)`` reads, in the order it reads them (by position: see runData).
    static let runColumns = "pk, id, experiment_id, name, status, start_time, end_time, parent_id, labels, environment, deleted_at"

    static func run(_ row: Row) throws -> Run {
        let end: Int64? = row[6]
        let parent: String? = row[7]
        let deleted: Int64? = row[10]
        return Run(
            id: RunID(row[1] as String), experimentID: ExperimentID(String(row[2] as Int64)),
            name: row[3], status: RunStatus(rawValue: row[4]) ?? .failed,
            startTime: Timestamp(millisecondsSince1970: row[5]),
            endTime: end.map { Timestamp(millisecondsSince1970: $0) }, parentID: parent.map(RunID.init(rawValue:)),
            labels: try JSONCoding.labels(row[8]),
            environment: try JSONCoding.environment(row[9]),
            deletedAt: deleted.map { Timestamp(millisecondsSince1970: $0) })
    }

    public func run(id: RunID) async throws -> Run? {
        try lookup { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.runColumns) FROM runs WHERE id = ?", arguments: [id.rawValue]).map(Self.run)
        }
    }

    static func requireRun(_ db: Database, _ id: RunID) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [id.rawValue]) != nil else {
            throw FlywheelError.notFound("run \(id) not found")
        }
    }

    public func updateRun(id: RunID, status: RunStatus, endTime: Timestamp?, name: String?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, end_time = ?, name = COALESCE(?, name) WHERE id = ?",
                arguments: [status.rawValue, endTime?.millisecondsSince1970, name, id.rawValue])
            guard db.changesCount == 1 else { throw FlywheelError.notFound("run \(id) not found") }
        }
    }

    /// The run's compact key, or not found.
    static func runKey(_ db: Database, _ id: RunID) throws -> Int64 {
        guard let pk = try Int64.fetchOne(db, sql: "SELECT pk FROM runs WHERE id = ?", arguments: [id.rawValue]) else {
            throw FlywheelError.notFound("run \(id) not found")
        }
        return pk
    }

    /// Batches up to this many records are written on the caller's thread when they can be.
    static let quickBatch = 1000

    public func logBatch(runID: RunID, params: [Param], metrics: [Metric], tags: [Tag]) async throws {
        let small = params.count + metrics.count + tags.count <= Self.quickBatch
        try await (small ? quickWrite : write) { db in
            let lookup = try db.cachedStatement(sql: "SELECT pk, deleted_at FROM runs WHERE id = ?")
            guard let row = try Row.fetchOne(lookup, arguments: [runID.rawValue]) else {
                throw FlywheelError.notFound("run \(runID) not found")
            }
            guard row["deleted_at"] as Int64? == nil else { throw TrackingRules.deletedRun(runID) }
            let pk: Int64 = row["pk"]
            let run = runID.rawValue
            if !params.isEmpty {
                let lookup = try db.cachedStatement(sql: "SELECT value FROM params WHERE run_id = ? AND key = ?")
                let insert = try db.cachedStatement(sql: "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)")
                var seen: [String: String] = [:]
                for p in params {
                    if let old = seen[p.key] {
                        if old != p.value { throw TrackingRules.paramConflict(key: p.key, old: old, new: p.value) }
                        continue
                    }
                    seen[p.key] = p.value
                    if let old = try String.fetchOne(lookup, arguments: [run, p.key]) {
                        if old != p.value { throw TrackingRules.paramConflict(key: p.key, old: old, new: p.value) }
                    } else {
                        try insert.execute(arguments: [run, p.key, p.value])
                    }
                }
            }
            if !metrics.isEmpty {
                let chunk = try db.cachedStatement(sql: "INSERT INTO metric_chunks (run_pk, key, count, data) VALUES (?, ?, ?, ?)")
                for c in MetricChunk.encode(metrics) {
                    try chunk.execute(arguments: [pk, c.key, c.count, c.data])
                }
                // The latest value per key within the batch, so the upsert below runs once per key.
                var newest: [String: Metric] = [:]
                for m in metrics {
                    if let cur = newest[m.key], !m.supersedes(cur) { continue }
                    newest[m.key] = m
                }
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT INTO latest_metrics (run_pk, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (run_pk, key) DO UPDATE SET value = excluded.value, step = excluded.step,
                            timestamp = excluded.timestamp
                        WHERE excluded.step > latest_metrics.step
                           OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)
                        """)
                for m in newest.values {
                    try upsert.execute(arguments: [pk, m.key, m.value.isNaN ? nil : m.value, m.step, m.timestamp.millisecondsSince1970])
                }
            }
            if !tags.isEmpty {
                let upsert = try db.cachedStatement(
                    sql: "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value")
                for t in tags { try upsert.execute(arguments: [run, t.key, t.value]) }
            }
        }
    }

    public func deleteTag(runID: RunID, key: String) async throws {
        try await write { db in
            try Self.requireRun(db, runID)
            try db.execute(sql: "DELETE FROM tags WHERE run_id = ? AND key = ?", arguments: [runID.rawValue, key])
            guard db.changesCount == 1 else { throw FlywheelError.notFound("run \(runID) has no tag '\(key)'") }
        }
    }

    public func runData(id: RunID) async throws -> RunData {
        try lookup { db in
            try Self.requireRun(db, id)
            return try Self.runData(db, ids: [id])[id] ?? RunData()
        }
    }

    static func metric(_ row: Row, keyColumn: String = "key") -> Metric {
        let v: Double? = row["value"]
        return Metric(
            key: row[keyColumn], value: v ?? .nan, step: row["step"], timestamp: Timestamp(millisecondsSince1970: row["timestamp"]))
    }

    /// Params, latest metrics and tags for many runs (only the keys in `only` when given), in
    /// chunks that respect SQLite's variable limit.
    static func runData(_ db: Database, ids: [RunID], only: RunFields? = nil) throws -> [RunID: RunData] {
        var out: [RunID: RunData] = [:]
        for id in ids { out[id] = RunData() }
        // A kind with no keys asked for is not read; asked keys travel as one JSON array.
        func keyClause(_ keys: [String]?, column: String) -> (sql: String, args: [String])? {
            guard let keys else { return ("", []) }
            guard !keys.isEmpty else { return nil }
            let json = String(decoding: (try? JSONEncoder().encode(keys)) ?? Data("[]".utf8), as: UTF8.self)
            return (" AND \(column) IN (SELECT value FROM json_each(?))", [json])
        }
        let paramKeys = keyClause(only?.params, column: "key")
        // `+m.key`: never the (key, value) index — from a list of keys it would walk every run's
        // value of each key (1.5 s for a 1,000-row page of 100,000 runs); runs first, then each
        // run's keys by the primary key (12 ms).
        let metricKeys = keyClause(only?.metrics, column: "+m.key")
        let tagKeys = keyClause(only?.tags, column: "key")
        var start = 0
        while start < ids.count {
            let chunk = ids[start..<min(start + 500, ids.count)].map(\.rawValue)
            start += 500
            let marks = databaseQuestionMarks(count: chunk.count)
            // Columns by position: GRDB looks a name up case-insensitively, lowercasing it on every
            // access, which a search's thousands of rows felt.
            if let (clause, extra) = paramKeys {
                for row in try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT run_id, key, value FROM params WHERE run_id IN (\(marks))\(clause)"), arguments: StatementArguments(chunk + extra))
                {
                    out[RunID(row[0] as String)]?.params[row[1]] = row[2]
                }
            }
            if let (clause, extra) = metricKeys {
                for row in try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT r.id, m.key, m.value, m.step, m.timestamp FROM runs r CROSS JOIN latest_metrics m ON m.run_pk = r.pk WHERE r.id IN (\(marks))\(clause)"),
                    arguments: StatementArguments(chunk + extra))
                {
                    let v: Double? = row[2]
                    let m = Metric(key: row[1], value: v ?? .nan, step: row[3], timestamp: Timestamp(millisecondsSince1970: row[4]))
                    out[RunID(row[0] as String)]?.latestMetrics[m.key] = m
                }
            }
            if let (clause, extra) = tagKeys {
                for row in try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT run_id, key, value FROM tags WHERE run_id IN (\(marks))\(clause)"), arguments: StatementArguments(chunk + extra))
                {
                    out[RunID(row[0] as String)]?.tags[row[1]] = row[2]
                }
            }
        }
        return out
    }

    public func runData(ids: [RunID], only: RunFields?) async throws -> [RunID: RunData] {
        try await read { db in
            let known = try Self.existing(db, ids)
            return try Self.runData(db, ids: ids.filter { known.contains($0) }, only: only)
        }
    }

    /// Which of `ids` are runs here.
    static func existing(_ db: Database, _ ids: [RunID]) throws -> Set<RunID> {
        let json = String(decoding: try JSONEncoder().encode(ids.map(\.rawValue)), as: UTF8.self)
        return Set(try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?))"), arguments: [json]).map(RunID.init))
    }

    public func runKeys(ids: [RunID], containing: String?, limit: Int) async throws -> RunKeys {
        let json = String(decoding: try JSONEncoder().encode(ids.map(\.rawValue)), as: UTF8.self)
        let needle = RunKeys.fold(containing ?? "")
        let limit = max(0, limit)
        return try await read { db in
            // The database does the distinct, the count and the cut: a page of runs with 10,000
            // keys between them hands back `limit` strings, not 10,000.
            // One pass over the distinct keys in order: the first `limit` become strings, the
            // rest are only counted (a step of the statement, no string made).
            func keys(_ from: String, column: String = "key") throws -> ([String], Int) {
                let match = needle.isEmpty ? "" : " AND instr(lower(key), ?) > 0"
                var args: [any DatabaseValueConvertible] = [json]
                if !needle.isEmpty { args.append(needle) }
                let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT DISTINCT \(column) FROM \(from)\(match) ORDER BY 1"), arguments: StatementArguments(args))
                var list: [String] = []
                var count = 0
                while let row = try rows.next() {
                    if count < limit { list.append(row[0]) }
                    count += 1
                }
                return (list, count)
            }
            // (By each run's primary key; `+key` keeps the planner off the (key, value) index, whose
            // order it might take for the ORDER BY and then walk for every run.)
            let (m, mc) = try keys("latest_metrics WHERE run_pk IN (SELECT pk FROM runs WHERE id IN (SELECT value FROM json_each(?)))", column: "+key")
            let (p, pc) = try keys("params WHERE run_id IN (SELECT value FROM json_each(?))")
            let (t, tc) = try keys("tags WHERE run_id IN (SELECT value FROM json_each(?))")
            return RunKeys(keys: RunFields(metrics: m, params: p, tags: t), metricCount: mc, paramCount: pc, tagCount: tc)
        }
    }

    public func metricHistory(runID: RunID, key: String) async throws -> [Metric] {
        try await read { db in
            let pk = try Self.runKey(db, runID)
            var all: [Metric] = []
            let chunks = try Data.fetchCursor(
                db, sql: "SELECT data FROM metric_chunks WHERE run_pk = ? AND key = ? ORDER BY id", arguments: [pk, key])
            while let data = try chunks.next() { try MetricChunk.decode(data, key: key, into: &all) }
            return MetricChunk.normalize(all)
        }
    }

    public func searchRuns(_ query: RunQuery) async throws -> RunPage {
        try query.validate()
        let offset = try query.offset()
        return try await read { db in
            let keys = try Self.searchKeys(db, query, offset: offset)
            let more = keys.count > query.limit
            // Only the page's rows are read whole (the sort carried keys alone), then put in order.
            let page = Array(keys.prefix(query.limit))
            var byKey: [Int64: Run] = [:]
            var start = 0
            while start < page.count {
                let chunk = page[start..<min(start + 500, page.count)]
                start += 500
                for row in try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT \(Self.runColumns) FROM runs WHERE pk IN (\(databaseQuestionMarks(count: chunk.count)))"),
                    arguments: StatementArguments(Array(chunk)))
                {
                    byKey[row[0]] = try Self.run(row)
                }
            }
            let runs = page.compactMap { byKey[$0] }
            let data = try Self.runData(db, ids: runs.map(\.id), only: query.only)
            return RunPage(
                runs: runs.map { RunDetail(run: $0, data: data[$0.id] ?? RunData()) },
                nextPageToken: query.nextToken(after: runs, offset: offset, hasMore: more))
        }
    }

    /// The keys of up to `limit + 1` matching runs from `offset`, in order. A sort that starts
    /// with a metric is read in two parts (see `RunSearchSQL.MetricPart`): the runs with a value,
    /// from the metric's index, then, if the page is not full, the runs without one.
    /// (Not cached statements: a filter's shape is the caller's, and a cache keyed by it would
    /// grow with every new one; the statements below have a bounded set of shapes and are.)
    static func searchKeys(_ db: Database, _ query: RunQuery, offset: Int) throws -> [Int64] {
        let want = query.limit + 1
        guard RunSearchSQL.leadingMetric(query) != nil else {
            let sql = try RunSearchSQL(query: query)
            return try Int64.fetchAll(db, sql: sql.text, arguments: StatementArguments(sql.arguments + [want, offset]))
        }
        let present = try RunSearchSQL(query: query, part: .present)
        var keys = try Int64.fetchAll(db, sql: present.text, arguments: StatementArguments(present.arguments + [want, offset]))
        guard keys.count < want else { return keys }
        // How many runs the first part holds decides where the second part's page starts.
        let before: Int
        if keys.isEmpty && offset > 0 {
            before = try Int.fetchOne(db, sql: present.countText, arguments: StatementArguments(present.countArguments)) ?? 0
        } else {
            before = offset + keys.count
        }
        let absent = try RunSearchSQL(query: query, part: .absent)
        keys += try Int64.fetchAll(
            db, sql: absent.text, arguments: StatementArguments(absent.arguments + [want - keys.count, max(0, offset - before)]))
        return keys
    }

    // MARK: Artifacts

    public func recordArtifacts(_ list: [ArtifactRecord]) async throws {
        for a in list { try ArtifactRecord.validate(path: a.path) }
        try await write { db in
            try Self.upsertFiles(
                db, table: "artifacts", owner: "run_id", list.map { ($0.runID.rawValue, $0.path, $0.digest, $0.size, $0.createdAt) }
            ) { try Self.requireRun(db, RunID($0)) }
        }
    }

    public func artifacts(runID: RunID, prefix: String?) async throws -> [ArtifactRecord] {
        try lookup { db in
            try Self.requireRun(db, runID)
            return try Self.files(db, table: "artifacts", owner: "run_id", runID.rawValue, prefix: prefix).map {
                ArtifactRecord(runID: runID, path: $0.path, digest: $0.digest, size: $0.size, createdAt: $0.createdAt)
            }
        }
    }

    /// Records files by (owner, path), replacing what a path held; `require` checks each owner once.
    /// Runs' artifacts and logged models' files are both kept this way.
    static func upsertFiles(
        _ db: Database, table: String, owner: String, _ files: [(owner: String, path: String, digest: Digest, size: Int64, time: Timestamp)],
        require: (String) throws -> Void
    ) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO \(table) (\(owner), path, digest, size, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (\(owner), path) DO UPDATE SET digest = excluded.digest, size = excluded.size,
                    created_at = excluded.created_at
                """)
        var checked: Set<String> = []
        for f in files {
            if checked.insert(f.owner).inserted { try require(f.owner) }
            try upsert.execute(arguments: [f.owner, f.path, f.digest.description, f.size, f.time.millisecondsSince1970])
        }
    }

    /// An owner's files by path, optionally those under `prefix/` (or `prefix` itself).
    static func files(
        _ db: Database, table: String, owner: String, _ id: String, prefix: String?
    ) throws -> [(path: String, digest: Digest, size: Int64, createdAt: Timestamp)] {
        var sql = "SELECT path, digest, size, created_at FROM \(table) WHERE \(owner) = ?"
        var args: [any DatabaseValueConvertible] = [id]
        if let prefix {
            // substr, not LIKE: a prefix may contain % or _. SQLite's substr counts a text's
            // characters (code points), not its bytes.
            sql += " AND (path = ? OR substr(path, 1, ?) = ?)"
            args += [prefix, prefix.unicodeScalars.count + 1, prefix + "/"]
        }
        return try Row.fetchAll(db, sql: sql + " ORDER BY path", arguments: StatementArguments(args)).map { row in
            (row[0], try Digest(parsing: row[1]), row[2], Timestamp(millisecondsSince1970: row[3]))
        }
    }
}

/// JSON columns (labels, environment, signature).
enum JSONCoding {
    /// A run's labels, read with the JSON scanner: a search decodes them for every run it returns,
    /// and Foundation's decoder cost about 20 µs a run.
    static func labels(_ text: String) throws -> Labels {
        if text == "{}" { return Labels() }
        guard case .object(let o) = try JSONValue(parsing: Array(text.utf8)) else { return try decode(Labels.self, text) }
        var out = Labels()
        for (k, v) in o {
            guard case .string(let s) = v else { return try decode(Labels.self, text) }
            out[k] = s
        }
        return out
    }

    /// A run's environment, read as `labels` is; any shape it does not expect (a seed too large
    /// for a Double) goes to Foundation's decoder.
    static func environment(_ text: String) throws -> RunEnvironment {
        if text == "{}" { return try decode(RunEnvironment.self, text) }
        guard case .object(let o) = try JSONValue(parsing: Array(text.utf8)) else { return try decode(RunEnvironment.self, text) }
        func string(_ k: String) -> String?? {
            switch o[k] {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return .some(s)
            default: return nil
            }
        }
        var env = RunEnvironment()
        let known: Set<String> = [
            "gitCommit", "gitDirty", "gitBranch", "commandLine", "workingDirectory", "host", "os", "swiftVersion", "flywheelVersion",
            "user", "seed", "inputs",
        ]
        guard Set(o.keys).isSubset(of: known),
            let gitCommit = string("gitCommit"), let gitBranch = string("gitBranch"), let wd = string("workingDirectory"),
            let host = string("host"), let os = string("os"), let swift = string("swiftVersion"), let fw = string("flywheelVersion"),
            let user = string("user")
        else { return try decode(RunEnvironment.self, text) }
        env.gitCommit = gitCommit
        env.gitBranch = gitBranch
        env.workingDirectory = wd
        env.host = host
        env.os = os
        env.swiftVersion = swift
        env.flywheelVersion = fw
        env.user = user
        switch o["gitDirty"] {
        case nil, .null?: break
        case .bool(let b)?: env.gitDirty = b
        default: return try decode(RunEnvironment.self, text)
        }
        switch o["seed"] {
        case nil, .null?: break
        case .number(let d)? where d >= 0 && d < 9_007_199_254_740_992 && d == d.rounded(): env.seed = UInt64(d)
        default: return try decode(RunEnvironment.self, text)
        }
        if case .array(let a)? = o["commandLine"] {
            for v in a {
                guard case .string(let s) = v else { return try decode(RunEnvironment.self, text) }
                env.commandLine.append(s)
            }
        } else if o["commandLine"] != nil { return try decode(RunEnvironment.self, text) }
        switch o["inputs"] {
        case nil, .null?: break
        case .array(let a)? where a.isEmpty: break
        default:
            // Inputs are rarer and carry digests: the full decoder keeps their checks.
            env.inputs = try decode(RunEnvironment.self, text).inputs
        }
        return env
    }

    static func encode(_ value: some Encodable) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw FlywheelError.internal("a stored \(T.self) could not be decoded", underlying: error)
        }
    }
}
