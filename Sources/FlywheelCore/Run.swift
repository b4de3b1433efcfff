/// The life stage of a run.
public enum RunStatus: String, Hashable, Codable, Sendable, CaseIterable {
    case running, finished, failed, killed

    /// Parses a status case-insensitively (`FINISHED` as MLflow spells it, or `finished`).
    public init(parsing text: String) throws {
        guard let s = RunStatus(rawValue: text.lowercased()) else {
            throw FlywheelError.invalidArgument(
                "status '\(text)' is not valid: expected one of running, finished, failed, killed")
        }
        self = s
    }

    public var isTerminal: Bool { self != .running }
}

/// One execution of training code: what it was given, what it measured, what it produced.
public struct Run: Hashable, Codable, Sendable {
    public var id: RunID
    public var experimentID: ExperimentID
    public var name: String
    public var status: RunStatus
    public var startTime: Timestamp
    public var endTime: Timestamp?
    /// The run this one is nested in (a tuning trial inside its search, a step inside a pipeline).
    public var parentID: RunID?
    public var labels: Labels
    /// What makes the run reproducible, captured when it started.
    public var environment: RunEnvironment
    /// Set while the run is deleted (MLflow's `delete_run`): hidden from searches unless asked
    /// for, refusing writes, and restorable until then.
    public var deletedAt: Timestamp?

    public init(
        id: RunID, experimentID: ExperimentID, name: String, status: RunStatus = .running, startTime: Timestamp,
        endTime: Timestamp? = nil, parentID: RunID? = nil, labels: Labels = [:], environment: RunEnvironment = .init(),
        deletedAt: Timestamp? = nil
    ) {
        self.id = id
        self.experimentID = experimentID
        self.name = name
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.parentID = parentID
        self.labels = labels
        self.environment = environment
        self.deletedAt = deletedAt
    }
}

/// The facts recorded at run start so that a result can be traced back and reproduced.
public struct RunEnvironment: Hashable, Codable, Sendable {
    public var gitCommit: String?
    public var gitDirty: Bool?
    public var gitBranch: String?
    public var commandLine: [String]
    public var workingDirectory: String?
    public var host: String?
    public var os: String?
    public var swiftVersion: String?
    public var flywheelVersion: String?
    public var user: String?
    public var seed: UInt64?
    /// Files the run read, by digest.
    public var inputs: [RunInput]

    public init(
        gitCommit: String? = nil, gitDirty: Bool? = nil, gitBranch: String? = nil, commandLine: [String] = [],
        workingDirectory: String? = nil, host: String? = nil, os: String? = nil, swiftVersion: String? = nil,
        flywheelVersion: String? = nil, user: String? = nil, seed: UInt64? = nil, inputs: [RunInput] = []
    ) {
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.gitBranch = gitBranch
        self.commandLine = commandLine
        self.workingDirectory = workingDirectory
        self.host = host
        self.os = os
        self.swiftVersion = swiftVersion
        self.flywheelVersion = flywheelVersion
        self.user = user
        self.seed = seed
        self.inputs = inputs
    }
}

/// A file a run read, named by its content digest.
public struct RunInput: Hashable, Codable, Sendable {
    public var path: String
    public var digest: Digest
    public var size: Int64
    public init(path: String, digest: Digest, size: Int64) {
        self.path = path
        self.digest = digest
        self.size = size
    }
}

/// A write-once hyperparameter or setting.
public struct Param: Hashable, Codable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One measurement; a key's measurements form its history.
public struct Metric: Hashable, Codable, Sendable {
    public var key: String
    public var value: Double
    public var step: Int64
    public var timestamp: Timestamp
    public init(key: String, value: Double, step: Int64 = 0, timestamp: Timestamp) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
    }

    /// Whether `self` supersedes `other` as the key's latest value: higher step, then later
    /// timestamp; on a full tie the newer write wins. Every backend uses this rule.
    public func supersedes(_ other: Metric) -> Bool {
        step != other.step ? step > other.step : timestamp >= other.timestamp
    }

    // NaN does not equal itself, but two NaN measurements are the same record.
    public static func == (a: Metric, b: Metric) -> Bool {
        a.key == b.key && a.step == b.step && a.timestamp == b.timestamp
            && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
    public func hash(into h: inout Hasher) {
        h.combine(key)
        h.combine(step)
        h.combine(timestamp)
        h.combine(value.isNaN ? Double.nan.bitPattern : value.bitPattern)
    }
}

/// A mutable annotation on a run.
public struct Tag: Hashable, Codable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A run's recorded values: params, the latest value of each metric, tags.
public struct RunData: Hashable, Codable, Sendable {
    public var params: [String: String]
    public var latestMetrics: [String: Metric]
    public var tags: [String: String]
    public init(params: [String: String] = [:], latestMetrics: [String: Metric] = [:], tags: [String: String] = [:]) {
        self.params = params
        self.latestMetrics = latestMetrics
        self.tags = tags
    }
}

