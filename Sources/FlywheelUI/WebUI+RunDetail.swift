import FlywheelCore
import Foundation

extension WebUI {
    func requireRun(_ id: RunID) async throws -> Run {
        guard let run = try await store.run(id: id) else { throw FlywheelError.notFound("no run with id '\(id.rawValue)'") }
        return run
    }

    /// `/runs/ID`: everything a run recorded, and what it came from and led to.
    func runPage(_ r: UIRequest, id: RunID) async throws -> UIResponse {
        let run = try await requireRun(id)
        if r.value("fragment") == "metrics" {
            var h = HTML()
            Self.metricsTable(&h, id, try await store.runData(id: id))
            return UIResponse(body: h.output, headers: [("X-Live", run.status == .running ? "1" : "0")])
        }
        async let dataQ = store.runData(id: id)
        async let ioQ = store.runIO(id: id)
        async let artifactsQ = store.artifacts(runID: id, prefix: nil)
        async let upQ = store.lineage(of: .run(id), direction: .upstream)
        async let downQ = store.lineage(of: .run(id), direction: .downstream)
        async let experimentQ = store.experiment(id: run.experimentID)
        let (data, io, artifacts, up, down, experiment) = try await (dataQ, ioQ, artifactsQ, upQ, downQ, experimentQ)
        let title = run.name.isEmpty ? id.rawValue : run.name
        var previews = HTML(capacity: 8192)
        await artifactPreviews(&previews, id, artifacts)
        let previewed = Fragment(previews)
        let html = Layout.page(title: title, section: .experiments, request: r) { h in
            h.raw("<p class=\"muted\">")
            h.link(.experiment(run.experimentID), experiment?.name ?? run.experimentID.rawValue)
            h.raw(" ›</p><h1>")
            h.text(title)
            h.raw(" ")
            Layout.badge(&h, run.status.rawValue)
            if run.deletedAt != nil { h.raw(" <span class=\"badge failed\">deleted</span>") }
            h.raw("</h1>")
            var facts: [(String, String)] = [("run id", id.rawValue), ("started", Format.time(run.startTime))]
            if let end = run.endTime {
                facts.append(("ended", Format.time(end)))
                facts.append(("duration", Format.duration(milliseconds: end.millisecondsSince1970 - run.startTime.millisecondsSince1970)))
            }
            h.raw("<div class=\"grid\"><section><h2>Run</h2>")
            Layout.keyValues(&h, facts)
            if let parent = run.parentID {
                h.raw("<p>Parent run: ")
                h.link(.run(parent), parent.rawValue)
                h.raw("</p>")
            }
            h.raw("</section><section><h2>Params</h2>")
            Layout.keyValues(&h, data.params.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            h.raw("</section><section><h2>Metrics</h2><div")
            if run.status == .running {
                // Live while the run runs: the table refreshes from its fragment.
                h.attribute("data-refresh", Link(path: ["runs", id.rawValue], query: [("fragment", "metrics")]).href)
            }
            h.raw(">")
            Self.metricsTable(&h, id, data)
            h.raw("</div></section><section><h2>Tags</h2>")
            Layout.keyValues(&h, data.tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            h.raw("<h2>Labels</h2>")
            Layout.keyValues(&h, run.labels.sorted.map { ($0.key, $0.value) })
            h.raw("</section></div><h2>Inputs</h2>")
            Self.inputs(&h, run, io)
            h.raw("<h2>Artifacts</h2>")
            Self.artifactList(&h, id, artifacts)
            h.append(previewed)
            h.raw("<h2>Lineage</h2>")
            Self.lineageLists(&h, .run(id), up: up, down: down)
            h.raw("<h2>Environment</h2>")
            Self.environment(&h, run.environment)
        }
        return UIResponse(body: html)
    }

    static func metricsTable(_ h: inout HTML, _ id: RunID, _ data: RunData) {
        guard !data.latestMetrics.isEmpty else {
            h.raw("<p class=\"muted\">none</p>")
            return
        }
        h.raw("<table class=\"kv\"><tbody>")
        for (k, m) in data.latestMetrics.sorted(by: { $0.key < $1.key }) {
            h.raw("<tr><th>")
            h.link(.metric(id, k), k)
            h.raw("</th><td class=\"n\">")
            h.number(m.value)
            h.raw("</td><td class=\"muted\">step ")
            h.int(m.step)
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
    }

    static func inputs(_ h: inout HTML, _ run: Run, _ io: RunIO) {
        let files = run.environment.inputs
        guard !files.isEmpty || !io.datasetInputs.isEmpty else {
            h.raw("<p class=\"muted\">none recorded</p>")
            return
        }
        h.raw("<table><thead><tr><th>Input</th><th>Digest</th><th class=\"n\">Size</th><th>Context</th></tr></thead><tbody>")
        for f in files {
            h.raw("<tr><td>")
            h.text(f.path)
            h.raw("</td><td><code>")
            h.link(.lineage(.dataset(f.digest)), String(f.digest.hex.prefix(16)))
            h.raw("</code></td><td class=\"n\">")
            h.text(Format.bytes(f.size))
            h.raw("</td><td></td></tr>")
        }
        for d in io.datasetInputs {
            h.raw("<tr><td>")
            h.text(d.name)
            h.raw(" <span class=\"muted\">")
            h.text(d.source)
            h.raw("</span></td><td><code>")
            h.text(d.digest)
            h.raw("</code></td><td></td><td>")
            h.text(d.tags.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", "))
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
    }

    /// What an artifact can show in the page: text, or an image of this type; nil for the rest.
    enum Preview: Equatable {
        case text
        case image(String)
    }

    static func preview(of path: String) -> Preview? {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "txt", "log", "md", "csv", "tsv", "yaml", "yml", "json", "jsonl", "py", "swift", "toml", "ini", "cfg", "mlmodel", "mlproject": .text
        case "png": .image("image/png")
        case "jpg", "jpeg": .image("image/jpeg")
        case "gif": .image("image/gif")
        default: nil
        }
    }

    /// Small text files show their first lines and small images show themselves, under the list.
    static let previewText = 64 << 10
    static let previewImage = 2 << 20
    static let previewsShown = 6

    func artifactPreviews(_ h: inout HTML, _ id: RunID, _ artifacts: [ArtifactRecord]) async {
        var shown = 0
        for a in artifacts.sorted(by: { $0.path < $1.path }) where shown < Self.previewsShown {
            switch Self.preview(of: a.path) {
            case .text where a.size <= Self.previewText:
                guard let data = try? await blobs.data(a.digest) else { continue }
                let text = String(decoding: data.prefix(4096), as: UTF8.self)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(30).joined(separator: "\n")
                h.raw("<details class=\"preview\" open><summary>")
                h.text(a.path)
                h.raw("</summary><pre>")
                h.text(lines)
                if lines.utf8.count < data.count { h.raw("\n…") }
                h.raw("</pre></details>")
                shown += 1
            case .image where a.size <= Self.previewImage:
                h.raw("<details class=\"preview\" open><summary>")
                h.text(a.path)
                h.raw("</summary><img loading=\"lazy\" style=\"max-width:480px\"")
                h.attribute("src", Link.artifact(id, a.path).href)
                h.attribute("alt", a.path)
                h.raw("></details>")
                shown += 1
            default: continue
            }
        }
    }

    static func artifactList(_ h: inout HTML, _ id: RunID, _ artifacts: [ArtifactRecord]) {
        guard !artifacts.isEmpty else {
            h.raw("<p class=\"muted\">none</p>")
            return
        }
        h.raw("<table><thead><tr><th>Path</th><th class=\"n\">Size</th><th>Digest</th></tr></thead><tbody>")
        for a in artifacts.sorted(by: { $0.path < $1.path }) {
            h.raw("<tr><td>")
            h.link(.artifact(id, a.path), a.path)
            h.raw("</td><td class=\"n\">")
            h.text(Format.bytes(a.size))
            h.raw("</td><td><code>")
            h.text(String(a.digest.hex.prefix(16)))
            h.raw("</code></td></tr>")
        }
        h.raw("</tbody></table>")
    }

    static func lineageLists(_ h: inout HTML, _ node: ResourceRef, up: [LineageEdge], down: [LineageEdge]) {
        guard !up.isEmpty || !down.isEmpty else {
            h.raw("<p class=\"muted\">no recorded links</p>")
            return
        }
        h.raw("<table><thead><tr><th>Direction</th><th>Node</th><th>Relation</th></tr></thead><tbody>")
        for (label, edges, upstream) in [("from", up, true), ("to", down, false)] {
            for e in edges {
                let other = upstream ? e.source : e.target
                h.raw("<tr><td class=\"muted\">")
                h.text(label)
                h.raw("</td><td>")
                if let link = Link.node(other) { h.link(link, other.description) } else { h.text(other.description) }
                h.raw("</td><td>")
                h.text(e.relation)
                h.raw("</td></tr>")
            }
        }
        h.raw("</tbody></table><p>")
        h.link(.lineage(node), "lineage graph around this node")
        h.raw("</p>")
    }

    static func environment(_ h: inout HTML, _ e: RunEnvironment) {
        var pairs: [(String, String)] = []
        if let c = e.gitCommit { pairs.append(("git commit", c + (e.gitDirty == true ? " (dirty)" : ""))) }
        if let b = e.gitBranch { pairs.append(("git branch", b)) }
        if !e.commandLine.isEmpty { pairs.append(("command", e.commandLine.joined(separator: " "))) }
        if let w = e.workingDirectory { pairs.append(("working directory", w)) }
        if let v = e.host { pairs.append(("host", v)) }
        if let v = e.os { pairs.append(("os", v)) }
        if let v = e.user { pairs.append(("user", v)) }
        if let v = e.swiftVersion { pairs.append(("swift", v)) }
        if let v = e.flywheelVersion { pairs.append(("flywheel", v)) }
        if let v = e.seed { pairs.append(("seed", String(v))) }
        Layout.keyValues(&h, pairs, empty: "not recorded")
    }

    /// `/runs/ID/metrics/KEY`: the chart, its options, and the whole series to download
    /// (`?format=csv` or `json`).
    func metricPage(_ r: UIRequest, run id: RunID, key: String) async throws -> UIResponse {
        let run = try await requireRun(id)
        let history = try await store.metricHistory(runID: id, key: key)
        guard !history.isEmpty else { throw FlywheelError.notFound("run '\(id.rawValue)' has no metric '\(key)'") }
        switch r.value("format") {
        case "csv": return Self.metricCSV(key, history)
        case "json": return Self.metricJSON(key, history)
        case nil, "", "html": break
        case let other?: throw FlywheelError.invalidArgument("format '\(other)' is not offered: expected csv, json or html")
        }
        let options = ChartOptions(r)
        let series = MetricChart.series(history, options)
        let title = "\(key) · \(run.name.isEmpty ? id.rawValue : run.name)"
        let html = Layout.page(title: title, section: .experiments, request: r) { h in
            h.raw("<p class=\"muted\">")
            h.link(.experiment(run.experimentID), run.experimentID.rawValue)
            h.raw(" › ")
            h.link(.run(id), run.name.isEmpty ? id.rawValue : run.name)
            h.raw(" ›</p><h1>")
            h.text(key)
            h.raw("</h1>")
            Self.chartControls(&h, options) { .metric(id, key, $0) }
            h.append(MetricChart.svg([series], names: [key], options: options, title: key))
            h.raw("<p class=\"muted\">")
            h.text(MetricChart.summary([series]))
            h.raw(" · download the full series: ")
            h.link(.metricData(id, key, format: "csv"), "CSV")
            h.raw(" ")
            h.link(.metricData(id, key, format: "json"), "JSON")
            h.raw("</p>")
        }
        return UIResponse(body: html)
    }

    static func chartControls(_ h: inout HTML, _ options: ChartOptions, _ link: (ChartOptions) -> Link) {
        h.raw("<p>x: ")
        Layout.choices(&h, ChartX.allCases, current: options.x, label: \.rawValue) { x in
            var o = options
            o.x = x
            return link(o)
        }
        h.raw(" · y: ")
        var o = options
        o.logY.toggle()
        h.link(link(o), options.logY ? "linear" : "log")
        h.raw("</p>")
    }

    static func metricCSV(_ key: String, _ history: [Metric]) -> UIResponse {
        var s = "step,timestamp_ms,value\n"
        s.reserveCapacity(history.count * 32)
        for m in history { s += "\(m.step),\(m.timestamp.millisecondsSince1970),\(m.value)\n" }
        return UIResponse(
            contentType: "text/csv; charset=utf-8", body: s,
            headers: [("Content-Disposition", "attachment; filename=\"\(Self.safeFilename(key)).csv\"")])
    }

    static func metricJSON(_ key: String, _ history: [Metric]) -> UIResponse {
        var s = "{\"key\":" + Self.jsonString(key) + ",\"points\":["
        s.reserveCapacity(history.count * 48)
        for (i, m) in history.enumerated() {
            if i > 0 { s += "," }
            let v = m.value.isFinite ? "\(m.value)" : "\"\(m.value)\""
            s += "{\"step\":\(m.step),\"timestamp\":\(m.timestamp.millisecondsSince1970),\"value\":\(v)}"
        }
        s += "]}"
        return UIResponse(contentType: "application/json", body: s)
    }

    static func jsonString(_ s: String) -> String {
        (try? JSONEncoder().encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    static func safeFilename(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }

    /// `/runs/ID/artifacts/PATH`: the file's bytes; text and images show inline, the rest downloads.
    func artifactFile(run id: RunID, path: String) async throws -> UIResponse {
        _ = try await requireRun(id)
        guard let a = try await store.artifacts(runID: id, prefix: path).first(where: { $0.path == path }) else {
            throw FlywheelError.notFound("run '\(id.rawValue)' has no artifact '\(path)'")
        }
        let data = try await blobs.data(a.digest)
        let type: String
        var headers: [(String, String)] = [("X-Content-Type-Options", "nosniff")]
        switch Self.preview(of: path) {
        case .text: type = "text/plain; charset=utf-8"
        case .image(let t): type = t
        case nil:
            type = "application/octet-stream"
            headers.append(("Content-Disposition", "attachment; filename=\"\(Self.safeFilename(String(path.split(separator: "/").last ?? "file")))\""))
        }
        // An artifact is the run author's content: never let it script this origin.
        headers.append(("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"))
        return UIResponse(contentType: type, bytes: Array(data), headers: headers)
    }
}
