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
        let train = try #require(text.range(of: "<td>train</td>"))
        let evaluate = try #require(text.range(of: "<td>evaluate</td>"))
        let ingest = try #require(text.range(of: "<td>ingest</td>"))
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
        #expect(page.text.range(of: "<td>s777</td>")!.lowerBound < page.text.range(of: "<td>s0</td>")!.lowerBound)
        #expect(page.text.contains("800 more steps, all finished without trouble"))
        let all = await s.get("/pipelines/runs/big?steps=all")
        #expect(all.text.components(separatedBy: "<tr><td>").count - 1 == 1000)
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
