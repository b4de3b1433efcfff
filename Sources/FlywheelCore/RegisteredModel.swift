/// A named model in the registry, whose versions are numbered from 1.
public struct RegisteredModel: Hashable, Codable, Sendable {
    public var name: String
    public var description: String
    public var labels: Labels
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(name: String, description: String = "", labels: Labels = [:], createdAt: Timestamp, updatedAt: Timestamp) {
        self.name = name
        self.description = description
        self.labels = labels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Model names appear in `models:/name/3` URIs, so `/` and `@` are not allowed.
    public static func validate(name: String) throws {
        guard !name.isEmpty, name.count <= 256,
            name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        else {
            throw FlywheelError.invalidArgument(
                "model name '\(name)' is not valid: expected 1-256 letters, digits, '-', '_' or '.'")
        }
    }
}

/// Where a model version stands in its life.
public enum ModelVersionStatus: String, Hashable, Codable, Sendable, CaseIterable {
    case ready, deprecated, archived

    public init(parsing text: String) throws {
        guard let s = ModelVersionStatus(rawValue: text.lowercased()) else {
            throw FlywheelError.invalidArgument(
                "version status '\(text)' is not valid: expected one of ready, deprecated, archived")
        }
        self = s
    }
}

/// One numbered version of a registered model.
public struct ModelVersion: Hashable, Codable, Sendable {
    public var modelName: String
    public var version: Int
    /// The run that produced it.
    public var runID: RunID?
    /// The digest of the model file in the blob store.
    public var digest: Digest?
    /// Where the files came from (`runs:/<id>/model`, a path).
    public var source: String
    /// The input signature: columns, types, categories.
    public var signature: JSONValue?
    public var description: String
    public var status: ModelVersionStatus
    public var labels: Labels
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        modelName: String, version: Int, runID: RunID? = nil, digest: Digest? = nil, source: String = "",
        signature: JSONValue? = nil, description: String = "", status: ModelVersionStatus = .ready,
        labels: Labels = [:], createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.modelName = modelName
        self.version = version
        self.runID = runID
        self.digest = digest
        self.source = source
        self.signature = signature
        self.description = description
        self.status = status
        self.labels = labels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a caller gives to create a version; the store assigns the number.
public struct NewModelVersion: Hashable, Sendable {
    public var modelName: String
    public var runID: RunID?
    public var digest: Digest?
    public var source: String
    public var signature: JSONValue?
    public var description: String
    public var labels: Labels
    public init(
        modelName: String, runID: RunID? = nil, digest: Digest? = nil, source: String = "",
        signature: JSONValue? = nil, description: String = "", labels: Labels = [:]
    ) {
        self.modelName = modelName
        self.runID = runID
        self.digest = digest
        self.source = source
        self.signature = signature
        self.description = description
        self.labels = labels
    }
}

/// Who did something and why, recorded with every alias move and status change.
public struct Attribution: Hashable, Codable, Sendable {
    public var actor: String
    public var reason: String
    public init(actor: String, reason: String = "") {
        self.actor = actor
        self.reason = reason
    }
}

/// One change to a registered model's versions or aliases, kept forever.
public struct RegistryEvent: Hashable, Codable, Sendable {
    public enum Kind: String, Hashable, Codable, Sendable {
        case versionCreated = "version_created"
        case aliasSet = "alias_set"
        case aliasDeleted = "alias_deleted"
        case statusChanged = "status_changed"
        case versionDeleted = "version_deleted"
        /// The model took its present name; `reason` says from which.
        case renamed
    }
    public var modelName: String
    public var kind: Kind
    public var alias: String?
    /// The version the event is about (the alias' new target, the version whose status changed).
    public var version: Int?
    /// For alias moves and deletions: the version the alias pointed at before.
    public var previousVersion: Int?
    public var status: ModelVersionStatus?
    public var previousStatus: ModelVersionStatus?
    public var actor: String
    public var reason: String
    public var time: Timestamp

    public init(
        modelName: String, kind: Kind, alias: String? = nil, version: Int? = nil, previousVersion: Int? = nil,
        status: ModelVersionStatus? = nil, previousStatus: ModelVersionStatus? = nil, actor: String, reason: String,
        time: Timestamp
    ) {
        self.modelName = modelName
        self.kind = kind
        self.alias = alias
        self.version = version
        self.previousVersion = previousVersion
        self.status = status
        self.previousStatus = previousStatus
        self.actor = actor
        self.reason = reason
        self.time = time
    }
}

/// Alias names: letters, digits, `-`, `_`; not all digits, so `name@3` can never be ambiguous.
public func validateAlias(_ alias: String) throws {
    guard !alias.isEmpty, alias.count <= 64, alias.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
        !alias.allSatisfy(\.isNumber)
    else {
        throw FlywheelError.invalidArgument(
            "alias '\(alias)' is not valid: expected 1-64 letters, digits, '-' or '_', not only digits")
    }
}
