/// A named group of runs (`iris`, `fraud-v2`).
public struct Experiment: Hashable, Codable, Sendable {
    public var id: ExperimentID
    public var name: String
    public var description: String
    public var labels: Labels
    public var archived: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: ExperimentID, name: String, description: String = "", labels: Labels = [:], archived: Bool = false,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.labels = labels
        self.archived = archived
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Names are 1–256 printable characters; they appear in URLs and on command lines.
    public static func validate(name: String) throws {
        guard !name.isEmpty, name.count <= 256, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
            name.trimmingWhitespace() == name
        else {
            throw FlywheelError.invalidArgument(
                "experiment name '\(name)' is not valid: expected 1-256 printable characters without leading or trailing spaces")
        }
    }
}

/// What a caller gives to create an experiment; the store assigns the ID.
public struct NewExperiment: Hashable, Sendable {
    public var name: String
    public var description: String
    public var labels: Labels
    public init(name: String, description: String = "", labels: Labels = [:]) {
        self.name = name
        self.description = description
        self.labels = labels
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// How busy an experiment is: its active runs and the latest start among them.
public struct ExperimentActivity: Hashable, Sendable {
    public var runs: Int
    public var lastActivity: Timestamp?
    public init(runs: Int, lastActivity: Timestamp?) {
        self.runs = runs
        self.lastActivity = lastActivity
    }
}
