import FlywheelCore
import Foundation

/// The type of a param, a component input or a step output.
public enum PortType: String, Hashable, Codable, Sendable, CaseIterable {
    case string, integer, number, boolean, list, object, any
    /// Blobs: a CSV table, a model bundle, a metrics JSON object, any other file.
    case dataset, model, metrics, file

    public var isArtifact: Bool { [.dataset, .model, .metrics, .file].contains(self) }

    /// Whether a value of type `given` may feed an input of this type. Literal strings feed blob
    /// inputs (they name a file in the workspace); a blob feeds a string input as its path.
    public func accepts(_ given: PortType) -> Bool {
        if self == given || self == .any || given == .any { return true }
        switch self {
        case .file: return given.isArtifact || given == .string
        case .dataset, .model, .metrics: return given == .string || given == .file
        case .number: return given == .integer || given == .string
        case .integer: return given == .string
        case .boolean: return given == .string
        case .string: return true
        case .list, .object, .any: return false
        }
    }

    /// Parses a type name as written in a spec (`int`, `float`, `bool` and `str` are accepted too).
    public init?(spelling: String) {
        switch spelling {
        case "int": self = .integer
        case "float", "double": self = .number
        case "bool": self = .boolean
        case "str": self = .string
        default: self.init(rawValue: spelling)
        }
    }

    /// The type a JSON value has.
    public static func of(_ v: JSONValue) -> PortType {
        switch v {
        case .null: return .any
        case .bool: return .boolean
        case .number(let d): return d == d.rounded() && abs(d) < 9.007_199_254_740_992e15 ? .integer : .number
        case .string: return .string
        case .array: return .list
        case .object: return .object
        }
    }
}

/// A value flowing through a pipeline: a JSON value, a blob, or (after a `for_each`) a list.
public enum PipelineValue: Hashable, Sendable {
    case value(JSONValue)
    case artifact(PortType, Digest)
    case list([PipelineValue])

    /// As recorded in a step attempt: blobs by digest.
    public var recorded: JSONValue {
        switch self {
        case .value(let v): return v
        case .artifact(let t, let d): return .object(["type": .string(t.rawValue), "digest": .string(d.description)])
        case .list(let items): return .array(items.map(\.recorded))
        }
    }

    /// A stable text for cache keys (JSON with sorted keys).
    var canonical: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? String(decoding: enc.encode(recorded), as: UTF8.self)) ?? ""
    }

    /// The JSON value, when this is one.
    public var json: JSONValue? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var isTruthy: Bool {
        switch self {
        case .artifact: return true
        case .list(let l): return !l.isEmpty
        case .value(let v):
            switch v {
            case .null: return false
            case .bool(let b): return b
            case .number(let d): return d != 0 && !d.isNaN
            case .string(let s): return !s.isEmpty && !["false", "0", "no"].contains(s.lowercased())
            case .array(let a): return !a.isEmpty
            case .object(let o): return !o.isEmpty
            }
        }
    }

    /// Number in the value, also from a numeric string.
    var number: Double? {
        switch self {
        case .value(.number(let d)): return d
        case .value(.string(let s)): return Double(s.trimmingCharacters(in: .whitespaces))
        case .value(.bool(let b)): return b ? 1 : 0
        default: return nil
        }
    }

    static func compare(_ op: Expression.ComparisonOperator, _ a: PipelineValue, _ b: PipelineValue) -> Bool {
        // Numbers (and numeric strings) compare as numbers; other values as text.
        if let x = a.number, let y = b.number, !(a.isText && b.isText) {
            switch op {
            case .eq: return x == y
            case .ne: return x != y
            case .lt: return x < y
            case .le: return x <= y
            case .gt: return x > y
            case .ge: return x >= y
            }
        }
        let x = a.text, y = b.text
        switch op {
        case .eq: return a == b || x == y
        case .ne: return !(a == b || x == y)
        case .lt: return x < y
        case .le: return x <= y
        case .gt: return x > y
        case .ge: return x >= y
        }
    }

    private var isText: Bool { if case .value(.string) = self { true } else { false } }

    /// The recorded form as compact JSON.
    public var textJSON: String { canonical }

    /// The value as text: how it appears when interpolated into a longer string.
    public var text: String {
        switch self {
        case .value(let v): return Self.text(v)
        case .artifact(_, let d): return d.description
        case .list(let items): return items.map(\.text).joined(separator: " ")
        }
    }

    static func text(_ v: JSONValue) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return formatNumber(d)
        case .string(let s): return s
        case .array, .object:
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            return (try? String(decoding: enc.encode(v), as: UTF8.self)) ?? ""
        }
    }

    /// Integers without a decimal point, other numbers in their shortest exact form.
    static func formatNumber(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
