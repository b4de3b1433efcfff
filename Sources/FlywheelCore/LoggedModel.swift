import Foundation

/// A logged model's ID: `m-` and 32 lowercase hex digits, as MLflow 3 names them.
public struct LoggedModelID: StringIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static func generate() -> LoggedModelID {
        LoggedModelID(rawValue: "m-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())
    }

    /// Whether `text` has the shape of a generated ID (so `models:/m-…` can be told from `models:/name/1`).
    public static func isWellFormed(_ text: String) -> Bool {
        text.hasPrefix("m-") && RunID.isWellFormed(String(text.dropFirst(2)))
    }
}

/// Where a logged model's upload stands.
public enum LoggedModelStatus: String, Hashable, Codable, Sendable, CaseIterable {
    /// Created; its files are being uploaded.
    case pending
    /// Every file is uploaded.
    case ready
    /// The upload failed; the files may be incomplete.
    case failed
}

/// A model logged by training code (MLflow 3's `log_model`): a folder of files in an experiment,
/// usually produced by a run, with its own params, tags and the metrics measured on it. It is not
/// a registry version; registering one makes a version whose source is `models:/<id>`.
public struct LoggedModel: Hashable, Codable, Sendable {
    public var id: LoggedModelID
    public var experimentID: ExperimentID
    public var name: String
    public var modelType: String
    public var sourceRunID: RunID?
    public var status: LoggedModelStatus
    public var statusMessage: String
    public var creator: String
    public var params: [String: String]
    public var tags: [String: String]
    /// Metrics logged with this model's ID, in the order they came.
    public var metrics: [LoggedModelMetric]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Set once deleted: a deleted model is hidden from searches and refuses changes.
    public var deletedAt: Timestamp?

    public init(
        id: LoggedModelID, experimentID: ExperimentID, name: String, modelType: String = "", sourceRunID: RunID? = nil,
        status: LoggedModelStatus = .pending, statusMessage: String = "", creator: String = "", params: [String: String] = [:],
        tags: [String: String] = [:], metrics: [LoggedModelMetric] = [], createdAt: Timestamp, updatedAt: Timestamp,
        deletedAt: Timestamp? = nil
    ) {
        self.id = id
        self.experimentID = experimentID
        self.name = name
        self.modelType = modelType
        self.sourceRunID = sourceRunID
        self.status = status
        self.statusMessage = statusMessage
        self.creator = creator
        self.params = params
        self.tags = tags
        self.metrics = metrics
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
    }

    /// The label of a registry version that was registered from a logged model: its ID.
    public static let versionLabel = "mlflow.model_id"

    /// Names are shown in URIs (`runs:/RUN/NAME`): no `/`, `:` or control characters.
    public static func validate(name: String) throws {
        guard !name.isEmpty, name.count <= 256, !name.contains(where: { "/:\\".contains($0) || $0.isNewline || $0 == "\0" }) else {
            throw FlywheelError.invalidArgument("logged model name '\(name)' is not valid: expected 1-256 characters without '/', ':' or '\\'")
        }
    }
}

/// A metric measured on a logged model, with the run and dataset it was measured in.
public struct LoggedModelMetric: Hashable, Codable, Sendable {
    public var metric: Metric
    public var runID: RunID?
    public var datasetName: String?
    public var datasetDigest: String?
    public init(metric: Metric, runID: RunID? = nil, datasetName: String? = nil, datasetDigest: String? = nil) {
        self.metric = metric
        self.runID = runID
        self.datasetName = datasetName
        self.datasetDigest = datasetDigest
    }
}

/// A file of a logged model, by logical path under the model's folder.
public struct ModelArtifactRecord: Hashable, Codable, Sendable {
    public var modelID: LoggedModelID
    public var path: String
    public var digest: Digest
    public var size: Int64
    public var createdAt: Timestamp
    public init(modelID: LoggedModelID, path: String, digest: Digest, size: Int64, createdAt: Timestamp) {
        self.modelID = modelID
        self.path = path
        self.digest = digest
        self.size = size
        self.createdAt = createdAt
    }
}

/// Logged models and their files. Backends keep the same promises as ``MetadataStore``: each call
/// is one transaction, a missing experiment or model is ``FlywheelError/Code/notFound``.
public protocol LoggedModelStore: Sendable {
    /// Stores a new logged model; its experiment (and source run, when set) must exist.
    func createLoggedModel(_ model: LoggedModel) async throws
    /// A logged model by ID, deleted or not.
    func loggedModel(id: LoggedModelID) async throws -> LoggedModel?
    /// Reads, changes and writes back one logged model in one transaction (so two concurrent tag
    /// or metric updates never lose one); returns the model as written.
    @discardableResult
    func updateLoggedModel(id: LoggedModelID, _ change: @escaping @Sendable (inout LoggedModel) throws -> Void) async throws -> LoggedModel
    /// The models of these experiments (every experiment when empty) that are not deleted, newest first.
    func loggedModels(experimentIDs: [ExperimentID]) async throws -> [LoggedModel]
    /// Records (or replaces) files of a logged model by path.
    func recordModelArtifacts(_ artifacts: [ModelArtifactRecord]) async throws
    /// A logged model's files, by path, optionally those under `prefix/` (or `prefix` itself).
    func modelArtifacts(modelID: LoggedModelID, prefix: String?) async throws -> [ModelArtifactRecord]
}
