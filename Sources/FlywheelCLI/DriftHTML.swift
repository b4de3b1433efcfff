import FlywheelCore
import FlywheelMonitoring
import Foundation

/// A self-contained HTML page for a drift report: a table and an inline SVG bar per column
/// showing its score against its threshold. No scripts, no external files.
enum DriftHTML {
    static func write(_ r: DriftReport, title: String, to url: URL) throws {
        do { try Data(page(r, title: title).utf8).write(to: url, options: .atomic) } catch {
            throw FlywheelError.invalidArgument("cannot write '\(url.path)': \(error.localizedDescription)")
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A bar of `score` on a scale that puts the threshold at 60% of the width (p-values: the bar
    /// shows 1 − p, so longer always means more drift).
    static func bar(_ s: DriftScore) -> String {
        let w = 240.0
        let (value, mark): (Double, Double) = s.method.isPValue ? (1 - s.score, 1 - s.threshold) : (s.score, s.threshold)
        let scale = mark > 0 ? 0.6 * w / mark : w
        let len = min(w, max(1, value * scale))
        let color = s.drifted ? "#c0392b" : "#2e86c1"
        return """
            <svg width="\(Int(w))" height="14" role="img" aria-label="score \(Output.number(s.score))">\
            <rect x="0" y="2" width="\(Int(len))" height="10" fill="\(color)"/>\
            <line x1="\(Int(0.6 * w))" x2="\(Int(0.6 * w))" y1="0" y2="14" stroke="#333" stroke-dasharray="2,2"/></svg>
            """
    }

    static func page(_ r: DriftReport, title: String) -> String {
        var rows = ""
        for c in r.columns {
            let score = c.result.map { Output.number($0.score) } ?? "–"
            let verdict = c.result.map { $0.drifted ? "<b style=\"color:#c0392b\">drift</b>" : "no drift" } ?? escape(c.status.rawValue)
            rows += "<tr><td>\(escape(c.column))</td><td>\(c.kind)</td><td>\(c.result?.method.rawValue ?? "–")</td><td>\(score)</td>"
            rows += "<td>\(c.result.map { Output.number($0.threshold) } ?? "–")</td><td>\(c.result.map(bar) ?? "")</td><td>\(verdict)</td></tr>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Drift: \(escape(title))</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}</style>
            </head><body>
            <h1>Drift report</h1>
            <p>\(escape(title)): \(r.referenceRows) reference rows, \(r.currentRows) current rows.
            Dataset drift: <b>\(r.datasetDrift ? "yes" : "no")</b> — \(r.driftedColumns) of \(r.testedColumns) tested columns drifted
            (share \(Output.number(r.driftShare)), threshold \(Output.number(r.driftShareThreshold))).
            The dashed line marks each method's threshold; p-value bars show 1 − p.</p>
            <table><tr><th>column</th><th>type</th><th>method</th><th>score</th><th>threshold</th><th></th><th>verdict</th></tr>
            \(rows)</table></body></html>
            """
    }
}
