import FlywheelCore

/// Removes personal data from logged records before anything is written: e-mail addresses, phone
/// numbers and payment card numbers (a digit run that passes the Luhn check) inside any string,
/// and the whole value of fields named in the deployment's `log.redact`.
public struct Redactor: Sendable {
    public var emails: Bool
    public var phones: Bool
    public var cards: Bool
    /// Field names whose values are replaced outright (lowercased).
    public var fields: Set<String>

    /// `rules` as written under `log.redact`: `email`, `phone`, `card`, or field names.
    public init(rules: [String]) {
        var f = Set<String>()
        var e = false, p = false, c = false
        for r in rules {
            switch r.lowercased() {
            case "email", "emails": e = true
            case "phone", "phones": p = true
            case "card", "cards": c = true
            default: f.insert(r.lowercased())
            }
        }
        emails = e
        phones = p
        cards = c
        fields = f
    }

    public var isEmpty: Bool { !emails && !phones && !cards && fields.isEmpty }

    /// The record with every redaction applied.
    public func redact(_ record: [String: JSONValue]) -> [String: JSONValue] {
        guard !isEmpty else { return record }
        var out = record
        for (k, v) in record {
            out[k] = fields.contains(k.lowercased()) ? .string("[redacted]") : redact(v)
        }
        return out
    }

