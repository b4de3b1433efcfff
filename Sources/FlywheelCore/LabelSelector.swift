/// A Kubernetes-style label selector: `team=fraud,env!=dev,tier in (a,b),!legacy,owner`.
///
/// Requirements are joined by commas and must all hold. `k=v` (or `k==v`) needs the label with
/// that value; `k!=v` holds when the label is absent or different; `k in (…)` / `k notin (…)`
/// test membership; a bare `k` needs the key and `!k` its absence.
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    public enum Requirement: Hashable, Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    public var requirements: [Requirement]
    public let description: String

    public init(requirements: [Requirement]) {
        self.requirements = requirements
        description = requirements.map { r -> String in
            switch r {
            case .equals(let k, let v): "\(k)=\(v)"
            case .notEquals(let k, let v): "\(k)!=\(v)"
            case .in(let k, let s): "\(k) in (\(s.sorted().joined(separator: ",")))"
            case .notIn(let k, let s): "\(k) notin (\(s.sorted().joined(separator: ",")))"
            case .exists(let k): k
            case .notExists(let k): "!\(k)"
            }
        }.joined(separator: ",")
    }

    /// Parses a selector, pointing at the offending column on error.
    public init(parsing text: String) throws {
        var reqs: [Requirement] = []
        let chars = Array(text)
        var i = 0
        func fail(_ what: String, at pos: Int) -> FlywheelError {
            .invalidArgument("label selector '\(text)': \(what) at column \(pos + 1)")
        }
        func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }
        func isKeyChar(_ c: Character) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." || c == "/")
        }
        func readKey() throws -> String {
            skipSpaces()
            let start = i
            while i < chars.count, isKeyChar(chars[i]) { i += 1 }
            guard i > start else { throw fail("expected a label key", at: start) }
            let key = String(chars[start..<i])
            do { try Labels.validate(key: key) } catch { throw fail("invalid label key '\(key)'", at: start) }
            return key
        }
        func readValue() -> String {
            skipSpaces()
            let start = i
            while i < chars.count, chars[i] != ",", chars[i] != ")", chars[i] != " " { i += 1 }
            return String(chars[start..<i])
        }
        func readSet() throws -> Set<String> {
            skipSpaces()
            guard i < chars.count, chars[i] == "(" else { throw fail("expected '('", at: i) }
            i += 1
            var values: Set<String> = []
            while true {
                let v = readValue()
                if !v.isEmpty { values.insert(v) }
                skipSpaces()
                guard i < chars.count else { throw fail("expected ')'", at: i) }
                if chars[i] == ")" { i += 1; break }
                if chars[i] == "," { i += 1; continue }
                throw fail("unexpected '\(chars[i])'", at: i)
            }
            return values
        }
        skipSpaces()
        if i == chars.count {
            self.init(requirements: [])
            return
        }
        while true {
            skipSpaces()
            if i < chars.count, chars[i] == "!" {
                i += 1
                reqs.append(.notExists(try readKey()))
            } else {
                let key = try readKey()
                skipSpaces()
                if i >= chars.count || chars[i] == "," {
                    reqs.append(.exists(key))
                } else if chars[i] == "=" {
                    i += 1
                    if i < chars.count, chars[i] == "=" { i += 1 }
                    reqs.append(.equals(key, readValue()))
                } else if chars[i] == "!", i + 1 < chars.count, chars[i + 1] == "=" {
                    i += 2
                    reqs.append(.notEquals(key, readValue()))
                } else if text[text.index(text.startIndex, offsetBy: i)...].hasPrefix("notin") {
                    i += 5
                    reqs.append(.notIn(key, try readSet()))
                } else if text[text.index(text.startIndex, offsetBy: i)...].hasPrefix("in") {
                    i += 2
                    reqs.append(.in(key, try readSet()))
                } else {
                    throw fail("expected '=', '!=', 'in' or 'notin' after '\(key)'", at: i)
                }
            }
            skipSpaces()
            if i == chars.count { break }
            guard chars[i] == "," else { throw fail("expected ',' between requirements", at: i) }
            i += 1
        }
        self.init(requirements: reqs)
    }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: Labels) -> Bool {
        requirements.allSatisfy { r in
            switch r {
            case .equals(let k, let v): labels[k] == v
            case .notEquals(let k, let v): labels[k] != v
            case .in(let k, let s): labels[k].map(s.contains) ?? false
            case .notIn(let k, let s): !(labels[k].map(s.contains) ?? false)
            case .exists(let k): labels[k] != nil
            case .notExists(let k): labels[k] == nil
            }
        }
    }
}
