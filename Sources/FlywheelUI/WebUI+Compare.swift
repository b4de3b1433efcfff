import FlywheelCore
import Foundation

extension WebUI {
    static let maxCompared = 1000
    /// Runs per page of the compare table (and of the parallel coordinates); more are paged (`at=`).
    static let comparedPerPage = 100
    /// Runs drawn as their own line; the band beneath covers every run.
    static let comparedLines = 50

    /// `/compare?runs=A&runs=B…`: any runs, from any experiments. Params that differ come first;
    /// one metric's curves are overlaid (`?metric=KEY`), and a parallel-coordinates view puts every
    /// numeric param and metric side by side.
    func comparePage(_ r: UIRequest) async throws -> UIResponse {
        var ids: [RunID] = []
        var seen = Set<String>()
        for v in r.values("runs") {
            for part in v.split(whereSeparator: { $0 == "," || $0 == " " }) where seen.insert(String(part)).inserted {
                ids.append(RunID(rawValue: String(part)))
            }
        }
        guard !ids.isEmpty else { throw FlywheelError.invalidArgument("choose runs to compare: /compare?runs=ID&runs=ID") }
        guard ids.count <= Self.maxCompared else {
            throw FlywheelError.invalidArgument("\(ids.count) runs asked for; compare at most \(Self.maxCompared) at once")
        }
        let details = try await withThrowingTaskGroup(of: (Int, RunDetail?).self) { group in
            for (i, id) in ids.enumerated() {
                group.addTask {
                    guard let run = try await store.run(id: id) else { return (i, nil) }
                    return (i, RunDetail(run: run, data: try await store.runData(id: id)))
                }
            }
            var out = [RunDetail?](repeating: nil, count: ids.count)
            for try await (i, d) in group { out[i] = d }
            return out
        }
        let missing = zip(ids, details).filter { $0.1 == nil }.map(\.0.rawValue)
        guard missing.isEmpty else { throw FlywheelError.notFound("no run with id \(missing.map { "'\($0)'" }.joined(separator: ", "))") }
        let runs = details.compactMap { $0 }
        let metricKeys = Set(runs.flatMap { $0.data.latestMetrics.keys }).sorted()
        let chosen = r.value("metric").flatMap { metricKeys.contains($0) ? $0 : nil } ?? metricKeys.first
        let options = ChartOptions(r)
        var series: [Downsampled] = []
        if let key = chosen {
            series = try await withThrowingTaskGroup(of: (Int, Downsampled).self) { group in
                for (i, d) in runs.enumerated() {
                    let n = MetricChart.buckets(forSeries: runs.count)
                    group.addTask { (i, MetricChart.series(try await store.metricHistory(runID: d.run.id, key: key), options, buckets: n)) }
                }
                var out = [Downsampled?](repeating: nil, count: runs.count)
                for try await (i, s) in group { out[i] = s }
                return out.compactMap { $0 }
            }
        }
        let allNames = runs.map { $0.run.name.isEmpty ? $0.run.id.rawValue : $0.run.name }
        // Above 100 runs the table and the parallel coordinates show a page of them at a time;
        // the first 50 of that page get lines, and a band spans every run's curve.
        let at = min(max(r.value("at").flatMap(Int.init) ?? 0, 0), max(runs.count - 1, 0)) / Self.comparedPerPage * Self.comparedPerPage
        let shown = at..<min(at + Self.comparedPerPage, runs.count)
        let lines = shown.lowerBound..<min(shown.lowerBound + Self.comparedLines, shown.upperBound)
        let band = series.count > lines.count ? MetricChart.band(series) : nil
        let allIDs = runs.map(\.run.id.rawValue).joined(separator: ",")
        let html = Layout.page(title: "Compare \(runs.count) runs", section: .experiments, request: r) { h in
            h.raw("<h1>Compare ")
            h.int(runs.count)
            h.raw(" runs</h1>")
            // One form holds the runs (once: 500 ids are 16 KB) and the chart's settings; the
            // pager's buttons and the metric picker below submit it by its id.
            h.raw("<form id=\"cmp\" method=\"get\" action=\"/compare\"><input type=\"hidden\" name=\"runs\"")
            h.attribute("value", allIDs)
            h.raw(">")
            for (name, value) in options.query where !value.isEmpty {
                h.raw("<input type=\"hidden\"")
                h.attribute("name", name)
                h.attribute("value", value)
                h.raw(">")
            }
            h.raw("</form>")
            if runs.count > Self.comparedPerPage {
                h.raw("<p class=\"pager\"><span class=\"muted\">runs ")
                h.int(shown.lowerBound + 1)
                h.raw("–")
                h.int(shown.upperBound)
                h.raw(" of ")
                h.int(runs.count)
                h.raw(" in the table:</span> ")
                for start in stride(from: 0, to: runs.count, by: Self.comparedPerPage) {
                    let label = "\(start + 1)–\(min(start + Self.comparedPerPage, runs.count))"
                    if start == at {
                        h.raw("<b>")
                        h.text(label)
                        h.raw("</b> ")
                    } else {
                        h.raw("<button form=\"cmp\" name=\"at\"")
                        h.attribute("value", String(start))
                        h.raw(">")
                        h.text(label)
                        h.raw("</button> ")
                    }
                }
                h.raw("</p>")
            }
            let runs = Array(runs[shown])
            let names = Array(allNames[shown])
            // Params: differing rows first.
            let paramKeys = Set(runs.flatMap { $0.data.params.keys })
            let rows = paramKeys.map { k in (k, runs.map { $0.data.params[k] }) }
            let differing = rows.filter { Set($0.1.map { $0 ?? "\u{0}" }).count > 1 }.sorted { $0.0 < $1.0 }
            let same = rows.filter { Set($0.1.map { $0 ?? "\u{0}" }).count <= 1 }.sorted { $0.0 < $1.0 }
            h.raw("<div class=\"scroll\"><table><thead><tr><th></th>")
            for (d, name) in zip(runs, names) {
                h.raw("<th>")
                h.link(.run(d.run.id), name)
                h.raw("<br><span class=\"muted\">")
                h.text(d.run.experimentID.rawValue)
                h.raw("</span></th>")
            }
            h.raw("</tr></thead><tbody>")
            func section(_ title: StaticString) {
                h.raw("<tr><th colspan=\"999\">")
                h.raw(title)
                h.raw("</th></tr>")
            }
            section("Params that differ")
            for (k, values) in differing { Self.compareRow(&h, k, values, highlight: true) }
            if differing.isEmpty { h.raw("<tr><td class=\"muted\" colspan=\"999\">none</td></tr>") }
            section("Metrics (latest)")
            for k in metricKeys {
                Self.compareRow(&h, k, runs.map { $0.data.latestMetrics[k].map { Format.number($0.value) } }, highlight: false)
            }
            section("Params that agree")
            for (k, values) in same { Self.compareRow(&h, k, values, highlight: false) }
            h.raw("</tbody></table></div>")
            if let key = chosen {
                h.raw("<h2>")
                h.text(key)
                h.raw("</h2><p class=\"bar\"><select form=\"cmp\" name=\"metric\">")
                for k in metricKeys {
                    h.raw("<option")
                    h.attribute("value", k)
                    if k == key { h.raw(" selected") }
                    h.raw(">")
                    h.text(k)
                    h.raw("</option>")
                }
                h.raw("</select> <button form=\"cmp\" name=\"at\"")
                h.attribute("value", String(at))
                h.raw(">Show</button></p>")
                let drawn = Array(series[lines])
                h.append(MetricChart.svg(drawn, names: Array(allNames[lines]), options: options, title: key, band: band))
                h.raw("<p class=\"muted\">")
                h.text(MetricChart.summary(series))
                if band != nil {
                    h.text("; lines for runs \(lines.lowerBound + 1)–\(lines.upperBound), the shaded band spans all \(series.count) (lowest to highest of any run at each pixel)")
                }
                h.raw("</p>")
                MetricChart.legend(&h, Array(allNames[lines]))
            }
            h.raw("<h2>Parallel coordinates</h2>")
            h.append(ParallelCoordinates.svg(runs, names: names))
        }
        return UIResponse(body: html)
    }