/// A run together with its data, as searches and `show` return it.
public struct RunDetail: Hashable, Codable, Sendable {
    public var run: Run
    public var data: RunData
    public init(run: Run, data: RunData) {
        self.run = run
        self.data = data
    }
}

/// A file a run produced: a logical path within the run, stored in the blob store by digest.
public struct ArtifactRecord: Hashable, Codable, Sendable {
    public var runID: RunID
    public var path: String
    public var digest: Digest
    public var size: Int64
    public var createdAt: Timestamp
    public init(runID: RunID, path: String, digest: Digest, size: Int64, createdAt: Timestamp) {
        self.runID = runID
        self.path = path
        self.digest = digest
        self.size = size
        self.createdAt = createdAt
    }

    /// Logical paths are relative, `/`-separated, with no `.`/`..` segments or empty parts.
    public static func validate(path: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
            !path.contains("\0")
        else {
            throw FlywheelError.invalidArgument(
                "artifact path '\(path)' is not valid: expected a relative path like 'model/model.json' without '.', '..' or empty parts")
        }
    }
}

/// Rules every backend applies the same way.
public enum TrackingRules {
    /// The error for writing to a deleted run (worded as MLflow's server words it).
    public static func deletedRun(_ id: RunID) -> FlywheelError {
        .invalidArgument("The run \(id) must be in the 'active' state. Current state is deleted.")
    }

    /// The error for rewriting a write-once param.
    public static func paramConflict(key: String, old: String, new: String) -> FlywheelError {
        .conflict("param '\(key)' was already logged as '\(old)' and cannot be changed to '\(new)': params are write-once")
    }

    /// Metric keys, param keys and tag keys: 1–250 characters, no control characters, not
    /// starting with `/` and with no `..` segment (MLflow's rule, so its clients agree).
    public static func validate(key: String, kind: String) throws {
        var scalars = 0
        var control = false
        for u in key.unicodeScalars {
            scalars += 1
            if u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) { control = true }
        }
        guard scalars > 0, scalars <= 250, !control, !key.hasPrefix("/"), !key.split(separator: "/").contains("..") else {
            throw FlywheelError.invalidArgument(
                "\(kind) key '\(key)' is not valid: expected 1-250 characters, no control characters, no leading '/' or '..' part")
        }
    }
}

/// The order every backend returns a metric's history in: step, timestamp, then value, with NaN
/// placed where 0 would sort and after a real 0.
public enum HistoryOrder {
    public static func key(_ m: Metric) -> (Int64, Int64, Double, Int) {
        (m.step, m.timestamp.millisecondsSince1970, m.value.isNaN ? 0 : m.value, m.value.isNaN ? 1 : 0)
    }
}

/// A dataset a run read, as MLflow's `log_input` describes it: its own digest (not a SHA-256 of
/// a file), where it came from, and tags such as `mlflow.data.context` (training, eval).
public struct DatasetInput: Hashable, Codable, Sendable {
    public var name: String
    public var digest: String
    public var sourceType: String
    public var source: String
    public var schema: String?
    public var profile: String?
    public var tags: [String: String]
    public init(
        name: String, digest: String, sourceType: String, source: String, schema: String? = nil, profile: String? = nil,
        tags: [String: String] = [:]
    ) {
        self.name = name
        self.digest = digest
        self.sourceType = sourceType
        self.source = source
        self.schema = schema
        self.profile = profile
        self.tags = tags
    }

    /// How lineage names it: `dataset:NAME@DIGEST` (a Flywheel file input is `dataset:sha256:…`).
    public var ref: ResourceRef { ResourceRef(kind: .dataset, id: "\(name)@\(digest)") }
}

/// A logged model a run produced, at a step.
public struct ModelOutput: Hashable, Codable, Sendable {
    public var modelID: LoggedModelID
    public var step: Int64
    public init(modelID: LoggedModelID, step: Int64) {
        self.modelID = modelID
        self.step = step
    }
}

/// What a run read (datasets, logged models) and the logged models it produced.
public struct RunIO: Hashable, Codable, Sendable {
    public var datasetInputs: [DatasetInput]
    public var modelInputs: [LoggedModelID]
    public var modelOutputs: [ModelOutput]
    public init(datasetInputs: [DatasetInput] = [], modelInputs: [LoggedModelID] = [], modelOutputs: [ModelOutput] = []) {
        self.datasetInputs = datasetInputs
        self.modelInputs = modelInputs
        self.modelOutputs = modelOutputs
    }
}