    public func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): .string(redact(s))
        case .array(let a): .array(a.map(redact))
        case .object(let o): .object(redact(o))
        default: value
        }
    }

    /// The text with card numbers, phone numbers and e-mail addresses replaced by `[card]`,
    /// `[phone]` and `[email]`.
    public func redact(_ text: String) -> String {
        var s = text
        if cards || phones { s = redactDigitRuns(s) }
        if emails { s = redactEmails(s) }
        return s
    }

    /// Finds runs of digits with the separators people write in numbers (space, `-`, `.`, `(`,
    /// `)`, a leading `+`) and replaces those that are card numbers (13–19 digits, Luhn) or phone
    /// numbers (7–15 digits). A run that is neither is tried shorter, ending at each space inside
    /// it, so "4111 1111 1111 1111 555-0199" still finds the card and the phone.
    func redactDigitRuns(_ text: String) -> String {
        let chars = Array(text)
        func wordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            // Digits inside a word (an ID like "ab1234567890") are not a number on their own.
            if i > 0, wordChar(chars[i - 1]), wordChar(c) {
                out.append(c)
                i += 1
                continue
            }
            let starts = c.isASCII && (c.isNumber || ((c == "+" || c == "(") && i + 1 < chars.count && chars[i + 1].isNumber))
            guard starts else {
                out.append(c)
                i += 1
                continue
            }
            // The run, and the places it could end: after a digit followed by a space or its end.
            var j = i
            var digits: [Int] = []
            var ends: [(end: Int, digits: Int)] = []
            while j < chars.count {
                let d = chars[j]
                if d.isASCII, let v = d.wholeNumberValue {
                    digits.append(v)
                    if j + 1 == chars.count || !(chars[j + 1].isASCII && chars[j + 1].isNumber) { ends.append((j + 1, digits.count)) }
                } else if !(" -.()+".contains(d)) {
                    break
                }
                j += 1
            }
            // Dates (2026-11-29, 29.11.2026) and decimal numbers (3.14159265) among the run's
            // space-separated groups are kept whole: no number found may cover one.
            let kept = Self.datesAndDecimals(chars, i..<j)
            var matched = false
            for (end, n) in ends.reversed() {
                // A number glued to a following word ("123abc") is not one.
                if end < chars.count, wordChar(chars[end]) { continue }
                if kept.contains(where: { $0.lowerBound < end }) { continue }
                if cards, (13...19).contains(n), Self.luhn(Array(digits[0..<n])) {
                    out += "[card]"
                } else if phones, (7...15).contains(n) {
                    out += "[phone]"
                } else {
                    continue
                }
                i = end
                matched = true
                break
            }
            if !matched {
                // Copy the first group of digits (a whole date or decimal) and go on from there.
                let stop = kept.first.flatMap { $0.lowerBound == i ? $0.upperBound : nil } ?? ends.first?.end ?? (i + 1)
                out.append(contentsOf: chars[i..<stop])
                i = stop
            }
        }
        return out
    }

    /// `YYYY-MM-DD`, or `DD-MM-YYYY` / `DD.MM.YYYY`, with a month of 1–12 and a day of 1–31.
    static func isDate(_ group: ArraySlice<Character>) -> Bool {
        let c = Array(group)
        guard c.count == 10 else { return false }
        func number(_ r: Range<Int>) -> Int? {
            var v = 0
            for ch in c[r] {
                guard ch.isASCII, let d = ch.wholeNumberValue else { return nil }
                v = v * 10 + d
            }
            return v
        }
        let month: Int?, day: Int?
        if c[4] == "-", c[7] == "-", number(0..<4) != nil {
            (month, day) = (number(5..<7), number(8..<10))
        } else if c[2] == c[5], c[2] == "-" || c[2] == ".", number(6..<10) != nil {
            (month, day) = (number(3..<5), number(0..<2))
        } else {
            return false
        }
        guard let month, let day else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// The space-separated groups of the run `run` that are dates or decimal numbers, each with
    /// the brackets, `+` and final points around it.
    static func datesAndDecimals(_ chars: [Character], _ run: Range<Int>) -> [Range<Int>] {
        var kept: [Range<Int>] = []
        var g = run.lowerBound
        while g < run.upperBound {
            while g < run.upperBound, chars[g] == " " { g += 1 }
            var e = g
            while e < run.upperBound, chars[e] != " " { e += 1 }
            var a = g, b = e
            while a < b, chars[a] == "(" || chars[a] == "+" { a += 1 }
            while b > a, chars[b - 1] == ")" || chars[b - 1] == "." { b -= 1 }
            if a < b, isDate(chars[a..<b]) || isDecimal(chars[a..<b]) { kept.append(g..<e) }
            g = e
        }
        return kept
    }

    /// Digits with exactly one `.` between them and nothing else, at most two on one side of it:
    /// a decimal number (3.14159265, 1234567.89), where 555.0199 is a phone number.
    static func isDecimal(_ run: ArraySlice<Character>) -> Bool {
        var whole = 0, fraction = 0, points = 0
        for c in run {
            if c == "." {
                points += 1
            } else if c.isASCII && c.isNumber {
                if points == 0 { whole += 1 } else { fraction += 1 }
            } else {
                return false
            }
        }
        return points == 1 && whole > 0 && fraction > 0 && (whole <= 2 || fraction <= 2)
    }

    /// The Luhn checksum: doubling every second digit from the right, the sum is a multiple of 10.
    public static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (k, d) in digits.reversed().enumerated() {
            if k % 2 == 1 {
                let x = d * 2
                sum += x > 9 ? x - 9 : x
            } else {
                sum += d
            }
        }
        return !digits.isEmpty && sum % 10 == 0
    }

    /// Replaces `local@domain.tld` spans.
    func redactEmails(_ text: String) -> String {
        guard text.contains("@") else { return text }
        let chars = Array(text)
        func isLocal(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || "._%+-".contains(c)) }
        func isDomain(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || ".-".contains(c)) }
        var out = ""
        var copied = 0
        var i = 0
        while i < chars.count {
            guard chars[i] == "@" else { i += 1; continue }
            var start = i
            while start > copied, isLocal(chars[start - 1]) { start -= 1 }
            var end = i + 1
            while end < chars.count, isDomain(chars[end]) { end += 1 }
            while end > i + 1, chars[end - 1] == "." || chars[end - 1] == "-" { end -= 1 }
            let domain = chars[(i + 1)..<end]
            let hasTLD = domain.lastIndex(of: ".").map { dot in
                let tld = domain[(dot + 1)...]
                return tld.count >= 2 && tld.allSatisfy(\.isLetter) && dot > i + 1
            } ?? false
            if start < i, hasTLD {
                out.append(contentsOf: chars[copied..<start])
                out += "[email]"
                copied = end
                i = end
            } else {
                i += 1
            }
        }
        out.append(contentsOf: chars[copied...])
        return out
    }
}
