import FlywheelCore
import FlywheelPipelines
import Foundation

extension WebUI {
    /// `/pipelines`: recent pipeline runs, newest first, optionally of one pipeline (`?pipeline=`).
    func pipelinesPage(_ r: UIRequest) async throws -> UIResponse {
        let pipeline = r.value("pipeline").flatMap { $0.isEmpty ? nil : $0 }
        let limit = min(max(r.value("limit").flatMap(Int.init) ?? 100, 1), 1000)
        let runs = try await store.listPipelineRuns(pipeline: pipeline, limit: limit)
        let html = Layout.page(title: "Pipelines", section: .pipelines, request: r) { h in
            h.raw("<h1>Pipeline runs")
            if let pipeline {
                h.raw(" of ")
                h.text(pipeline)
                h.raw(" <a class=\"muted\" href=\"/pipelines\">(all)</a>")
            }
            h.raw("</h1>")
            guard !runs.isEmpty else {
                h.raw("<p class=\"muted\">No pipeline runs yet: <code>flywheel run PIPELINE.yaml</code>.</p>")
                return
            }
            h.raw("<table><thead><tr><th>Run</th><th>Pipeline</th><th>Status</th><th>Trigger</th><th>Started</th><th class=\"n\">Duration</th></tr></thead><tbody>")
            for p in runs {
                h.raw("<tr><td>")
                h.link(.pipelineRun(p.id), String(p.id.rawValue.prefix(12)))
                h.raw("</td><td>")
                h.link(Link(path: ["pipelines"], query: [("pipeline", p.pipeline)]), p.pipeline)
                h.raw("</td><td>")
                Layout.badge(&h, p.status.rawValue)
                h.raw("</td><td>")
                h.text(p.trigger)
                h.raw("</td><td>")
                h.time(p.startTime)
                h.raw("</td><td class=\"n\">")
                if let end = p.endTime { h.text(Format.duration(milliseconds: end.millisecondsSince1970 - p.startTime.millisecondsSince1970)) }
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        return UIResponse(body: html)
    }

    /// `/pipelines/runs/ID`: the steps, failed and running first, each with its attempts, duration,
    /// cache hit and log.
    func pipelineRunPage(_ r: UIRequest, id: PipelineRunID) async throws -> UIResponse {
        guard let run = try await store.pipelineRun(id: id) else { throw FlywheelError.notFound("no pipeline run with id '\(id.rawValue)'") }
        let attempts = try await store.stepAttempts(pipelineRunID: id)
        let live = !run.status.isTerminal
        if r.value("fragment") == "steps" {
            var h = HTML()
            Self.stepTable(&h, run, attempts, all: r.value("steps") == "all")
            return UIResponse(body: h.output, headers: [("X-Live", live ? "1" : "0")])
        }
        let graph = PipelineGraph(spec: await specSteps(run), latest: Self.latestAttempts(attempts))
        if r.value("fragment") == "graph" {
            return UIResponse(body: graph.svg(run: id).markup, headers: [("X-Live", live ? "1" : "0")])
        }
        let html = Layout.page(title: "\(run.pipeline) run", section: .pipelines, request: r) { h in
            h.raw("<p class=\"muted\"><a href=\"/pipelines\">Pipelines</a> ›</p><h1>")
            h.text(run.pipeline)
            h.raw(" ")
            Layout.badge(&h, run.status.rawValue)
            h.raw("</h1>")
            var facts: [(String, String)] = [
                ("run id", id.rawValue), ("trigger", run.trigger), ("started", Format.time(run.startTime)), ("spec", run.specPath),
                ("spec digest", String(run.specDigest.hex.prefix(16))),
            ]
            if let end = run.endTime { facts.append(("duration", Format.duration(milliseconds: end.millisecondsSince1970 - run.startTime.millisecondsSince1970))) }
            if let from = run.resumedFrom { facts.append(("resumed from", from.rawValue)) }
            Layout.keyValues(&h, facts)
            if let tracking = run.trackingRunID {
                h.raw("<p>Tracking run: ")
                h.link(.run(tracking), tracking.rawValue)
                h.raw("</p>")
            }
            if !run.params.isEmpty {
                h.raw("<h2>Params</h2>")
                Layout.keyValues(&h, run.params.sorted { $0.key < $1.key }.map { ($0.key, $0.value.compactText) })
            }
            // Above ~200 steps the table leads (its failed and running rows first) and the graph
            // follows with its widest columns folded.
            let big = graph.boxes + graph.folded > PipelineGraph.maxNodes
            if !big { Self.graphSection(&h, graph, run: id, live: live) }
            h.raw("<h2 id=\"steps\">Steps</h2><div")
            if live {
                h.attribute("data-refresh", Link(path: ["pipelines", "runs", id.rawValue], query: [("fragment", "steps"), ("steps", r.value("steps") ?? "")]).href)
                h.raw(" data-every=\"2000\"")
            }
            h.raw(">")
            Self.stepTable(&h, run, attempts, all: r.value("steps") == "all")
            h.raw("</div>")
            if big { Self.graphSection(&h, graph, run: id, live: live) }
        }
        return UIResponse(body: html)
    }

    /// The spec's steps and what each waits for, read from the spec blob the run recorded; nil
    /// when it is gone or no longer parses (the graph then draws the recorded steps alone).
    func specSteps(_ run: PipelineRun) async -> [(name: String, upstream: [String])]? {
        guard let data = try? await blobs.data(run.specDigest),
            let spec = PipelineSpecParser.parse(String(decoding: data, as: UTF8.self)).spec
        else { return nil }
        return spec.steps.map { ($0.name, $0.upstream) }
    }

    static func latestAttempts(_ attempts: [StepAttempt]) -> [String: StepAttempt] {
        var latest: [String: StepAttempt] = [:]
        for a in attempts {
            if let cur = latest[a.step], cur.attempt >= a.attempt { continue }
            latest[a.step] = a
        }
        return latest
    }

    static func graphSection(_ h: inout HTML, _ graph: PipelineGraph, run: PipelineRunID, live: Bool) {
        h.raw("<h2>Graph</h2>")
        if graph.folded > 0 {
            h.raw("<p class=\"muted\">")
            h.int(graph.folded)
            h.raw(" steps in the widest columns are drawn as one node per column; the table lists each.</p>")
        }
        h.raw("<div class=\"scroll\"")
        if live {
            h.attribute("data-refresh", Link(path: ["pipelines", "runs", run.rawValue], query: [("fragment", "graph")]).href)
            h.raw(" data-every=\"2000\"")
        }
        h.raw(">")
        h.append(graph.svg(run: run))
        h.raw("</div>")
    }

    /// Above this many steps the table shows the failed, running and cancelled ones and the first
    /// of the rest, with a link to all of them (`?steps=all`): a 1,000-step run stays a small page.
    static let stepsShown = 200

    /// One row per step (its latest attempt), failed and running first, then by start.
    static func stepTable(_ h: inout HTML, _ run: PipelineRun, _ attempts: [StepAttempt], all: Bool = false) {
        guard !attempts.isEmpty else {
            h.raw("<p class=\"muted\">no steps recorded yet</p>")
            return
        }
        let latest = latestAttempts(attempts)
        var count: [String: Int] = [:]
        for a in attempts { count[a.step, default: 0] += 1 }
        func rank(_ s: StepStatus) -> Int {
            switch s {
            case .failed, .timedOut: 0
            case .running: 1
            case .cancelled: 2
            default: 3
            }
        }
        let rows = latest.values.sorted { (rank($0.status), $0.startTime, $0.step) < (rank($1.status), $1.startTime, $1.step) }
        let failed = rows.filter { rank($0.status) == 0 }.count
        h.raw("<p class=\"muted\">")
        h.int(rows.count)
        h.raw(" steps, ")
        h.int(failed)
        h.raw(" failed, ")
        h.int(rows.filter(\.cacheHit).count)
        h.raw(" from cache</p><table><thead><tr><th>Step</th><th>Status</th><th class=\"n\">Attempts</th><th class=\"n\">Duration</th><th>Cache</th><th>Tracking run</th><th>Message</th></tr></thead><tbody>")
        let urgent = rows.filter { rank($0.status) < 3 }.count
        let shown = all ? rows : Array(rows.prefix(max(Self.stepsShown, urgent)))
        for a in shown {
            h.raw("<tr><td>")
            h.link(.pipelineStep(run.id, a.step), a.step)
            h.raw("</td><td>")
            Layout.badge(&h, a.status.rawValue)
            h.raw("</td><td class=\"n\">")
            h.int(count[a.step] ?? 1)
            h.raw("</td><td class=\"n\">")
            if let end = a.endTime { h.text(Format.duration(milliseconds: end.millisecondsSince1970 - a.startTime.millisecondsSince1970)) }
            h.raw("</td><td>")
            if a.cacheHit { h.raw("<span class=\"badge cached\">hit</span>") }
            h.raw("</td><td>")
            if let id = a.runID { h.link(.run(id), String(id.rawValue.prefix(12))) }
            h.raw("</td><td>")
            if let m = a.message { h.truncated(m, limit: 100) }
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
        if shown.count < rows.count {
            h.raw("<p class=\"muted\">")
            h.int(rows.count - shown.count)
            h.raw(" more steps, all finished without trouble: ")
            h.link(Link(path: ["pipelines", "runs", run.id.rawValue], query: [("steps", "all")]), "show all steps")
            h.raw("</p>")
        }
    }
}

extension JSONValue {
    /// A value as one line of text: strings bare, the rest as JSON.
    var compactText: String {
        switch self {
        case .string(let s): return s
        default:
            guard let data = try? JSONEncoder().encode(self) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
    }
}

extension WebUI {
    /// Shown of a log on the step page; the whole log is one click away (`?log=raw`).
    static let logShown = 256 * 1024

    /// `/pipelines/runs/ID/steps/STEP`: every attempt of one step — status, times, exit code,
    /// cache key, inputs and outputs, message — and the latest attempt's log (its tail, escaped).
    func pipelineStepPage(_ r: UIRequest, id: PipelineRunID, step: String) async throws -> UIResponse {
        guard let run = try await store.pipelineRun(id: id) else { throw FlywheelError.notFound("no pipeline run with id '\(id.rawValue)'") }
        let attempts = try await store.stepAttempts(pipelineRunID: id).filter { $0.step == step }.sorted { $0.attempt < $1.attempt }
        guard let latest = attempts.last else {
            throw FlywheelError.notFound("pipeline run '\(id.rawValue)' has no step '\(step)' recorded")
        }
        let chosen = r.value("attempt").flatMap(Int.init).flatMap { n in attempts.first { $0.attempt == n } } ?? latest
        var log: Data?
        if let digest = chosen.logDigest { log = try? await blobs.data(digest) }
        if r.value("log") == "raw" {
            guard let log else { throw FlywheelError.notFound("attempt \(chosen.attempt) of step '\(step)' has no log") }
            return UIResponse(
                contentType: "text/plain; charset=utf-8", bytes: Array(log),
                headers: [("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", "default-src 'none'")])
        }
        let html = Layout.page(title: "\(step) · \(run.pipeline)", section: .pipelines, request: r) { h in
            h.raw("<p class=\"muted\"><a href=\"/pipelines\">Pipelines</a> › ")
            h.link(.pipelineRun(id), "\(run.pipeline) \(id.rawValue.prefix(12))")
            h.raw(" ›</p><h1>")
            h.text(step)
            h.raw(" ")
            Layout.badge(&h, latest.status.rawValue)
            h.raw("</h1><h2>Attempts</h2><table><thead><tr><th class=\"n\">#</th><th>Status</th><th>Started</th><th class=\"n\">Duration</th><th class=\"n\">Exit</th><th>Cache</th><th>Message</th></tr></thead><tbody>")
            for a in attempts {
                h.raw("<tr><td class=\"n\">")
                if a.attempt == chosen.attempt { h.int(a.attempt) } else { h.link(.pipelineStep(id, step, [("attempt", String(a.attempt))]), String(a.attempt)) }
                h.raw("</td><td>")
                Layout.badge(&h, a.status.rawValue)
                h.raw("</td><td>")
                h.time(a.startTime)
                h.raw("</td><td class=\"n\">")
                if let end = a.endTime { h.text(Format.duration(milliseconds: end.millisecondsSince1970 - a.startTime.millisecondsSince1970)) }
                h.raw("</td><td class=\"n\">")
                if let code = a.exitCode { h.int(code) }
                h.raw("</td><td>")
                if a.cacheHit { h.raw("<span class=\"badge cached\">hit</span>") }
                h.raw("</td><td>")
                if let m = a.message { h.truncated(m, limit: 160) }
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table><h2>Attempt ")
            h.int(chosen.attempt)
            h.raw("</h2>")
            var facts: [(String, String)] = []
            if let key = chosen.cacheKey { facts.append(("cache key", key)) }
            if let runID = chosen.runID { facts.append(("tracking run", runID.rawValue)) }
            if !facts.isEmpty { Layout.keyValues(&h, facts) }
            h.raw("<div class=\"grid\"><div><h3>Inputs</h3>")
            Layout.keyValues(&h, chosen.inputs.sorted { $0.key < $1.key }.map { ($0.key, $0.value.compactText) })
            h.raw("</div><div><h3>Outputs</h3>")
            Layout.keyValues(
                &h,
                chosen.outputs.sorted { $0.key < $1.key }.map { k, o in
                    (k, o.digest.map { "\(o.type) \($0.hex.prefix(16))" } ?? o.value?.compactText ?? o.type)
                })
            h.raw("</div></div><h3>Log</h3>")
            guard let log else {
                h.raw("<p class=\"muted\">")
                h.raw(chosen.status == .running ? "the log is stored when the attempt ends" : "no log recorded")
                h.raw("</p>")
                return
            }
            let tail = log.count > Self.logShown ? log.suffix(Self.logShown) : log
            if tail.count < log.count {
                h.raw("<p class=\"muted\">the last ")
                h.text(Format.bytes(Int64(tail.count)))
                h.raw(" of ")
                h.text(Format.bytes(Int64(log.count)))
                h.raw(": ")
                h.link(.pipelineStep(id, step, [("attempt", String(chosen.attempt)), ("log", "raw")]), "the whole log")
                h.raw("</p>")
            } else {
                h.raw("<p class=\"muted\">")
                h.link(.pipelineStep(id, step, [("attempt", String(chosen.attempt)), ("log", "raw")]), "as plain text")
                h.raw("</p>")
            }
            h.raw("<pre class=\"log\">")
            h.text(String(decoding: tail, as: UTF8.self))
            h.raw("</pre>")
        }
        return UIResponse(body: html)
    }
}
