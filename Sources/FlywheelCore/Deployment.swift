/// What happened to a deployment in one revision.
public enum DeploymentAction: String, Hashable, Codable, Sendable {
    case applied, deleted
}

/// One revision of a deployment: the spec as applied (YAML text), or its deletion.
///
/// Revisions are numbered from 1 per name and never rewritten, so `flywheel deploy history`
/// shows every change with who made it and when. The current deployment is the latest
/// revision when that revision is `applied`.
public struct DeploymentRevision: Hashable, Codable, Sendable {
    public var name: String
    public var revision: Int
    public var action: DeploymentAction
    /// The spec's YAML as applied (empty for a deletion).
    public var spec: String
    public var actor: String
    public var time: Timestamp

    public init(name: String, revision: Int, action: DeploymentAction, spec: String, actor: String, time: Timestamp) {
        self.name = name
        self.revision = revision
        self.action = action
        self.spec = spec
        self.actor = actor
        self.time = time
    }

    /// Deployment names appear in URLs (`/predict/NAME`), so they are kept to a safe alphabet.
    public static func validate(name: String) throws {
        guard !name.isEmpty, name.count <= 128, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw FlywheelError.invalidArgument("deployment name '\(name)' is not valid: expected 1-128 letters, digits, '-', '_' or '.'")
        }
    }
}

/// One logged prediction: a record a deployment answered, as the model saw it (after redaction).
///
/// A request holding several records logs one entry per record, joined by `requestID` and told
/// apart by `index`; feedback names the same pair.
public struct PredictionRecord: Hashable, Codable, Sendable {
    public var requestID: String
    public var index: Int
    public var time: Timestamp
    public var deployment: String
    public var model: String
    public var version: Int
    /// The record's fields (redacted).
    public var features: [String: JSONValue]
    /// The answer: label, probabilities or value, needs_review.
    public var output: JSONValue
    public var latencyMicros: Int
    /// Answers of the shadow versions for the same record, by `model@version`.
    public var shadow: [String: JSONValue]
    /// The feedback label, when one has arrived (filled on read).
    public var feedback: JSONValue?

    public init(
        requestID: String, index: Int, time: Timestamp, deployment: String, model: String, version: Int,
        features: [String: JSONValue], output: JSONValue, latencyMicros: Int, shadow: [String: JSONValue] = [:], feedback: JSONValue? = nil
    ) {
        self.requestID = requestID
        self.index = index
        self.time = time
        self.deployment = deployment
        self.model = model
        self.version = version
        self.features = features
        self.output = output
        self.latencyMicros = latencyMicros
        self.shadow = shadow
        self.feedback = feedback
    }
}

/// A true label for a logged prediction, arriving later (from a person or a downstream system).
public struct FeedbackLabel: Hashable, Codable, Sendable {
    public var requestID: String
    public var index: Int
    public var label: JSONValue
    public var time: Timestamp

    public init(requestID: String, index: Int = 0, label: JSONValue, time: Timestamp) {
        self.requestID = requestID
        self.index = index
        self.label = label
        self.time = time
    }
}

/// Which logged predictions to read back.
public struct PredictionQuery: Hashable, Sendable {
    public var deployment: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var limit: Int

    public init(deployment: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil, limit: Int = 10_000) {
        self.deployment = deployment
        self.since = since
        self.until = until
        self.limit = limit
    }
}
