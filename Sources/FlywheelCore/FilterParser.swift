/// Tokenizer and recursive-descent parser for ``RunFilter`` and ``RunOrder``.
struct FilterParser {
    enum TokenKind: Equatable {
        case identifier(String)   // bare word, possibly dotted: metrics.acc
        case string(String)       // 'x' or "x"
        case quotedKey(String)    // `x` (a key with spaces or dots)
        case number(Double)
        case op(String)           // = != < <= > >= == <>
        case lparen, rparen, comma, dot
        case end
    }
    struct Token {
        var kind: TokenKind
        var column: Int  // 1-based
        var text: String
    }

    let text: String
    var tokens: [Token] = []
    var pos = 0
    var tokenizeError: FlywheelError?

    init(text: String) {
        self.text = text
        do { tokens = try tokenize() } catch let e as FlywheelError { tokenizeError = e } catch {}
    }

    func fail(_ message: String, at token: Token) -> FlywheelError {
        let near = token.kind == .end ? "at the end" : "at column \(token.column) near '\(token.text)'"
        return .invalidArgument("filter error \(near): \(message)\n  \(text)\n  \(String(repeating: " ", count: max(0, token.column - 1)))^")
    }

    func tokenize() throws -> [Token] {
        let chars = Array(text)
        var out: [Token] = []
        var i = 0
        func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" || c == ":" || c == "/" }
        while i < chars.count {
            let c = chars[i]
            let col = i + 1
            if c.isWhitespace { i += 1; continue }
            if c == "'" || c == "\"" || c == "`" {
                var j = i + 1
                var value = ""
                var closed = false
                while j < chars.count {
                    if chars[j] == c {
                        if j + 1 < chars.count, chars[j + 1] == c { value.append(c); j += 2; continue }  // doubled quote
                        closed = true
                        break
                    }
                    value.append(chars[j])
                    j += 1
                }
                guard closed else {
                    throw FlywheelError.invalidArgument(
                        "filter error at column \(col): unterminated quote \(c)…\(c)\n  \(text)\n  \(String(repeating: " ", count: i))^")
                }
                let kind: TokenKind = c == "`" ? .quotedKey(value) : .string(value)
                out.append(Token(kind: kind, column: col, text: String(chars[i...j])))
                i = j + 1
                continue
            }
            if c.isNumber || ((c == "-" || c == "+" || c == ".") && i + 1 < chars.count && (chars[i + 1].isNumber || chars[i + 1] == ".")
                && (out.last.map { if case .op = $0.kind { return true }; return $0.kind == .lparen || $0.kind == .comma } ?? true))
            {
                var j = i + 1
                while j < chars.count, chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E"
                    || ((chars[j] == "-" || chars[j] == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E"))
                {
                    j += 1
                }
                let word = String(chars[i..<j])
                guard let d = Double(word) else {
                    throw FlywheelError.invalidArgument(
                        "filter error at column \(col) near '\(word)': not a number\n  \(text)\n  \(String(repeating: " ", count: i))^")
                }
                out.append(Token(kind: .number(d), column: col, text: word))
                i = j
                continue
            }
            if isWordChar(c) {
                var j = i
                while j < chars.count, isWordChar(chars[j]) { j += 1 }
                let word = String(chars[i..<j])
                out.append(Token(kind: .identifier(word), column: col, text: word))
                i = j
                continue
            }
            let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
            if ["!=", "<=", ">=", "==", "<>"].contains(two) {
                out.append(Token(kind: .op(two == "==" ? "=" : (two == "<>" ? "!=" : two)), column: col, text: two))
                i += 2
                continue
            }
            switch c {
            case "=", "<", ">": out.append(Token(kind: .op(String(c)), column: col, text: String(c)))
            case "(": out.append(Token(kind: .lparen, column: col, text: "("))
            case ")": out.append(Token(kind: .rparen, column: col, text: ")"))
            case ",": out.append(Token(kind: .comma, column: col, text: ","))
            case ".": out.append(Token(kind: .dot, column: col, text: "."))
            default:
                throw FlywheelError.invalidArgument(
                    "filter error at column \(col) near '\(c)': unexpected character\n  \(text)\n  \(String(repeating: " ", count: i))^")
            }
            i += 1
        }
        out.append(Token(kind: .end, column: chars.count + 1, text: ""))
        return out
    }

    var current: Token { tokens[min(pos, tokens.count - 1)] }

    func isKeyword(_ t: Token, _ word: String) -> Bool {
        if case .identifier(let w) = t.kind { return w.lowercased() == word }
        return false
    }

    mutating func parseFilter() throws -> RunFilter {
        if let e = tokenizeError { throw e }
        guard current.kind != .end else { throw fail("the filter is empty", at: current) }
        let f = try parseOr()
        guard current.kind == .end else {
            throw fail("expected 'and', 'or' or the end of the filter", at: current)
        }
        return f
    }

    mutating func parseOr() throws -> RunFilter {
        var lhs = try parseAnd()
        while isKeyword(current, "or") {
            pos += 1
            lhs = .or(lhs, try parseAnd())
        }
        return lhs
    }

    mutating func parseAnd() throws -> RunFilter {
        var lhs = try parseNot()
        while isKeyword(current, "and") {
            pos += 1
            lhs = .and(lhs, try parseNot())
        }
        return lhs
    }

    mutating func parseNot() throws -> RunFilter {
        if isKeyword(current, "not") {
            pos += 1
            return .not(try parseNot())
        }
        if current.kind == .lparen {
            pos += 1
            let inner = try parseOr()
            guard current.kind == .rparen else { throw fail("expected ')'", at: current) }
            pos += 1
            return inner
        }
        return try parseComparison()
    }

    /// `metrics.acc`, `params."my key"`, `` tags.`a.b` ``, `status`, `attributes.start_time`.
    mutating func parseField() throws -> RunField {
        let start = current
        guard case .identifier(let word) = start.kind else {
            throw fail("expected a field such as metrics.NAME, params.NAME, tags.NAME, labels.NAME or an attribute", at: start)
        }
        pos += 1
        var prefix = word
        var key: String?
        if let dot = word.firstIndex(of: ".") {
            prefix = String(word[..<dot])
            key = String(word[word.index(after: dot)...])
        } else if current.kind == .dot {
            pos += 1
            switch current.kind {
            case .identifier(let k), .string(let k), .quotedKey(let k): key = k
            default: throw fail("expected a key after '\(word).'", at: current)
            }
            pos += 1
        }
        // `metrics.a.b` tokenizes as one identifier containing dots after the first.
        let lower = prefix.lowercased()
        guard let key else {
            if let a = RunAttribute.named(word) { return .attribute(a) }
            throw fail("unknown field '\(word)': expected metrics.NAME, params.NAME, tags.NAME, labels.NAME or one of "
                + RunAttribute.allCases.map(\.rawValue).joined(separator: ", "), at: start)
        }
        guard !key.isEmpty else { throw fail("empty key after '\(prefix).'", at: start) }
        switch lower {
        case "metric", "metrics": return .metric(key)
        case "param", "params", "parameter", "parameters": return .param(key)
        case "tag", "tags": return .tag(key)
        case "label", "labels": return .label(key)
        case "attribute", "attributes", "attr", "run":
            guard let a = RunAttribute.named(key) else {
                throw fail("unknown attribute '\(key)': expected one of "
                    + RunAttribute.allCases.map(\.rawValue).joined(separator: ", "), at: start)
            }
            return .attribute(a)
        default:
            throw fail("unknown field kind '\(prefix)': expected metrics, params, tags, labels or attributes", at: start)
        }
    }

    mutating func parseValue(for field: RunField) throws -> FilterValue {
        let t = current
        switch t.kind {
        case .number(let d):
            pos += 1
            guard field.isNumeric else {
                throw fail("\(field) holds strings: quote the value, e.g. '\(t.text)'", at: t)
            }
            return .number(d)
        case .string(let s):
            pos += 1
            if field.isNumeric {
                throw fail("\(field) holds numbers: expected a number, not a string", at: t)
            }
            if case .attribute(.status) = field {
                guard let st = RunStatus(rawValue: s.lowercased()) else {
                    throw fail("unknown status '\(s)': expected one of running, finished, failed, killed", at: t)
                }
                return .string(st.rawValue)
            }
            return .string(s)
        default:
            throw fail("expected a value (a number or a quoted string)", at: t)
        }
    }

    mutating func parseComparison() throws -> RunFilter {
        let field = try parseField()
        let opToken = current
        if isKeyword(current, "is") {
            pos += 1
            var not = false
            if isKeyword(current, "not") {
                not = true
                pos += 1
            }
            guard isKeyword(current, "null") else { throw fail("expected NULL or NOT NULL after IS", at: current) }
            pos += 1
            return not ? .not(.missing(field)) : .missing(field)
        }
        if isKeyword(current, "between") {
            pos += 1
            guard field.isNumeric else {
                throw fail("BETWEEN compares numbers; \(field) holds strings (use =, !=, LIKE, ILIKE or IN)", at: opToken)
            }
            let low = try parseValue(for: field)
            guard isKeyword(current, "and") else { throw fail("expected AND between the two ends of BETWEEN", at: current) }
            pos += 1
            let high = try parseValue(for: field)
            return .and(.compare(field, .greaterOrEqual, low), .compare(field, .lessOrEqual, high))
        }
        var negated = false
        if isKeyword(current, "not") {
            negated = true
            pos += 1
            guard isKeyword(current, "in") else { throw fail("expected 'in' after 'not'", at: current) }
        }
        if isKeyword(current, "in") {
            pos += 1
            guard current.kind == .lparen else { throw fail("expected '(' after 'in'", at: current) }
            pos += 1
            var values: [FilterValue] = []
            while true {
                values.append(try parseValue(for: field))
                if current.kind == .comma { pos += 1; continue }
                guard current.kind == .rparen else { throw fail("expected ',' or ')'", at: current) }
                pos += 1
                break
            }
            return .membership(field, negated: negated, values)
        }
        let op: ComparisonOperator
        switch opToken.kind {
        case .op(let o):
            guard let parsed = ComparisonOperator(rawValue: o) else { throw fail("unknown operator", at: opToken) }
            op = parsed
        case .identifier(let w) where w.lowercased() == "like": op = .like
        case .identifier(let w) where w.lowercased() == "ilike": op = .ilike
        default:
            throw fail("expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, BETWEEN, IS NULL) after \(field)", at: opToken)
        }
        pos += 1
        if field.isNumeric, op == .like || op == .ilike {
            throw fail("\(op.rawValue) needs a string field; \(field) holds numbers", at: opToken)
        }
        if !field.isNumeric, [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(op) {
            throw fail("'\(op.rawValue)' compares numbers; \(field) holds strings (use =, !=, LIKE, ILIKE or IN)", at: opToken)
        }
        return .compare(field, op, try parseValue(for: field))
    }

    mutating func parseOrderList() throws -> [RunOrder] {
        if let e = tokenizeError { throw e }
        var out: [RunOrder] = []
        guard current.kind != .end else { return [] }
        while true {
            let field = try parseField()
            var asc = true
            if isKeyword(current, "asc") { pos += 1 } else if isKeyword(current, "desc") { asc = false; pos += 1 }
            out.append(RunOrder(field: field, ascending: asc))
            if current.kind == .comma { pos += 1; continue }
            guard current.kind == .end else { throw fail("expected ASC, DESC, ',' or the end", at: current) }
            return out
        }
    }
}
