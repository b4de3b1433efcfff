import FlywheelCore
import Foundation

/// The one writer every page goes through: markup from this module is a `StaticString` (so no
/// user data can reach the page unescaped), and every dynamic value passes `text` or `attribute`,
/// which escape it.
///
/// ```swift
/// var h = HTML()
/// h.raw("<td>"); h.text(run.name); h.raw("</td>")
/// ```
struct HTML: Sendable {
    private(set) var output: String

    init(capacity: Int = 32_768) {
        output = ""
        output.reserveCapacity(capacity)
    }

    /// Markup: literals only.
    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { output += String(decoding: $0, as: UTF8.self) }
    }

    /// Text content, escaped.
    mutating func text(_ s: some StringProtocol) {
        HTML.escape(s, into: &output)
    }

    mutating func int(_ n: some BinaryInteger) {
        output += String(n)
    }

    /// A number as people read it: integers without a fraction, others with up to 6 significant digits.
    mutating func number(_ d: Double) {
        output += Format.number(d)
    }

    /// A time in UTC that never wraps: `<span class="t">2026-12-07 19:53:24</span>`.
    mutating func time(_ t: Timestamp) {
        raw("<span class=\"t\">")
        output += Format.time(t)
        raw("</span>")
    }

    /// ` name="value"`, the value escaped (an apostrophe needs no escape inside double quotes).
    mutating func attribute(_ name: StaticString, _ value: some StringProtocol) {
        raw(" ")
        raw(name)
        raw("=\"")
        HTML.escape(value, into: &output, apostrophe: false)
        raw("\"")
    }

    /// A link: `<a href="URL">text</a>`.
    mutating func link(_ url: Link, _ label: some StringProtocol, class cls: StaticString? = nil) {
        raw("<a")
        attribute("href", url.href)
        if let cls {
            raw(" class=\"")
            raw(cls)
            raw("\"")
        }
        raw(">")
        text(label)
        raw("</a>")
    }

    /// Markup made by this module's own writers (an SVG chart), already safe.
    mutating func append(_ fragment: Fragment) {
        output += fragment.markup
    }

    /// Text longer than `limit` characters is cut, with a `<details>` that shows it whole, so a
    /// huge value cannot blow up a table.
    mutating func truncated(_ s: String, limit: Int = 120) {
        guard s.count > limit else { return text(s) }
        raw("<details class=\"long\"><summary>")
        text(s.prefix(limit))
        raw("…</summary><pre>")
        text(s)
        raw("</pre></details>")
    }

    static func escape(_ s: some StringProtocol, into out: inout String, apostrophe: Bool = true) {
        var utf8 = s.utf8.makeIterator()
        var clean = true
        while let b = utf8.next() {
            if b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b == UInt8(ascii: "&") || b == UInt8(ascii: "\"")
                || (apostrophe && b == UInt8(ascii: "'"))
            {
                clean = false
                break
            }
        }
        if clean {
            out += s
            return
        }
        for ch in s.unicodeScalars {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'" where apostrophe: out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
    }

    static func escaped(_ s: some StringProtocol) -> String {
        var out = ""
        escape(s, into: &out)
        return out
    }
}

/// A piece of markup built by one of this module's writers (never from user text unescaped).
struct Fragment: Sendable {
    fileprivate(set) var markup: String
    init(_ html: HTML) { markup = html.output }
}

/// How numbers and times read on a page.
enum Format {
    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "∞" : "-∞" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        let a = abs(d)
        if a >= 1e-4, a < 1e6 {
            var s = String(format: "%.6g", d)
            if s.contains("e") { s = String(d) }
            return s
        }
        return String(format: "%.4e", d)
    }

    /// `2026-12-07 19:53:24` in UTC.
    static func time(_ t: Timestamp) -> String { t.readable }

    /// `1.2 s`, `3 min 4 s`, `2 h 5 min`.
    static func duration(milliseconds ms: Int64) -> String {
        if ms < 1000 { return "\(ms) ms" }
        let s = ms / 1000
        if s < 60 { return String(format: "%.1f s", Double(ms) / 1000) }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }

    /// `840 µs`, `12.3 ms`, `1.25 s`.
    static func latency(seconds s: Double) -> String {
        if s < 1e-3 { return String(format: "%.0f µs", s * 1e6) }
        if s < 1 { return String(format: s < 0.01 ? "%.2f ms" : "%.1f ms", s * 1e3) }
        return String(format: "%.2f s", s)
    }

    /// `12.3 KB` (powers of 1,000).
    static func bytes(_ n: Int64) -> String {
        if n < 1000 { return "\(n) B" }
        let units = ["KB", "MB", "GB", "TB"]
        var v = Double(n)
        var i = -1
        while v >= 1000, i < units.count - 1 {
            v /= 1000
            i += 1
        }
        return String(format: v < 10 ? "%.1f" : "%.0f", v) + " " + units[i]
    }
}
