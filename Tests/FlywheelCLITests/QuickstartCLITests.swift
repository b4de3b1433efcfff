import FlywheelCore
import FlywheelStore
import Foundation
import Testing

/// `flywheel quickstart` end to end through the real binary: each stage's recorded outcome.
@Suite(.serialized) struct QuickstartCLITests {
    @Test(.timeLimit(.minutes(3))) func theLoopCloses() async throws {
        let cli = try CLI.workspace()
        let dir = cli.cwd.appendingPathComponent("qs")
        let result = try cli.run("quickstart", "--dir", dir.path, "--json")
        #expect(result.ok, "\(result.stderr)")
        let s = try #require(try result.json() as? [String: Any])

        // 1. The files a user reads and edits, each valid.
        for f in ["pipeline.yaml", "deploy.yaml", "monitor.yaml", "schema.yaml", "data/churn.csv", "data/labelled.csv"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        let inside = CLI(cwd: dir)
        #expect(try inside.run("pipelines", "check", "pipeline.yaml").ok)
        #expect(try inside.run("monitor", "apply", "monitor.yaml").ok)

        // 2 and 6. Version 1 trained and put in production; version 2 from the alert's run, promoted by the canary.
        let store = try SQLiteMetadataStore(path: dir.appendingPathComponent(".flywheel/flywheel.db").path)
        #expect(s["versions"] as? [Int] == [1, 2] && s["production"] as? Int == 2 && s["gatePassed"] as? Bool == true)
        #expect(try await store.aliases(model: "churn")["production"] == 2)
        let moves = try await store.registryEvents(model: "churn").filter { $0.kind == .aliasSet && $0.alias == "production" }
        #expect(moves.map(\.version) == [1, 2] && moves.map(\.actor) == ["quickstart", "quickstart"])
        #expect(moves.last?.reason.hasPrefix("canary: v2") == true)
        let runs = try await store.listPipelineRuns(pipeline: "churn", limit: 10)
        #expect(Set(runs.map(\.trigger)) == ["quickstart", "alert"] && runs.allSatisfy { $0.status == .succeeded })
        #expect(s["retrainRun"] as? String == runs.first { $0.trigger == "alert" }?.id.rawValue)
        let canary = try #require(s["canary"] as? [String: Double])
        #expect((0.03...0.25).contains(canary["share"] ?? 0), "\(canary)")
        #expect((canary["candidate_accuracy"] ?? 0) > (canary["production_accuracy"] ?? 1))
        // The canary's deployment revision and the return to one route are both in its history.
        let history = try await store.deploymentHistory(named: "churn").map(\.spec)
        #expect(history.count == 3 && history[1].contains("weight: 10") && !history[2].contains("churn@candidate"))

        // 4 and 5. Drift below its thresholds before the shift, above after; the alert fired and acted.
        let before = s.dict("before"), after = s.dict("after"), final = s.dict("final")
        #expect((before["driftShare"] as? Double ?? 1) < 0.5 && (after["driftShare"] as? Double ?? 0) >= 0.5)
        let beforeScores = try #require(before["features"] as? [String: Double]), afterScores = try #require(after["features"] as? [String: Double])
        for f in ["tenure_months", "monthly_charges", "support_calls"] {
            #expect((beforeScores[f] ?? 1) < 0.1 && (afterScores[f] ?? 0) >= 0.1, "\(f): \(beforeScores[f] ?? -1) → \(afterScores[f] ?? -1)")
        }
        #expect(before["status"] as? String == "ok" && after["status"] as? String == "breached")
        #expect((after["breachedRules"] as? [String]).map { Set($0).isSuperset(of: ["feature_drift", "performance"]) } == true)
        #expect((after["accuracy"] as? Double ?? 1) < 0.7 && (before["accuracy"] as? Double ?? 0) >= 0.7)
        let alerts = try await store.alerts(monitor: "churn-watch", state: nil, limit: 10)
        #expect(Set(alerts.map(\.rule)).isSuperset(of: ["feature_drift", "performance"]))
        let acted = try await store.alertActions(alertID: try #require(alerts.first { $0.rule == "feature_drift" }).id)
        #expect(acted.map(\.kind) == ["run_pipeline"] && acted.first?.outcome == .succeeded)
        // After the rollout the new model's traffic is within its thresholds, and the alerts resolve.
        #expect(final["status"] as? String == "ok" && (final["accuracy"] as? Double ?? 0) >= 0.7)
        #expect(alerts.allSatisfy { $0.state == .resolved })

        // Every check is stored for the report.
        #expect(try await store.monitorChecks(monitor: "churn-watch", since: nil, limit: 10).count == 3)
        #expect(try inside.run("monitor", "report", "churn-watch").stdout.contains("breached"))
    }

    @Test func aFailedStageSaysWhichAndWhereToLook() throws {
        let cli = try CLI.workspace()
        _ = try cli.write("not a folder", to: "taken")
        let result = try cli.run("quickstart", "--dir", cli.cwd.appendingPathComponent("taken").path)
        #expect(!result.ok)
        #expect(result.stderr.contains("stage 1 (make the workspace) failed:") && result.stderr.contains("inspect: ls "), "\(result.stderr)")
    }

    @Test(.timeLimit(.minutes(3))) func aCanaryThatDoesNotWinIsRolledBack() async throws {
        let cli = try CLI.workspace()
        let dir = cli.cwd.appendingPathComponent("qs")
        // No candidate beats production by a whole accuracy point of 1.
        let result = try cli.run("quickstart", "--dir", dir.path, "--json", "--canary-margin", "1")
        #expect(result.ok, "\(result.stderr)")
        let s = try #require(try result.json() as? [String: Any])
        #expect(s["production"] as? Int == 1 && (s["decision"] as? String)?.hasPrefix("rolled back: v1 keeps 100%") == true)
        let store = try SQLiteMetadataStore(path: dir.appendingPathComponent(".flywheel/flywheel.db").path)
        let aliases = try await store.aliases(model: "churn")
        #expect(aliases["production"] == 1 && aliases["candidate"] == 2)
        // The deployment went to the canary and came back to production alone.
        let history = try await store.deploymentHistory(named: "churn").map(\.spec)
        #expect(history.count == 3 && history[1].contains("churn@candidate") && !history[2].contains("churn@candidate"))
        // Production still answers with v1 on the changed world, so the monitor still finds it wanting.
        #expect(s.dict("final")["status"] as? String == "breached")
    }
}
