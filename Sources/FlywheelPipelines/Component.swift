import FlywheelCore
import FlywheelRegistry
import Foundation

/// One input or output of a component.
public struct PortSpec: Hashable, Sendable, Codable {
    public var name: String
    public var type: PortType
    /// A required input must be given (an input with a default never is).
    public var required: Bool
    public var defaultValue: JSONValue?
    public var summary: String

    public init(_ name: String, _ type: PortType, required: Bool = false, default value: JSONValue? = nil, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required && value == nil
        self.defaultValue = value
        self.summary = summary
    }
}

/// An input as a component receives it: a value, a file on the local disk, or a list of them.
public indirect enum ResolvedInput: Sendable {
    case value(JSONValue)
    case file(URL, PortType, Digest)
    case list([ResolvedInput])
}

/// The inputs of one step, resolved, with typed accessors whose errors name the input.
public struct ComponentInputs: Sendable {
    public var values: [String: ResolvedInput]
    let component: String

    public init(_ values: [String: ResolvedInput], component: String) {
        self.values = values
        self.component = component
    }

    func missing(_ name: String, _ expected: String) -> FlywheelError {
        .invalidArgument("\(component): input '\(name)' must be \(expected)")
    }

    public func has(_ name: String) -> Bool {
        if case .value(.null)? = values[name] { return false }
        return values[name] != nil
    }

    public func json(_ name: String) -> JSONValue? {
        switch values[name] {
        case .value(let v)?: return v == .null ? nil : v
        default: return nil
        }
    }

    public func string(_ name: String) throws -> String {
        guard let s = optionalString(name) else { throw missing(name, "a string") }
        return s
    }

    public func optionalString(_ name: String) -> String? {
        switch values[name] {
        case .value(.null)?, nil: return nil
        case .value(let v)?: return PipelineValue.text(v)
        case .file(let url, _, _)?: return url.path
        case .list?: return nil
        }
    }

    public func number(_ name: String) throws -> Double {
        guard let d = optionalNumber(name) else { throw missing(name, "a number") }
        return d
    }

    public func optionalNumber(_ name: String) -> Double? {
        guard case .value(let v)? = values[name] else { return nil }
        return PipelineValue.value(v).number
    }

    public func bool(_ name: String, default d: Bool) -> Bool {
        guard case .value(let v)? = values[name], v != .null else { return d }
        return PipelineValue.value(v).isTruthy
    }

    /// A file input: a blob handed over by an upstream step, or a path (relative to the workspace).
    public func file(_ name: String) throws -> URL {
        guard case .file(let url, _, _)? = values[name] else { throw missing(name, "a file") }
        return url
    }

    public func optionalFile(_ name: String) -> URL? {
        if case .file(let url, _, _)? = values[name] { return url }
        return nil
    }

    public func digest(_ name: String) -> Digest? {
        if case .file(_, _, let d)? = values[name] { return d }
        return nil
    }
}

/// What a component may use while it runs.
public struct ComponentContext: Sendable {
    public var store: any MetadataStore
    public var blobs: any BlobStore
    public var tracking: TrackingService
    public var registry: ModelRegistry
    public var clock: any WallClock
    /// The workspace folder: relative paths in inputs are read from here.
    public var workspaceRoot: URL
    /// A fresh folder for this attempt.
    public var workDir: URL
    public var pipelineRunID: PipelineRunID
    public var pipeline: String
    public var step: String
    /// The experiment the pipeline's tracking runs go into.
    public var experimentID: ExperimentID?
    /// The pipeline run's own tracking run; a step's run is its child.
    public var parentRunID: RunID?
    /// A line of the step's log (shown live with the step's prefix and kept as an artifact).
    public var log: @Sendable (String) -> Void
    let runHolder: RunHolder

    /// Tells the executor which tracking run this step logged into (recorded with the attempt).
    public func recordRun(_ id: RunID) { runHolder.runID = id }

    /// Stores a file the step made as an output blob.
    public func output(_ url: URL, as type: PortType) async throws -> PipelineValue {
        let info = try await blobs.put(contentsOf: url)
        return .artifact(type, info.digest)
    }

    /// Who registry changes are attributed to.
    public var attribution: Attribution {
        Attribution(actor: "pipeline:\(pipeline)/\(step)", reason: "pipeline run \(pipelineRunID)")
    }
}

/// A built-in step: typed inputs and outputs, run in-process.
public protocol Component: Sendable {
    /// `data/load`, `learn/train`, …
    var name: String { get }
    /// Part of the cache key: bump it when the component's results change for the same inputs.
    var version: String { get }
    var summary: String { get }
    var inputs: [PortSpec] { get }
    var outputs: [PortSpec] { get }
    /// False for a component whose result depends on more than its inputs (the registry's
    /// state) or that changes the world: such a step runs every time.
    var cacheable: Bool { get }
    /// Blocking work must go off the cooperative pool (`ComponentWork.run`).
    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue]
}

extension Component {
    public var cacheable: Bool { true }
    public func input(_ name: String) -> PortSpec? { inputs.first { $0.name == name } }
    public func output(_ name: String) -> PortSpec? { outputs.first { $0.name == name } }
}

/// Runs blocking CPU work (training, reading a large table) on a Dispatch thread, so the
/// cooperative pool keeps serving other steps.
public enum ComponentWork {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}

/// The components a pipeline may `use`, by name.
public struct ComponentCatalog: Sendable {
    public private(set) var components: [String: any Component] = [:]

    public init(_ list: [any Component]) {
        for c in list { components[c.name] = c }
    }

    public subscript(name: String) -> (any Component)? { components[name] }

    public var names: [String] { components.keys.sorted() }

    /// Every built-in component.
    public static let builtIn = ComponentCatalog(BuiltInComponents.all)
}
