/// A monitor as applied: its YAML spec, kept under its name (`flywheel monitor apply`).
public struct MonitorRecord: Hashable, Codable, Sendable {
    public var name: String
    /// The spec's YAML as applied.
    public var spec: String
    public var actor: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(name: String, spec: String, actor: String, createdAt: Timestamp, updatedAt: Timestamp) {
        self.name = name
        self.spec = spec
        self.actor = actor
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// How one check of a monitor came out.
public enum MonitorCheckStatus: String, Hashable, Codable, Sendable {
    /// Everything measured and within its thresholds.
    case ok
    /// At least one rule's threshold was crossed.
    case breached
    /// The window (or its reference) held too few rows to test anything.
    case insufficientData = "insufficient data"
    /// The check could not run (say, the model file could not be read); `message` says why.
    case failed
}

/// One measured quantity of a check: a feature's drift score, the prediction distribution's,
/// a performance metric from feedback, or a query's value.
public struct MonitorResult: Hashable, Codable, Sendable {
    /// `feature`, `prediction`, `performance`, `dataset` or `query`.
    public var kind: String
    /// The feature, the prediction measure (`label`, `confidence`, `value`, `out_of_range`), the metric or the query.
    public var name: String
    /// The drift method or the metric's direction (`min`, `max`).
    public var method: String
    public var score: Double?
    public var threshold: Double?
    /// The score crossed its threshold.
    public var breached: Bool
    /// `ok`, or why there is no score (`insufficient data`, `type mismatch`, …).
    public var status: String
    public var detail: String?

    public init(
        kind: String, name: String, method: String, score: Double?, threshold: Double?, breached: Bool, status: String = "ok",
        detail: String? = nil
    ) {
        self.kind = kind
        self.name = name
        self.method = method
        self.score = score
        self.threshold = threshold
        self.breached = breached
        self.status = status
        self.detail = detail
    }
}

/// One run of a monitor over one window of the prediction log, with every result it measured.
public struct MonitorCheck: Hashable, Codable, Sendable {
    /// Assigned by the store (0 before it is recorded).
    public var id: Int64
    public var monitor: String
    public var time: Timestamp
    public var windowStart: Timestamp
    public var windowEnd: Timestamp
    /// What the window was compared with, for people (`training data of iris/1`, a window).
    public var reference: String
    public var referenceRows: Int
    public var currentRows: Int
    public var status: MonitorCheckStatus
    public var message: String
    /// The rules that were breached (`feature_drift`, `prediction_drift`, `performance`, `query`).
    public var breachedRules: [String]
    public var results: [MonitorResult]

    public init(
        id: Int64 = 0, monitor: String, time: Timestamp, windowStart: Timestamp, windowEnd: Timestamp, reference: String,
        referenceRows: Int, currentRows: Int, status: MonitorCheckStatus, message: String, breachedRules: [String] = [],
        results: [MonitorResult] = []
    ) {
        self.id = id
        self.monitor = monitor
        self.time = time
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.reference = reference
        self.referenceRows = referenceRows
        self.currentRows = currentRows
        self.status = status
        self.message = message
        self.breachedRules = breachedRules
        self.results = results
    }
}

public enum AlertState: String, Hashable, Codable, Sendable {
    case firing, resolved
}

/// A monitor's rule that fired: one alert per episode, seen again while the rule keeps firing
/// (deduplicated), resolved when a check passes again.
/// What `MetadataStore.raiseAlert` did.
public struct AlertRaise: Hashable, Sendable {
    /// The firing alert, as stored after the call.
    public var alert: Alert
    /// True when the call opened it; false when it counted the breach on one already firing.
    public var opened: Bool
    /// When opened: the time the rule's actions last ran, from the alert before it (for the cooldown).
    public var previousActionsAt: Timestamp?

    public init(alert: Alert, opened: Bool, previousActionsAt: Timestamp?) {
        self.alert = alert
        self.opened = opened
        self.previousActionsAt = previousActionsAt
    }
}

public struct Alert: Hashable, Codable, Sendable {
    /// Assigned by the store (0 before it is first saved).
    public var id: Int64
    public var monitor: String
    public var rule: String
    public var state: AlertState
    public var message: String
    public var firedAt: Timestamp
    public var lastSeenAt: Timestamp
    public var resolvedAt: Timestamp?
    /// Checks that found the rule breached during this episode.
    public var occurrences: Int
    /// When this rule's actions last ran: for this alert, or (when a cooldown suppressed them)
    /// the earlier run it was counted from, carried forward; nil when none ever ran.
    public var actionsAt: Timestamp?
    /// The check that fired it.
    public var checkID: Int64

    public init(
        id: Int64 = 0, monitor: String, rule: String, state: AlertState, message: String, firedAt: Timestamp, lastSeenAt: Timestamp,
        resolvedAt: Timestamp? = nil, occurrences: Int = 1, actionsAt: Timestamp? = nil, checkID: Int64
    ) {
        self.id = id
        self.monitor = monitor
        self.rule = rule
        self.state = state
        self.message = message
        self.firedAt = firedAt
        self.lastSeenAt = lastSeenAt
        self.resolvedAt = resolvedAt
        self.occurrences = occurrences
        self.actionsAt = actionsAt
        self.checkID = checkID
    }
}

public enum AlertActionOutcome: String, Hashable, Codable, Sendable {
    case succeeded, failed
    /// Not run: the rule's cooldown had not passed since its last actions.
    case suppressed
}

/// One action an alert took (a webhook call, a pipeline run, a rollback) and how it went.
public struct AlertActionRecord: Hashable, Codable, Sendable {
    public var alertID: Int64
    public var time: Timestamp
    /// `webhook`, `run_pipeline` or `rollback`.
    public var kind: String
    /// The URL, pipeline or deployment/alias acted on.
    public var target: String
    public var outcome: AlertActionOutcome
    public var attempts: Int
    /// What happened: the HTTP status, the pipeline run's id and status, the alias move.
    public var message: String

    public init(alertID: Int64, time: Timestamp, kind: String, target: String, outcome: AlertActionOutcome, attempts: Int, message: String) {
        self.alertID = alertID
        self.time = time
        self.kind = kind
        self.target = target
        self.outcome = outcome
        self.attempts = attempts
        self.message = message
    }
}
