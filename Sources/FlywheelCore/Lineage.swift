/// A reference to anything lineage can join: `dataset:sha256:…`, `run:<id>`, `model:iris/3`,
/// `pipeline_run:<id>`, `deployment:<name>`.
public struct ResourceRef: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Codable, Sendable, CaseIterable {
        case dataset
        case run
        case modelVersion = "model"
        case pipelineRun = "pipeline_run"
        case deployment
        case artifact
        /// An MLflow logged model (`logged_model:m-…`).
        case loggedModel = "logged_model"
    }
    public var kind: Kind
    public var id: String

    public init(kind: Kind, id: String) {
        self.kind = kind
        self.id = id
    }

    public static func dataset(_ d: Digest) -> ResourceRef { .init(kind: .dataset, id: d.description) }
    public static func run(_ id: RunID) -> ResourceRef { .init(kind: .run, id: id.rawValue) }
    public static func loggedModel(_ id: LoggedModelID) -> ResourceRef { .init(kind: .loggedModel, id: id.rawValue) }
    public static func modelVersion(_ name: String, _ version: Int) -> ResourceRef {
        .init(kind: .modelVersion, id: "\(name)/\(version)")
    }

    public var description: String { "\(kind.rawValue):\(id)" }

    /// Parses `kind:id`.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])),
            colon < text.index(before: text.endIndex)
        else {
            throw FlywheelError.invalidArgument(
                "reference '\(text)' is not valid: expected KIND:ID with KIND one of "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", ")
                    + " (e.g. run:0123abcd…, dataset:sha256:…, model:iris/3)")
        }
        self.init(kind: kind, id: String(text[text.index(after: colon)...]))
    }

    public static func < (a: ResourceRef, b: ResourceRef) -> Bool { a.description < b.description }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A directed edge: `source` fed or produced `target` (dataset → run → model version → deployment).
public struct LineageEdge: Hashable, Codable, Sendable {
    public var source: ResourceRef
    public var target: ResourceRef
    /// What the edge means: `input`, `produced`, `registered`, `deployed`, …
    public var relation: String
    public var createdAt: Timestamp

    public init(source: ResourceRef, target: ResourceRef, relation: String, createdAt: Timestamp) {
        self.source = source
        self.target = target
        self.relation = relation
        self.createdAt = createdAt
    }
}

/// Which way to follow lineage edges from a resource.
public enum LineageDirection: String, Hashable, Codable, Sendable, CaseIterable {
    /// Towards what the resource came from (edges whose target it is).
    case upstream
    /// Towards what was made from it (edges whose source it is).
    case downstream
}
