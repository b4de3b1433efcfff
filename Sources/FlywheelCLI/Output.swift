import FlywheelCore
import Foundation

/// Writes what commands print: aligned tables for people, JSON for scripts.
enum Output {
    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func json(_ value: some Encodable) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        FileHandle.standardOutput.write(try enc.encode(value))
        line()
    }

    /// Columns padded to the widest cell; numbers right-aligned.
    static func table(_ header: [String], _ rows: [[String]]) {
        line(renderTable(header, rows))
    }

    static func renderTable(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows {
            for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        func isNumber(_ s: String) -> Bool { Double(s) != nil }
        func render(_ cells: [String], numeric: Bool) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                if i == cells.count - 1 && !(numeric && isNumber(c)) { return c }
                return numeric && isNumber(c) ? pad + c : c + pad
            }.joined(separator: "  ")
        }
        var out = [render(header, numeric: false)]
        out += rows.map { render($0, numeric: true) }
        return out.joined(separator: "\n")
    }

    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        let s = String(format: "%.6g", d)
        return s
    }

    static func time(_ t: Timestamp?) -> String {
        t?.readable ?? "-"
    }

    static func duration(_ start: Timestamp, _ end: Timestamp?) -> String {
        guard let end else { return "-" }
        let ms = end.millisecondsSince1970 - start.millisecondsSince1970
        if ms < 1000 { return "\(ms)ms" }
        let s = Double(ms) / 1000
        if s < 60 { return String(format: "%.1fs", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) % 3600) / 60)
    }
}

/// Help text as written in the source, re-flowed for swift-argument-parser, which wraps each line
/// on its own: lines of a paragraph are joined; blank lines and indented lines (examples) stay.
func prose(_ text: String) -> String {
    var out: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if line.isEmpty || line.hasPrefix(" ") || out.last?.isEmpty != false || out.last?.hasPrefix(" ") == true {
            out.append(line)
        } else {
            out[out.count - 1] += " " + line
        }
    }
    return out.joined(separator: "\n")
}
