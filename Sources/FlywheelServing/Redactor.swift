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
    /// numbers (7–15 digits).
    func redactDigitRuns(_ text: String) -> String {
        let chars = Array(text)
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let starts = c.isASCII && (c.isNumber || ((c == "+" || c == "(") && i + 1 < chars.count && chars[i + 1].isNumber))
            // A run must not continue a word (an ID like "abc123456789" is not a phone number).
            let afterWord = i > 0 && (chars[i - 1].isLetter || chars[i - 1] == "_")
            guard starts, !afterWord else {
                out.append(c)
                i += 1
                continue
            }
            var j = i
            var digits: [Int] = []
            var lastDigitEnd = i
            while j < chars.count {
                let d = chars[j]
                if d.isASCII, let v = d.wholeNumberValue {
                    digits.append(v)
                    lastDigitEnd = j + 1
                } else if !(" -.()+".contains(d)) || (d == " " && j + 1 < chars.count && chars[j + 1] == " ") {
                    break
                }
                j += 1
            }
            let endsInWord = lastDigitEnd < chars.count && (chars[lastDigitEnd].isLetter || chars[lastDigitEnd] == "_")
            if cards && !endsInWord && (13...19).contains(digits.count) && Self.luhn(digits) {
                out += "[card]"
                i = lastDigitEnd
            } else if phones && !endsInWord && (7...15).contains(digits.count) {
                out += "[phone]"
                i = lastDigitEnd
            } else {
                out.append(contentsOf: chars[i..<lastDigitEnd])
                i = lastDigitEnd
            }
        }
        return out
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
