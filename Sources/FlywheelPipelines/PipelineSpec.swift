import FlywheelCore
// Spec diagnostics (`Diagnostic`, `SpecLocation`) are part of this module's API.
@_exported import FlywheelYAML
import Foundation

/// A value written under `with:`, `hyperparameters:` and the like: scalars, `${{ }}` strings,
/// lists and maps, each resolved when the step runs.
public indirect enum SpecValue: Hashable, Sendable {
    case scalar(JSONValue)
    case template(Template)
    case list([SpecValue])
    case map([String: SpecValue])

    public var references: [[String]] {
        switch self {
        case .scalar: return []
        case .template(let t): return t.references
        case .list(let items): return items.flatMap(\.references)
        case .map(let m): return m.keys.sorted().flatMap { m[$0]?.references ?? [] }
        }
    }
}

/// When and how a failed step is tried again: `attempts` in all, waiting `backoff` seconds times
/// `factor` per retry, at most `maxBackoff`, spread by ± `jitter` (a fraction).
public struct RetryPolicy: Hashable, Sendable, Codable {
    public var attempts: Int
    public var backoff: Double
    public var factor: Double
    public var maxBackoff: Double?
    public var jitter: Double

    public init(attempts: Int = 1, backoff: Double = 1, factor: Double = 2, maxBackoff: Double? = nil, jitter: Double = 0.1) {
        self.attempts = attempts
        self.backoff = backoff
        self.factor = factor
        self.maxBackoff = maxBackoff
        self.jitter = jitter
    }

    /// Seconds to wait after failed attempt `n` (1-based); `unit` in [0, 1) draws the jitter.
    public func delay(after n: Int, unit: Double) -> Double {
        var d = backoff * pow(factor, Double(max(n - 1, 0)))
        if let m = maxBackoff { d = min(d, m) }
        d *= 1 + jitter * (2 * unit - 1)
        return max(d, 0)
    }
}

/// A param a pipeline takes, with its type and default.
public struct ParamSpec: Hashable, Sendable {
    public var name: String
    public var type: PortType
    public var defaultValue: JSONValue?
    public var description: String
    public var location: SpecLocation?
}

/// One step of a pipeline as written.
public struct StepSpec: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// A built-in component by name.
        case uses(String)
        /// A shell command (`/bin/sh -c`).
        case run(Template)
    }
    public var name: String
    public var location: SpecLocation?
    public var action: Action
    public var with: [String: SpecValue] = [:]
    public var withLocations: [String: SpecLocation] = [:]
    /// Steps named under `needs:`; references in `with:`/`run:`/`if:` add theirs implicitly.
    public var needs: [String] = []
    public var condition: Template?
    public var retry = RetryPolicy()
    /// Seconds before the attempt is stopped (its whole process group killed).
    public var timeout: Double?
    public var cache = true
    public var env: [String: Template] = [:]
    /// A list (or an expression giving one): the step runs once per item, `${{ item }}` inside.
    public var forEach: SpecValue?
    /// A `run:` step's declared outputs: name → type (`file`, `dataset`, `model`, `metrics`).
    public var outputs: [String: PortType] = [:]
    /// Files (workspace-relative) whose digests join a `run:` step's cache key.
    public var deps: [String] = []
    /// The container image for this step when compiled for Kubeflow.
    public var image: String?
    public var description = ""

    /// Every reference the step makes, from any of its fields.
    public var references: [[String]] {
        var refs = with.keys.sorted().flatMap { with[$0]?.references ?? [] }
        if case .run(let t) = action { refs += t.references }
        refs += condition?.references ?? []
        refs += env.keys.sorted().flatMap { env[$0]?.references ?? [] }
        refs += forEach?.references ?? []
        return refs
    }

    /// The steps this one waits for: `needs:` plus every step its expressions read.
    public var upstream: [String] {
        var seen = Set<String>(), out: [String] = []
        for n in needs + references.compactMap({ $0.count >= 2 && $0[0] == "steps" ? $0[1] : nil }) where seen.insert(n).inserted {
            out.append(n)
        }
        return out
    }
}

/// A file trigger (`on: [{files: "data/incoming/*.csv"}]`) or an event name.
public enum TriggerSpec: Hashable, Sendable {
    case files(String)
    case event(String)
}

/// A parsed `pipeline.yaml`.
public struct PipelineSpec: Hashable, Sendable {
    public var name: String
    public var description = ""
    public var params: [ParamSpec] = []
    public var schedule: String?
    public var triggers: [TriggerSpec] = []
    /// What the scheduler does about fire times missed while it was down: `none` or `once`.
    public var catchUp = "none"
    public var steps: [StepSpec] = []
    /// The spec's text, as parsed.
    public var text: String

    public func step(_ name: String) -> StepSpec? { steps.first { $0.name == name } }
    public func param(_ name: String) -> ParamSpec? { params.first { $0.name == name } }
}
