import FlywheelCore
import FlywheelMonitoring
import Foundation

/// A self-contained HTML page for a monitor's history: one inline SVG chart per measured
/// quantity (each feature's drift score, the prediction measures, performance, the query) over
/// the checks, with its threshold dashed and breaches in red; then the alerts and their actions.
enum MonitorHTML {
    static func write(name: String, spec: String?, checks: [MonitorCheck], alerts: [(Alert, [AlertActionRecord])], to url: URL) throws {
        do { try Data(page(name: name, spec: spec, checks: checks, alerts: alerts).utf8).write(to: url, options: .atomic) } catch {
            throw FlywheelError.invalidArgument("cannot write '\(url.path)': \(error.localizedDescription)")
        }
    }

    struct Point {
        var time: Timestamp
        var score: Double
        var threshold: Double?
        var breached: Bool
    }

    /// Every (kind, name) measured, in first-seen order, with its points over time.
    static func series(_ checks: [MonitorCheck]) -> [(key: String, method: String, points: [Point])] {
        var order: [String] = []
        var methods: [String: String] = [:]
        var points: [String: [Point]] = [:]
        for c in checks {
            for r in c.results {
                let key = "\(r.kind): \(r.name)"
                if points[key] == nil {
                    order.append(key)
                    points[key] = []
                }
                methods[key] = r.method
                if let s = r.score, s.isFinite { points[key]!.append(Point(time: c.time, score: s, threshold: r.threshold, breached: r.breached)) }
            }
        }
        return order.map { ($0, methods[$0] ?? "", points[$0] ?? []) }
    }

    static func chart(_ points: [Point], from t0: Timestamp, to t1: Timestamp) -> String {
        let w = 560.0, h = 150.0, left = 48.0, right = 12.0, top = 10.0, bottom = 22.0
        guard !points.isEmpty else { return "<p><i>no scores yet (insufficient data in every window)</i></p>" }
        let top_ = max(points.map(\.score).max() ?? 0, points.compactMap(\.threshold).max() ?? 0) * 1.1
        let ymax = top_ > 0 ? top_ : 1
        let span = max(Double(t1.millisecondsSince1970 - t0.millisecondsSince1970), 1)
        func x(_ t: Timestamp) -> Double {
            points.count == 1 && t0 == t1 ? left + (w - left - right) / 2 : left + (w - left - right) * Double(t.millisecondsSince1970 - t0.millisecondsSince1970) / span
        }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - v / ymax) }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\">"
        svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(h - bottom)\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(left)\" x2=\"\(w - right)\" y1=\"\(h - bottom)\" y2=\"\(h - bottom)\" stroke=\"#999\"/>"
        svg += "<text x=\"\(left - 4)\" y=\"\(top + 8)\" font-size=\"10\" text-anchor=\"end\">\(Output.number(ymax))</text>"
        svg += "<text x=\"\(left - 4)\" y=\"\(h - bottom)\" font-size=\"10\" text-anchor=\"end\">0</text>"
        svg += "<text x=\"\(left)\" y=\"\(h - 6)\" font-size=\"10\">\(DriftHTML.escape(Output.time(t0)))</text>"
        svg += "<text x=\"\(w - right)\" y=\"\(h - 6)\" font-size=\"10\" text-anchor=\"end\">\(DriftHTML.escape(Output.time(t1)))</text>"
        if let t = points.last?.threshold {
            svg += "<line x1=\"\(left)\" x2=\"\(w - right)\" y1=\"\(y(t))\" y2=\"\(y(t))\" stroke=\"#333\" stroke-dasharray=\"4,3\"><title>threshold \(Output.number(t))</title></line>"
        }
        let path = points.map { "\(String(format: "%.1f", x($0.time))),\(String(format: "%.1f", y($0.score)))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"#2e86c1\" stroke-width=\"1.5\" points=\"\(path)\"/>"
        for p in points {
            svg += "<circle cx=\"\(String(format: "%.1f", x(p.time)))\" cy=\"\(String(format: "%.1f", y(p.score)))\" r=\"3\" fill=\"\(p.breached ? "#c0392b" : "#2e86c1")\">"
            svg += "<title>\(DriftHTML.escape(Output.time(p.time))): \(Output.number(p.score))</title></circle>"
        }
        return svg + "</svg>"
    }

    static func page(name: String, spec: String?, checks: [MonitorCheck], alerts: [(Alert, [AlertActionRecord])]) -> String {
        let e = DriftHTML.escape
        let t0 = checks.first?.time ?? Timestamp(millisecondsSince1970: 0), t1 = checks.last?.time ?? t0
        var body = ""
        for s in series(checks) {
            body += "<h3>\(e(s.key)) <small>(\(e(s.method)))</small></h3>\n\(chart(s.points, from: t0, to: t1))\n"
        }
        var rows = ""
        for c in checks.reversed().prefix(50) {
            rows += "<tr><td>\(e(Output.time(c.time)))</td><td>\(c.currentRows)</td><td>\(e(c.status.rawValue))</td><td>\(e(c.message))</td></tr>\n"
        }
        var alertRows = ""
        for (a, actions) in alerts {
            let acts = actions.map { "\(e($0.kind)) \(e($0.target)): <b>\($0.outcome.rawValue)</b> \(e($0.message))" }.joined(separator: "<br>")
            alertRows += "<tr><td>\(a.id)</td><td>\(e(a.rule))</td><td>\(a.state.rawValue)</td><td>\(e(Output.time(a.firedAt)))</td>"
            alertRows += "<td>\(e(a.resolvedAt.map { Output.time($0) } ?? "-"))</td><td>\(a.occurrences)</td><td>\(e(a.message))</td><td>\(acts)</td></tr>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Monitor \(e(name))</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}h3{margin:1.2em 0 .2em}pre{background:#f6f6f6;padding:8px}</style>
            </head><body>
            <h1>Monitor \(e(name))</h1>
            <p>\(checks.count) check\(checks.count == 1 ? "" : "s") from \(e(Output.time(checks.first?.time))) to \(e(Output.time(checks.last?.time))).
            Each chart is one measured quantity over time; the dashed line is its threshold (p-values breach below it, distances at or above), red points breached.</p>
            \(body)
            <h2>Alerts</h2>
            \(alerts.isEmpty ? "<p>none</p>" : "<table><tr><th>id</th><th>rule</th><th>state</th><th>fired</th><th>resolved</th><th>seen</th><th>message</th><th>actions</th></tr>\n\(alertRows)</table>")
            <h2>Latest checks</h2>
            <table><tr><th>time</th><th>rows</th><th>status</th><th>message</th></tr>
            \(rows)</table>
            \(spec.map { "<h2>Spec</h2><pre>\(e($0))</pre>" } ?? "")
            </body></html>
            """
    }
}