    static func compareRow(_ h: inout HTML, _ key: String, _ values: [String?], highlight: Bool) {
        h.raw(highlight ? "<tr class=\"diff\"><th>" : "<tr><th>")
        h.text(key)
        h.raw("</th>")
        for v in values {
            h.raw("<td>")
            if let v { h.truncated(v, limit: 60) } else { h.raw("<span class=\"muted\">–</span>") }
            h.raw("</td>")
        }
        h.raw("</tr>")
    }
}

/// Every numeric param and metric as a vertical axis, each run a polyline across them.
enum ParallelCoordinates {
    static func svg(_ runs: [RunDetail], names: [String]) -> Fragment {
        var axes: [(String, [Double?])] = []
        let params = Set(runs.flatMap { $0.data.params.keys }).sorted()
        for k in params {
            let vs = runs.map { $0.data.params[k].flatMap(Double.init) }
            if vs.contains(where: { $0 != nil }), Set(vs.compactMap { $0 }).count > 1 { axes.append(("params." + k, vs)) }
        }
        for k in Set(runs.flatMap { $0.data.latestMetrics.keys }).sorted() {
            axes.append(("metrics." + k, runs.map { $0.data.latestMetrics[k]?.value }))
        }
        axes = Array(axes.prefix(24))
        var h = HTML(capacity: 16_000)
        guard axes.count >= 2 else {
            h.raw("<p class=\"muted\">Fewer than two numeric params or metrics to draw.</p>")
            return Fragment(h)
        }
        let width = max(600, 110 * axes.count)
        h.raw("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\"")
        h.attribute("viewBox", "0 0 \(width) 320")
        h.attribute("width", String(width))
        h.raw(" height=\"320\" role=\"img\" aria-label=\"parallel coordinates\">")
        let step = Double(width - 80) / Double(axes.count - 1)
        func ax(_ i: Int) -> Double { 40 + Double(i) * step }
        let ranges = axes.map { a -> (Double, Double) in
            let v = a.1.compactMap { $0 }.filter(\.isFinite)
            return (v.min() ?? 0, v.max() ?? 1)
        }
        func y(_ v: Double, _ r: (Double, Double)) -> Double { r.1 > r.0 ? 280 - (v - r.0) / (r.1 - r.0) * 250 : 155 }
        for (i, a) in axes.enumerated() {
            h.raw("<path class=\"axis\"")
            h.attribute("d", String(format: "M%.1f 30V280", ax(i)))
            h.raw("/><text text-anchor=\"middle\" y=\"300\"")
            h.attribute("x", String(format: "%.1f", ax(i)))
            h.raw(">")
            h.text(a.0.count > 18 ? String(a.0.prefix(17)) + "…" : a.0)
            h.raw("</text><text text-anchor=\"middle\" y=\"24\"")
            h.attribute("x", String(format: "%.1f", ax(i)))
            h.raw(">")
            h.text(Format.number(ranges[i].1))
            h.raw("</text>")
        }
        for (r, name) in names.enumerated() {
            var d = ""
            for (i, a) in axes.enumerated() {
                guard let v = a.1[r], v.isFinite else { continue }
                d += (d.isEmpty ? "M" : "L") + String(format: "%.1f %.1f", ax(i), y(v, ranges[i]))
            }
            guard !d.isEmpty else { continue }
            h.raw("<path fill=\"none\" stroke-width=\"1.3\"")
            h.attribute("stroke", MetricChart.palette[r % MetricChart.palette.count])
            h.attribute("d", d)
            h.raw("><title>")
            h.text(name)
            h.raw("</title></path>")
        }
        h.raw("</svg>")
        return Fragment(h)
    }
}
