import FlywheelCore
import Foundation
import Yams

/// A place in a spec file, 1-based.
public struct SpecLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// One problem found in a spec, with where it is.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public var location: SpecLocation?
    public var message: String
    public init(_ location: SpecLocation?, _ message: String) {
        self.location = location
        self.message = message
    }
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// Reads the YAML files a user writes (pipelines, deployments, monitors) from Yams' node tree,
/// collecting every problem with its line and column instead of stopping at the first.
///
/// Each spec parser keeps one reader and asks it for typed values; the reader records what was
/// wrong and where, with "did you mean" for a mistyped key.
public struct SpecReader: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    /// The deepest flow nesting (`[`, `{`) a spec may have.
    public static let maxNesting = 64

    /// The document's root node, or nil (with a diagnostic) when the text is not YAML.
    public mutating func compose(_ text: String) -> Node? {
        // The YAML composer recurses once per level: refuse absurd flow nesting before it runs.
        var depth = 0, deepest = 0, quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "[", "{":
                depth += 1
                deepest = max(deepest, depth)
            case "]", "}": depth = max(depth - 1, 0)
            default: break
            }
            if deepest > Self.maxNesting {
                diagnostics.append(Diagnostic(nil, "the YAML nests more than \(Self.maxNesting) levels of [ ] or { }"))
                return nil
            }
        }
        do {
            return try Yams.compose(yaml: text)
        } catch let e as YamlError {
            diagnostics.append(Self.diagnostic(e))
        } catch {
            diagnostics.append(Diagnostic(nil, "not valid YAML: \(error)"))
        }
        return nil
    }

    public mutating func report(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(Self.location(node), message))
    }

    public mutating func append(_ d: Diagnostic) { diagnostics.append(d) }

    public static func location(_ node: Node?) -> SpecLocation? {
        node?.mark.map { SpecLocation(line: $0.line, column: $0.column) }
    }

    public static func diagnostic(_ e: YamlError) -> Diagnostic {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            return Diagnostic(SpecLocation(line: mark.line, column: mark.column), "YAML: \(ctx)\(problem)")
        case .reader(let problem, let offset, _, _):
            return Diagnostic(nil, "YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
        default:
            return Diagnostic(nil, "YAML: \(e)")
        }
    }

    /// A name for a pipeline, step, deployment or monitor: letters, digits, `-`, `_`, `.`.
    public static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// Reports each key of `m` not in `allowed`, suggesting the nearest allowed one.
    public mutating func checkKeys(_ m: Node.Mapping, allowed: [String], what: String) {
        for k in m.keys {
            let key = k.string ?? ""
            if !allowed.contains(key) {
                let near = allowed.min { Self.distance($0, key) < Self.distance($1, key) }
                let hint = near.map { Self.distance($0, key) <= 2 ? " (did you mean '\($0)'?)" : "" } ?? ""
                report(k, "unknown key '\(key)' in \(what)\(hint); expected one of \(allowed.joined(separator: ", "))")
            }
        }
    }

    /// Edit distance, for "did you mean".
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in 1...max(y.count, 1) where !y.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[y.count]
    }

    /// A scalar's text (any scalar, typed or not); nil for a list or a mapping.
    public static func scalar(_ n: Node) -> String? {
        if case .scalar(let s) = n { return s.string }
        return nil
    }

    /// A number, or nil (with a diagnostic naming `what`) when the node is not one.
    public mutating func number(_ n: Node, _ what: String) -> Double? {
        if case .scalar(let s) = n, s.style == .plain, let d = n.float ?? n.int.map(Double.init) {
            if d.isFinite { return d }
            report(n, "'\(what)' must be a finite number")
            return nil
        }
        report(n, "'\(what)' must be a number")
        return nil
    }

    /// A string scalar, or nil (with a diagnostic naming `what`).
    public mutating func string(_ n: Node, _ what: String) -> String? {
        if let s = Self.scalar(n) { return s }
        report(n, "'\(what)' must be a string")
        return nil
    }

    /// A YAML node as a JSON value: plain scalars get their YAML type, quoted ones stay strings.
    public static func json(_ n: Node) -> JSONValue {
        switch n {
        case .scalar(let s):
            if s.style == .plain {
                if n.null != nil { return .null }
                if let b = n.bool { return .bool(b) }
                if let i = n.int { return .number(Double(i)) }
                if let d = n.float { return .number(d) }
            }
            return .string(s.string)
        case .sequence(let seq): return .array(seq.map(json))
        case .mapping(let m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m { o[k.string ?? ""] = json(v) }
            return .object(o)
        }
    }
}

/// Parses durations as specs write them: `500ms`, `30s`, `10m`, `2h`, `1d`, or a bare number of seconds.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)), v >= 0, (v * scale).isFinite { return v * scale }
        }
        if let v = Double(t), v >= 0, v.isFinite { return v }
        return nil
    }
}
