import FlywheelCore
import Foundation

/// Turns a spec's declared params and `-p key=value` overrides into the values a run uses.
public enum PipelineParams {
    /// Defaults, overridden by `overrides` (text as typed on the command line, converted to
    /// the param's type). Unknown names, values of the wrong type and params with neither a
    /// default nor an override are errors naming the param.
    public static func resolve(_ spec: PipelineSpec, overrides: [String: String]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (k, _) in overrides where spec.param(k) == nil {
            let known = spec.params.map(\.name)
            throw FlywheelError.invalidArgument(
                "-p \(k): the pipeline has no param '\(k)'" + (known.isEmpty ? "" : "; its params are \(known.joined(separator: ", "))"))
        }
        for p in spec.params {
            if let text = overrides[p.name] {
                out[p.name] = try convert(text, to: p.type, name: p.name)
            } else if let d = p.defaultValue {
                out[p.name] = d
            } else {
                throw FlywheelError.invalidArgument("param '\(p.name)' has no default: give it with -p \(p.name)=VALUE")
            }
        }
        return out
    }

    static func convert(_ text: String, to type: PortType, name: String) throws -> JSONValue {
        func bad(_ expected: String) -> FlywheelError {
            .invalidArgument("-p \(name)=\(text): expected \(expected)")
        }
        switch type {
        case .integer:
            guard let i = Int64(text.trimmingCharacters(in: .whitespaces)) else { throw bad("a whole number") }
            return .number(Double(i))
        case .number:
            guard let d = Double(text.trimmingCharacters(in: .whitespaces)), d.isFinite else { throw bad("a number") }
            return .number(d)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: throw bad("true or false")
            }
        case .list, .object:
            guard let v = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw bad(type == .list ? "a JSON list like [1,2,3]" : "a JSON object")
            }
            guard PortType.of(v) == type else { throw bad(type == .list ? "a JSON list" : "a JSON object") }
            return v
        case .any:
            if let d = Double(text), d.isFinite { return .number(d) }
            if text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        default:
            return .string(text)
        }
    }

    /// Splits `key=value` (the value may itself hold `=`).
    public static func parseAssignment(_ text: String) throws -> (String, String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw FlywheelError.invalidArgument("-p '\(text)': expected KEY=VALUE")
        }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }
}
