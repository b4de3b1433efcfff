import FlywheelCore
import FlywheelTesting
import Foundation
import Testing

@testable import FlywheelUI

/// Pipelines, deployments and monitors pages, from a store seeded with each.
@Suite struct OperationsPagesTests {
    let t0 = Timestamp(millisecondsSince1970: 1_780_000_000_000)

    func at(_ seconds: Int64) -> Timestamp { Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + seconds * 1000) }

    @Test func aPipelineRunListsFailedStepsFirstAndRefreshesWhileRunning() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let id = PipelineRunID(rawValue: "p1")
        try await s.store.createPipelineRun(
            PipelineRun(id: id, pipeline: "train <x>", specDigest: Digest(of: Data("spec".utf8)), specPath: "pipe.yaml", params: ["n": .number(3)],
                        trigger: "manual", startTime: at(0)))
        try await s.store.recordStepAttempt(StepAttempt(pipelineRunID: id, step: "ingest", attempt: 1, status: .succeeded, startTime: at(0), endTime: at(1), cacheHit: true))
        try await s.store.recordStepAttempt(StepAttempt(pipelineRunID: id, step: "train", attempt: 1, status: .failed, startTime: at(1), endTime: at(2), message: "out of memory"))
        try await s.store.recordStepAttempt(StepAttempt(pipelineRunID: id, step: "train", attempt: 2, status: .failed, startTime: at(2), endTime: at(3), message: "out of memory again"))
        try await s.store.recordStepAttempt(StepAttempt(pipelineRunID: id, step: "evaluate", attempt: 1, status: .running, startTime: at(3)))
        let list = await s.get("/pipelines")
        #expect(list.text.contains("train &lt;x&gt;"))
        #expect(list.text.contains("/pipelines/runs/p1"))
        let page = await s.get("/pipelines/runs/p1")
        #expect(page.status == 200)
        let text = page.text
        let train = try #require(text.range(of: ">train</a></td>"))
        let evaluate = try #require(text.range(of: ">evaluate</a></td>"))
        let ingest = try #require(text.range(of: ">ingest</a></td>"))
        #expect(train.lowerBound < evaluate.lowerBound && evaluate.lowerBound < ingest.lowerBound)
        #expect(text.contains("out of memory again"))
        #expect(text.contains("3 steps, 1 failed, 1 from cache"))
        // Still running: the steps refresh from a fragment, which says when to stop.
        #expect(text.contains("data-refresh=\"/pipelines/runs/p1?fragment=steps\""))
        let fragment = await s.get("/pipelines/runs/p1?fragment=steps")
        #expect(fragment.text.hasPrefix("<p class=\"muted\">3 steps"))
        #expect(fragment.headers.contains { $0 == ("X-Live", "1") })
        try await s.store.updatePipelineRun(id: id, status: .failed, endTime: at(4))
        let done = await s.get("/pipelines/runs/p1?fragment=steps")
        #expect(done.headers.contains { $0 == ("X-Live", "0") })
        let missing = await s.get("/pipelines/runs/nope")
        #expect(missing.status == 404)
    }

    @Test func aThousandStepRunShowsTheTroubleAndTheFirstOfTheRest() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let id = PipelineRunID(rawValue: "big")
        try await s.store.createPipelineRun(
            PipelineRun(id: id, pipeline: "wide", specDigest: Digest(of: Data("x".utf8)), specPath: "wide.yaml", params: [:], status: .failed,
                        trigger: "manual", startTime: at(0), endTime: at(2000)))
        for i in 0..<1000 {
            try await s.store.recordStepAttempt(
                StepAttempt(pipelineRunID: id, step: "s\(i)", attempt: 1, status: i == 777 ? .failed : .succeeded, startTime: at(Int64(i)), endTime: at(Int64(i) + 1)))
        }
        let page = await s.get("/pipelines/runs/big")
        #expect(page.status == 200)
        #expect(page.body.count < 150_000)
        #expect(page.text.components(separatedBy: "<tr><td>").count - 1 == 200)
        // The failed step leads; 800 of the rest wait behind a link.
        #expect(page.text.range(of: ">s777</a></td>")!.lowerBound < page.text.range(of: ">s0</a></td>")!.lowerBound)
        #expect(page.text.contains("800 more steps, all finished without trouble"))
        let all = await s.get("/pipelines/runs/big?steps=all")
        #expect(all.text.components(separatedBy: "<tr><td>").count - 1 == 1000)
        // No spec to read ("x" is not one): the graph still draws, the table leads it, and the one
        // column of 1,000 steps is folded into a node that names the failure.
        let graph = try #require(page.text.range(of: "<svg class=\"dag\""))
        #expect(page.text.range(of: "<h2 id=\"steps\">")!.lowerBound < graph.lowerBound)
        #expect(page.text.contains(">1000 steps · 1 failed</text>"))
        #expect(page.text.contains("1000 steps in the widest columns are drawn as one node per column"))
    }

    /// `prep` fans out to 3 `for_each` instances of `train` and to `check`; `report` needs both.
    static let spec = """
        pipeline: fan
        steps:
          prep: {run: "echo prep"}
          check: {run: "echo check", needs: [prep]}
          train: {run: "echo ${{ item }}", for_each: [1, 2, 3], needs: [prep]}
          report: {run: "echo done", needs: [train, check]}
          audit: {run: "echo audit", needs: [prep, report]}
        """

    @Test func thePipelineGraphIsLayeredFromTheSpecAndColouredByState() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let specBlob = await s.blobs.put(Data(Self.spec.utf8))
        let id = PipelineRunID(rawValue: "fan1")
        try await s.store.createPipelineRun(
            PipelineRun(id: id, pipeline: "fan", specDigest: specBlob.digest, specPath: "fan.yaml", params: [:], trigger: "manual", startTime: at(0)))
        let log = await s.blobs.put(Data(("line one\n" + Seeded.evil + "\n").utf8))
        try await s.store.recordStepAttempt(StepAttempt(pipelineRunID: id, step: "prep", attempt: 1, status: .succeeded, startTime: at(0), endTime: at(1)))
        try await s.store.recordStepAttempt(StepAttempt(pipelineRunID: id, step: "check", attempt: 1, status: .running, startTime: at(1)))
        for i in 0..<3 {
            try await s.store.recordStepAttempt(
                StepAttempt(pipelineRunID: id, step: "train[\(i)]", attempt: 1, status: i == 1 ? .failed : .succeeded, startTime: at(1), endTime: at(2),
                            exitCode: i == 1 ? 3 : 0, logDigest: log.digest))
        }
        let page = await s.get("/pipelines/runs/fan1")
        #expect(page.status == 200)
        let graph = try Self.nodes(in: page.text)
        // Four nodes (the instances are one), three columns, coloured by the worst state.
        #expect(graph.map(\.label) .sorted() == ["audit", "check", "prep", "report", "train ×3 · 1 failed"])
        let x = Dictionary(uniqueKeysWithValues: graph.map { ($0.label.split(separator: " ").first.map(String.init)!, $0) })
        #expect(x["prep"]!.x < x["check"]!.x && x["check"]!.x == x["train"]!.x && x["train"]!.x < x["report"]!.x && x["report"]!.x < x["audit"]!.x)
        #expect(x["train"]!.state == "failed" && x["check"]!.state == "running" && x["prep"]!.state == "succeeded" && x["report"]!.state == "waiting")
        // Edges: prep→check, prep→train, check→report, train→report, report→audit, and prep→audit,
        // which crosses two columns through a slot in each (straight across them: two "H").
        let paths = page.text.components(separatedBy: "<path d=\"M").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(paths.count == 6)
        #expect(paths.filter { $0.contains("H") }.count == 1 && paths.first { $0.contains("H") }!.filter { $0 == "H" }.count == 2)
        // A node of one step opens its page; the running run refreshes the graph too.
        #expect(page.text.contains("<a href=\"/pipelines/runs/fan1/steps/prep\" class=\"succeeded\">"))
        #expect(page.text.contains("data-refresh=\"/pipelines/runs/fan1?fragment=graph\""))
        let fragment = await s.get("/pipelines/runs/fan1?fragment=graph")
        #expect(fragment.text.hasPrefix("<svg class=\"dag\""))

        // The step page: attempts with exit code, the log escaped, the whole log as plain text.
        let step = await s.get("/pipelines/runs/fan1/steps/train%5B1%5D")
        #expect(step.status == 200)
        #expect(step.text.contains("<td class=\"n\">3</td>"))
        #expect(step.text.contains("line one\n&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!step.text.contains(Seeded.evil))
        let raw = await s.get("/pipelines/runs/fan1/steps/train%5B1%5D?log=raw")
        #expect(raw.contentType.hasPrefix("text/plain") && raw.text == "line one\n" + Seeded.evil + "\n")
        #expect(raw.headers.contains { $0 == ("X-Content-Type-Options", "nosniff") })
        #expect(await s.get("/pipelines/runs/fan1/steps/nope").status == 404)
        #expect(await s.get("/pipelines/runs/fan1/steps/prep?log=raw").status == 404)
    }

    struct Node { var label: String, x: Int, state: String }

    /// Each `<a … class="STATE"><title>…</title><rect … x="X" …/><text …>LABEL</text></a>` of the graph.
    static func nodes(in page: String) throws -> [Node] {
        let svg = try #require(page.range(of: "<svg class=\"dag\"")).lowerBound
        let end = try #require(page.range(of: "</svg>", range: svg..<page.endIndex)).upperBound
        return page[svg..<end].components(separatedBy: "<a href=").dropFirst().map { part in
            func field(_ before: String, _ after: String) -> String {
                guard let a = part.range(of: before), let b = part.range(of: after, range: a.upperBound..<part.endIndex) else { return "" }
                return String(part[a.upperBound..<b.lowerBound])
            }
            return Node(label: field("\">", "</text>").components(separatedBy: ">").last ?? "", x: Int(field("<rect rx=\"5\" x=\"", "\"")) ?? -1, state: field("class=\"", "\""))
        }
    }

    @Test func deploymentsShowTheSpecInForceAndEveryRevision() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        _ = try await s.store.applyDeployment(name: "churn", spec: "deployment: churn\nroutes: [churn@production]\n", actor: "ana", at: at(0))
        _ = try await s.store.applyDeployment(name: "churn", spec: "deployment: churn\nroutes:\n  - {model: churn-model@production, weight: 90}\n  - {model: churn-model@candidate, weight: 10}\nshadow: [churn-model/1]\n", actor: "bo", at: at(5))
        let list = await s.get("/deployments")
        #expect(list.text.contains("/deployments/churn"))
        let page = await s.get("/deployments/churn")
        #expect(page.text.contains("Spec (revision 2)"))
        #expect(page.text.contains("churn-model@candidate, weight: 10"))
        // The routes in force: each reference, the version it serves now, its share of traffic.
        #expect(page.text.contains("<td>route</td><td><a href=\"/models/churn-model\">churn-model@production</a></td><td>v1</td><td class=\"n\">90%</td>"))
        #expect(page.text.contains(">churn-model@candidate</a></td><td><span class=\"badge failed\">unresolved</span></td><td class=\"n\">10%</td>"))
        #expect(page.text.contains("<td>shadow</td><td><a href=\"/models/churn-model\">churn-model/1</a></td><td>v1</td><td class=\"n\">copy</td>"))
        #expect(page.text.contains("<td>ana</td>") && page.text.contains("<td>bo</td>"))
        #expect(await s.get("/deployments/nope").status == 404)
    }

    @Test func monitorsChartScoresAgainstThresholdsAndListAlertsWithActions() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        _ = try await s.store.applyMonitor(name: "watch", spec: "monitor: watch\n", actor: "ana", at: at(0))
        var lastCheck: Int64 = 0
        for i in 0..<5 {
            let score = i == 3 ? 0.4 : 0.05
            let check = try await s.store.recordMonitorCheck(
                MonitorCheck(monitor: "watch", time: at(Int64(i) * 60), windowStart: at(0), windowEnd: at(Int64(i) * 60), reference: "training",
                             referenceRows: 100, currentRows: 50, status: score > 0.2 ? .breached : .ok, message: score > 0.2 ? "drift" : "within thresholds",
                             breachedRules: score > 0.2 ? ["feature_drift"] : [],
                             results: [MonitorResult(kind: "feature", name: "tenure", method: "psi", score: score, threshold: 0.2, breached: score > 0.2)]))
            lastCheck = check.id
        }
        let raised = try await s.store.raiseAlert(monitor: "watch", rule: "feature_drift", message: "tenure drifted", at: at(180), checkID: lastCheck)
        try await s.store.recordAlertAction(
            AlertActionRecord(alertID: raised.alert.id, time: at(181), kind: "run_pipeline", target: "churn", outcome: .succeeded, attempts: 1, message: "run abc succeeded"))
        let list = await s.get("/monitors")
        #expect(list.text.contains("/monitors/watch"))
        #expect(list.text.contains("tenure drifted"))  // firing
        let page = await s.get("/monitors/watch")
        #expect(page.status == 200)
        #expect(page.text.contains("tenure (psi)"))
        #expect(page.text.contains("threshold 0.2"))
        #expect(page.text.contains("run_pipeline churn: succeeded"))
        #expect(page.text.contains("aria-label=\"tenure (psi)\""))
        #expect(await s.get("/monitors/nope").status == 404)
    }

    @Test func anAlertLinksToTheVersionServingWhenItFiredAndItsRun() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        // churn-model v1 (trained by run0001) is production from 0 s; v2 (run0000) from 300 s.
        let v2 = try await s.store.createModelVersion(
            NewModelVersion(modelName: "churn-model", runID: s.runs[0], digest: nil, source: "runs:/\(s.runs[0].rawValue)/model"),
            by: Attribution(actor: "ci", reason: "retrained"), at: at(250))
        _ = try await s.store.setAlias(model: "churn-model", alias: "production", version: v2.version, by: Attribution(actor: "ci", reason: "canary won"), at: at(300))
        _ = try await s.store.applyDeployment(name: "churn", spec: "deployment: churn\nroutes: [churn-model@production]\n", actor: "ana", at: at(0))
        _ = try await s.store.applyMonitor(name: "watch", spec: "monitor: watch\ndeployment: churn\nperformance: {metric: accuracy, min: 0.7}\n", actor: "ana", at: at(0))
        let check = try await s.store.recordMonitorCheck(
            MonitorCheck(monitor: "watch", time: at(100), windowStart: at(0), windowEnd: at(100), reference: "training",
                         referenceRows: 100, currentRows: 50, status: .breached, message: "accuracy fell", breachedRules: ["performance"], results: []))
        let early = try await s.store.raiseAlert(monitor: "watch", rule: "performance", message: "accuracy fell", at: at(100), checkID: check.id)
        _ = try await s.store.resolveAlert(monitor: "watch", rule: "performance", at: at(200))
        _ = early
        _ = try await s.store.raiseAlert(monitor: "watch", rule: "performance", message: "accuracy fell again", at: at(400), checkID: check.id)
        let page = await s.get("/monitors/watch")
        #expect(page.status == 200)
        let text = page.text
        func servedCell(_ message: String) -> String? {
            guard let m = text.range(of: message + "</td><td>"), let end = text.range(of: "</td>", range: m.upperBound..<text.endIndex) else { return nil }
            return String(text[m.upperBound..<end.lowerBound])
        }
        #expect(servedCell("accuracy fell") == "<a href=\"/models/churn-model#v1\">churn-model v1</a> ← run <a href=\"/runs/run0001\">run0001</a><br>")
        #expect(servedCell("accuracy fell again") == "<a href=\"/models/churn-model#v2\">churn-model v2</a> ← run <a href=\"/runs/run0000\">run0000</a><br>")
        // A route to the latest version resolves like the registry does (newest version), on
        // the deployment page now and for an alert as of its moment.
        _ = try await s.store.applyDeployment(name: "newest", spec: "deployment: newest\nroutes: [churn-model/latest]\n", actor: "ana", at: at(0))
        #expect(await s.get("/deployments/newest").text.contains("<td>v2</td>"))
        let asOf = try await s.ui.servedVersions(deployment: "newest", at: [1: at(100), 2: at(400)])
        #expect(asOf[1]?.map(\.version) == [1] && asOf[2]?.map(\.version) == [2])
        // The anchor the link goes to exists on the model page.
        #expect(await s.get("/models/churn-model").text.contains("<tr id=\"v2\">"))
    }

    @Test func everyNavigationLinkLeadsToAPage() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let home = await s.get("/")
        var rest = Substring(home.text)
        var targets: [String] = []
        while let r = rest.range(of: "<nav>") {
            rest = rest[r.upperBound...]
            let nav = rest[..<(rest.range(of: "</nav>")?.lowerBound ?? rest.endIndex)]
            var n = nav
            while let h = n.range(of: "href=\"") {
                n = n[h.upperBound...]
                targets.append(String(n.prefix { $0 != "\"" }))
            }
        }
        #expect(targets == ["/", "/models", "/pipelines", "/deployments", "/monitors"])
        for t in targets { #expect(await s.get(t).status == 200, "\(t)") }
    }
}
