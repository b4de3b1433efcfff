import FlywheelCore
import Foundation

/// An expression inside `${{ … }}`: references (`params.x`, `steps.s.outputs.o`, `outputs.o`,
/// `item`), literals, comparisons and `and` / `or` / `not` (also spelled `&&`, `||`, `!`).
public indirect enum Expression: Hashable, Sendable {
    case literal(JSONValue)
    /// A dotted path, e.g. `["steps", "train", "outputs", "model"]`; a `[n]` index is a number segment.
    case reference([String])
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case compare(ComparisonOperator, Expression, Expression)

    public enum ComparisonOperator: String, Hashable, Sendable { case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=" }

    /// Every reference in the expression, in order.
    public var references: [[String]] {
        switch self {
        case .literal: return []
        case .reference(let p): return [p]
        case .not(let e): return e.references
        case .and(let a, let b), .or(let a, let b), .compare(_, let a, let b): return a.references + b.references
        }
    }

    /// Parses the text between `${{` and `}}`.
    public static func parse(_ text: String) throws -> Expression {
        var p = ExpressionParser(text)
        let e = try p.parseOr()
        p.skipSpace()
        guard p.atEnd else { throw p.error("unexpected '\(p.rest)'") }
        return e
    }
}

/// A string with `${{ … }}` parts: the value of a `with:` entry, a `run:` command, an `if:`.
public struct Template: Hashable, Sendable {
    public enum Part: Hashable, Sendable {
        case text(String)
        case expression(Expression)
    }
    public var parts: [Part]

    /// The single expression when the whole string is one `${{ … }}` (its value keeps its type).
    public var soleExpression: Expression? {
        if parts.count == 1, case .expression(let e) = parts[0] { return e }
        return nil
    }

    public var references: [[String]] {
        parts.flatMap { part -> [[String]] in
            if case .expression(let e) = part { return e.references }
            return []
        }
    }

    /// Whether the text holds any `${{`.
    public var isLiteral: Bool { parts.allSatisfy { if case .text = $0 { true } else { false } } }

    /// Splits `text` into literal text and expressions; an unclosed `${{` or a bad expression is
    /// an error naming the character offset.
    public init(parsing text: String) throws {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw FlywheelError.invalidArgument("'${{' without a closing '}}' in \"\(text)\"")
            }
            let inner = String(rest[open.upperBound..<close.lowerBound])
            do {
                parts.append(.expression(try Expression.parse(inner)))
            } catch let e as FlywheelError {
                throw FlywheelError.invalidArgument("in '${{\(inner)}}': \(e.message)")
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    public init(parts: [Part]) { self.parts = parts }
}

/// A recursive-descent parser over the expression's characters.
struct ExpressionParser {
    let chars: [Character]
    var i = 0

    init(_ text: String) { chars = Array(text) }

    var atEnd: Bool { i >= chars.count }
    var rest: String { String(chars[min(i, chars.count)...]) }

    func error(_ message: String) -> FlywheelError {
        .invalidArgument("\(message) at offset \(i)")
    }

    mutating func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    /// Consumes `token` (a word must not run on into an identifier character).
    mutating func eat(_ token: String) -> Bool {
        skipSpace()
        let t = Array(token)
        guard i + t.count <= chars.count, Array(chars[i..<(i + t.count)]) == t else { return false }
        if let last = t.last, last.isLetter, i + t.count < chars.count, Self.isIdentifier(chars[i + t.count]) { return false }
        i += t.count
        return true
    }

    static func isIdentifier(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" }

    mutating func parseOr() throws -> Expression {
        var e = try parseAnd()
        while eat("||") || eat("or") { e = .or(e, try parseAnd()) }
        return e
    }

    mutating func parseAnd() throws -> Expression {
        var e = try parseNot()
        while eat("&&") || eat("and") { e = .and(e, try parseNot()) }
        return e
    }

    mutating func parseNot() throws -> Expression {
        skipSpace()
        if i + 1 < chars.count, chars[i] == "!", chars[i + 1] != "=" {
            i += 1
            return .not(try parseNot())
        }
        if eat("not") { return .not(try parseNot()) }
        return try parseComparison()
    }

    mutating func parseComparison() throws -> Expression {
        let left = try parsePrimary()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where eat(op) {
            // invariant: the loop only offers spellings of the operator enum.
            let o = Expression.ComparisonOperator(rawValue: op) ?? .eq
            return .compare(o, left, try parsePrimary())
        }
        return left
    }

    mutating func parsePrimary() throws -> Expression {
        skipSpace()
        guard i < chars.count else { throw error("expected a value") }
        let c = chars[i]
        if c == "(" {
            i += 1
            let e = try parseOr()
            guard eat(")") else { throw error("expected ')'") }
            return e
        }
        if c == "'" || c == "\"" {
            i += 1
            var s = ""
            while i < chars.count {
                if chars[i] == c {
                    // A doubled quote stands for one, as in YAML single-quoted strings.
                    if i + 1 < chars.count, chars[i + 1] == c { s.append(c); i += 2; continue }
                    i += 1
                    return .literal(.string(s))
                }
                s.append(chars[i])
                i += 1
            }
            throw error("unterminated string")
        }
        if c.isNumber || c == "-" || c == "." {
            let start = i
            i += 1
            while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
                || ((chars[i] == "-" || chars[i] == "+") && (chars[i - 1] == "e" || chars[i - 1] == "E"))
            { i += 1 }
            let text = String(chars[start..<i])
            guard let d = Double(text) else { i = start; throw error("'\(text)' is not a number") }
            return .literal(.number(d))
        }
        if Self.isIdentifier(c) {
            var path: [String] = [identifier()]
            while i < chars.count {
                if chars[i] == ".", i + 1 < chars.count, Self.isIdentifier(chars[i + 1]) {
                    i += 1
                    path.append(identifier())
                } else if chars[i] == "[" {
                    i += 1
                    let start = i
                    while i < chars.count, chars[i].isNumber { i += 1 }
                    guard i > start, i < chars.count, chars[i] == "]" else { throw error("expected a whole number and ']'") }
                    path.append(String(chars[start..<i]))
                    i += 1
                } else { break }
            }
            if path.count == 1 {
                switch path[0] {
                case "true": return .literal(.bool(true))
                case "false": return .literal(.bool(false))
                case "null": return .literal(.null)
                default: break
                }
            }
            return .reference(path)
        }
        throw error("unexpected '\(c)'")
    }

    mutating func identifier() -> String {
        let start = i
        while i < chars.count, Self.isIdentifier(chars[i]) { i += 1 }
        return String(chars[start..<i])
    }
}
