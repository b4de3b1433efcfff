import GRDB

/// The SQLite schema, as named migrations. A shipped migration is never edited: change the
/// schema by appending a new one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: tracking, registry, lineage") { db in
            try db.execute(sql: """
                CREATE TABLE experiments (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    description TEXT NOT NULL DEFAULT '',
                    labels TEXT NOT NULL DEFAULT '{}',
                    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                -- pk is the compact key the bulk tables (metrics) use; id is the public run ID.
                CREATE TABLE runs (
                    pk INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
                    name TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
                    start_time INTEGER NOT NULL,
                    end_time INTEGER,
                    parent_id TEXT REFERENCES runs(id),
                    labels TEXT NOT NULL DEFAULT '{}',
                    environment TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
                CREATE INDEX runs_by_parent ON runs(parent_id) WHERE parent_id IS NOT NULL;
                CREATE TABLE params (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (run_id, key)
                ) WITHOUT ROWID;
                -- The full history, in chunks: one row per run, key and logging call, whose data
                -- packs count × (step Int64, timestamp Int64, value Float64 bits), little-endian.
                -- A batch of 1,000 metrics over 10 keys is 10 rows, not 1,000. See MetricChunk.
                CREATE TABLE metric_chunks (
                    id INTEGER PRIMARY KEY,
                    run_pk INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    count INTEGER NOT NULL CHECK (count >= 1),
                    data BLOB NOT NULL CHECK (length(data) = count * 24)
                );
                CREATE INDEX metric_chunks_by_key ON metric_chunks(run_pk, key);
                -- One row per run and key: the value searches filter and order on (NULL = NaN).
                CREATE TABLE latest_metrics (
                    run_pk INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value REAL,
                    step INTEGER NOT NULL,
                    timestamp INTEGER NOT NULL,
                    PRIMARY KEY (run_pk, key)
                ) WITHOUT ROWID;
                CREATE INDEX latest_metrics_by_value ON latest_metrics(key, value);
                CREATE TABLE tags (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (run_id, key)
                ) WITHOUT ROWID;
                CREATE TABLE artifacts (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, path)
                ) WITHOUT ROWID;
                CREATE TABLE registered_models (
                    name TEXT PRIMARY KEY NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    labels TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE model_versions (
                    model_name TEXT NOT NULL REFERENCES registered_models(name),
                    version INTEGER NOT NULL CHECK (version >= 1),
                    run_id TEXT REFERENCES runs(id),
                    digest TEXT,
                    source TEXT NOT NULL DEFAULT '',
                    signature TEXT,
                    description TEXT NOT NULL DEFAULT '',
                    status TEXT NOT NULL CHECK (status IN ('ready', 'deprecated', 'archived')),
                    labels TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (model_name, version)
                );
                CREATE TABLE model_aliases (
                    model_name TEXT NOT NULL,
                    alias TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    PRIMARY KEY (model_name, alias),
                    FOREIGN KEY (model_name, version) REFERENCES model_versions(model_name, version)
                ) WITHOUT ROWID;
                CREATE TABLE registry_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    model_name TEXT NOT NULL REFERENCES registered_models(name),
                    kind TEXT NOT NULL CHECK (kind IN ('version_created', 'alias_set', 'alias_deleted', 'status_changed')),
                    alias TEXT,
                    version INTEGER,
                    previous_version INTEGER,
                    status TEXT,
                    previous_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    time INTEGER NOT NULL
                );
                CREATE INDEX registry_events_by_model ON registry_events(model_name, id);
                CREATE TABLE lineage_edges (
                    source TEXT NOT NULL,
                    target TEXT NOT NULL,
                    relation TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (source, target, relation)
                ) WITHOUT ROWID;
                CREATE INDEX lineage_by_target ON lineage_edges(target);
                """)
        }
        m.registerMigration("v2: pipelines") { db in
            try db.execute(sql: """
                CREATE TABLE pipeline_runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    pipeline TEXT NOT NULL,
                    spec_digest TEXT NOT NULL,
                    spec_path TEXT NOT NULL,
                    params TEXT NOT NULL DEFAULT '{}',
                    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
                    trigger TEXT NOT NULL,
                    start_time INTEGER NOT NULL,
                    end_time INTEGER,
                    resumed_from TEXT REFERENCES pipeline_runs(id),
                    tracking_run_id TEXT REFERENCES runs(id)
                ) WITHOUT ROWID;
                CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs(pipeline, start_time);
                CREATE INDEX pipeline_runs_by_time ON pipeline_runs(start_time);
                CREATE TABLE step_attempts (
                    pipeline_run_id TEXT NOT NULL REFERENCES pipeline_runs(id) ON DELETE CASCADE,
                    step TEXT NOT NULL,
                    attempt INTEGER NOT NULL CHECK (attempt >= 1),
                    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'cancelled', 'timed_out')),
                    start_time INTEGER NOT NULL,
                    end_time INTEGER,
                    exit_code INTEGER,
                    cache_hit INTEGER NOT NULL DEFAULT 0 CHECK (cache_hit IN (0, 1)),
                    cache_key TEXT,
                    inputs TEXT NOT NULL DEFAULT '{}',
                    outputs TEXT NOT NULL DEFAULT '{}',
                    log_digest TEXT,
                    message TEXT,
                    run_id TEXT REFERENCES runs(id),
                    PRIMARY KEY (pipeline_run_id, step, attempt)
                ) WITHOUT ROWID;
                CREATE INDEX step_attempts_by_cache_key ON step_attempts(cache_key, end_time) WHERE status = 'succeeded';
                -- Events submitted for pipelines that start 'on: [{event: NAME}]'; the dedupe key makes
                -- a second delivery of the same event a no-op.
                CREATE TABLE pipeline_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    dedupe_key TEXT NOT NULL UNIQUE,
                    params TEXT NOT NULL DEFAULT '{}',
                    submitted_at INTEGER NOT NULL,
                    consumed_at INTEGER
                );
                CREATE INDEX pipeline_events_pending ON pipeline_events(id) WHERE consumed_at IS NULL;
                -- One row per trigger fired: a file's digest, an event's dedupe key, a schedule's time.
                CREATE TABLE trigger_claims (
                    key TEXT PRIMARY KEY NOT NULL,
                    pipeline TEXT NOT NULL,
                    claimed_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v3: deployments, prediction log, feedback") { db in
            try db.execute(sql: """
                CREATE TABLE deployment_revisions (
                    name TEXT NOT NULL,
                    revision INTEGER NOT NULL CHECK (revision >= 1),
                    action TEXT NOT NULL CHECK (action IN ('applied', 'deleted')),
                    spec TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    PRIMARY KEY (name, revision)
                ) WITHOUT ROWID;
                -- One row per logged record; a request with several records has several rows.
                CREATE TABLE predictions (
                    request_id TEXT NOT NULL,
                    idx INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    deployment TEXT NOT NULL,
                    model TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    features TEXT NOT NULL,
                    output TEXT NOT NULL,
                    latency_us INTEGER NOT NULL,
                    shadow TEXT NOT NULL DEFAULT '{}',
                    PRIMARY KEY (request_id, idx)
                ) WITHOUT ROWID;
                CREATE INDEX predictions_by_deployment ON predictions(deployment, time);
                CREATE INDEX predictions_by_time ON predictions(time);
                -- Labels may arrive before their prediction is flushed, so there is no foreign key.
                CREATE TABLE feedback (
                    request_id TEXT NOT NULL,
                    idx INTEGER NOT NULL,
                    label TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    PRIMARY KEY (request_id, idx)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v4: monitors, checks, alerts, alert actions") { db in
            try db.execute(sql: """
                CREATE TABLE monitors (
                    name TEXT PRIMARY KEY NOT NULL,
                    spec TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                -- Checks outlive their monitor: they are the history a report draws.
                CREATE TABLE monitor_checks (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    monitor TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    window_start INTEGER NOT NULL,
                    window_end INTEGER NOT NULL,
                    reference TEXT NOT NULL,
                    reference_rows INTEGER NOT NULL,
                    current_rows INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    message TEXT NOT NULL,
                    breached_rules TEXT NOT NULL
                );
                CREATE INDEX monitor_checks_by_monitor ON monitor_checks(monitor, time);
                CREATE TABLE monitor_results (
                    check_id INTEGER NOT NULL REFERENCES monitor_checks(id),
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    method TEXT NOT NULL,
                    score REAL,
                    threshold REAL,
                    breached INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    detail TEXT,
                    PRIMARY KEY (check_id, position)
                ) WITHOUT ROWID;
                CREATE TABLE alerts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    monitor TEXT NOT NULL,
                    rule TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
                    message TEXT NOT NULL,
                    fired_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    resolved_at INTEGER,
                    occurrences INTEGER NOT NULL,
                    actions_at INTEGER,
                    check_id INTEGER NOT NULL
                );
                CREATE INDEX alerts_by_rule ON alerts(monitor, rule, id);
                CREATE TABLE alert_actions (
                    alert_id INTEGER NOT NULL REFERENCES alerts(id),
                    seq INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    message TEXT NOT NULL,
                    PRIMARY KEY (alert_id, seq)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v5: run deletion and inputs/outputs, logged models, version deletion, renames") { db in
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN deleted_at INTEGER;
                -- What a run read (datasets, logged models) and the logged models it produced; key is
                -- NAME@DIGEST for a dataset and the model ID for a model; body is the JSON record.
                CREATE TABLE run_io (
                    seq INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
                    kind TEXT NOT NULL CHECK (kind IN ('dataset', 'model')),
                    key TEXT NOT NULL,
                    body TEXT NOT NULL,
                    UNIQUE (run_id, direction, kind, key)
                );
                -- A logged model is read and written whole (body: its JSON record, params, tags and
                -- metrics with it); the columns beside it are what lookups and searches use.
                CREATE TABLE logged_models (
                    id TEXT PRIMARY KEY NOT NULL,
                    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
                    name TEXT NOT NULL,
                    source_run_id TEXT REFERENCES runs(id),
                    created_at INTEGER NOT NULL,
                    deleted_at INTEGER,
                    body TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, created_at);
                CREATE INDEX logged_models_by_run ON logged_models(source_run_id) WHERE source_run_id IS NOT NULL;
                CREATE TABLE model_artifacts (
                    model_id TEXT NOT NULL REFERENCES logged_models(id),
                    path TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (model_id, path)
                ) WITHOUT ROWID;
                -- A deleted version is hidden but keeps its number, so numbers are never reused.
                ALTER TABLE model_versions ADD COLUMN deleted_at INTEGER;
                -- Registry events gain two kinds: SQLite cannot alter a CHECK, so the table is rebuilt.
                CREATE TABLE registry_events_v5 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    model_name TEXT NOT NULL REFERENCES registered_models(name),
                    kind TEXT NOT NULL CHECK (kind IN ('version_created', 'alias_set', 'alias_deleted', 'status_changed',
                        'version_deleted', 'renamed')),
                    alias TEXT,
                    version INTEGER,
                    previous_version INTEGER,
                    status TEXT,
                    previous_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    time INTEGER NOT NULL
                );
                INSERT INTO registry_events_v5 SELECT * FROM registry_events;
                DROP TABLE registry_events;
                ALTER TABLE registry_events_v5 RENAME TO registry_events;
                CREATE INDEX registry_events_by_model ON registry_events(model_name, id);
                """)
        }
        return m
    }
}
