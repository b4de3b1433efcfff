import FlywheelCore
import FlywheelStore
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The monitoring loop through the real binary: a server logs traffic, `monitor run` checks it,
/// an alert starts a real pipeline run, `monitor report` draws it, the scheduler checks it.
@Suite(.serialized) struct MonitorCLITests {
    static let rows: [[String]] = {
        let text = (try? String(contentsOf: ServingCLITests.iris, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
    }()

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    /// Sends every iris row (petals lengthened by `shift` cm) in one request; returns the request id.
    func send(_ port: Int, shift: Double) async throws -> String {
        let records = Self.rows.map { r in
            #"{"sepal_length":\#(r[0]),"sepal_width":\#(r[1]),"petal_length":\#(Double(r[2])! + shift),"petal_width":\#(Double(r[3])! + shift / 2)}"#
        }
        let (status, json, _) = try await ServingCLITests().post(
            "http://127.0.0.1:\(port)/predict/iris", "[" + records.joined(separator: ",") + "]", contentType: "application/json")
        #expect(status == 200)
        return try #require(json["request_id"] as? String)
    }

    /// Waits (bounded) until the server's log holds `n` predictions.
    func waitForLog(_ store: SQLiteMetadataStore, count n: Int) async throws {
        for _ in 0..<100 {
            if try await store.predictions(PredictionQuery(deployment: "iris", limit: 10_000)).count >= n { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the prediction log did not reach \(n) records within 10 s")
    }

    /// Labels for every record of a request: the true species, or (when `wrong`) another one.
    func feedback(_ cli: CLI, _ request: String, wrong: Bool) throws {
        var csv = "request_id,index,label\n"
        for (i, r) in Self.rows.enumerated() { csv += "\(request),\(i),\(wrong ? (r[4] == "setosa" ? "virginica" : "setosa") : r[4])\n" }
        _ = try cli.write(csv, to: "labels.csv")
        let imported = try cli.run("feedback", "import", "labels.csv")
        #expect(imported.line == "recorded 150 labels; 150 matched a logged prediction", "\(imported.stderr)")
    }

    @Test(.timeLimit(.minutes(3))) func driftFiresAnAlertThatRetrains() async throws {
        let cli = try ServingCLITests.irisWorkspace(deployed: true)
        let store = try SQLiteMetadataStore(path: cli.cwd.appendingPathComponent(".flywheel/flywheel.db").path)
        _ = try cli.write("""
            pipeline: retrain
            steps:
              note:
                run: echo retrained > ${{ outputs.note }}
                outputs: {note: file}
            """, to: "retrain.yaml")
        _ = try cli.write("""
            monitor: iris-watch
            deployment: iris
            every: 1h
            window: 1h
            reference: training
            performance: {metric: accuracy, min: 0.8}
            on_alert: [{run_pipeline: retrain}]
            """, to: "monitor.yaml")
        let applied = try cli.run("monitor", "apply", "monitor.yaml")
        #expect(applied.ok && applied.line.contains("rules feature_drift, prediction_drift, performance"), "\(applied.stdout)\(applied.stderr)")
        let bad = try cli.write("monitor: x\ndeployment: iris\nwindow: forever\n", to: "bad.yaml")
        let rejected = try cli.run("monitor", "apply", bad.path)
        #expect(!rejected.ok && rejected.stderr.contains("bad.yaml:3:9: 'window' must be a duration"), "\(rejected.stderr)")

        let (server, port, _) = try await ServingCLITests().startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }

        // Traffic like the training data, labelled right: within every threshold. Each check
        // names its window with --from and --at, so a slow machine changes nothing.
        let t0 = Self.iso(Date())
        let calm = try await send(port, shift: 0)
        try await waitForLog(store, count: 150)
        try feedback(cli, calm, wrong: false)
        let t1 = Self.iso(Date().addingTimeInterval(0.002))
        let first = try cli.run("monitor", "run", "iris-watch", "--json", "--from", t0, "--at", t1)
        #expect(first.ok, "\(first.stderr)")
        let firstOut = try #require(try first.json() as? [[String: Any]]).first ?? [:]
        #expect(firstOut.dict("check")["status"] as? String == "ok", "\(first.stdout)")
        #expect((firstOut["transitions"] as? [Any])?.isEmpty == true)

        // Then petals grow and the labels stop agreeing.
        try await Task.sleep(for: .milliseconds(5))
        let storm = try await send(port, shift: 2.5)
        try await waitForLog(store, count: 300)
        try feedback(cli, storm, wrong: true)
        let t2 = Self.iso(Date().addingTimeInterval(0.002))
        let second = try cli.run("monitor", "run", "iris-watch", "--fail-on-breach", "--from", t1, "--at", t2)
        #expect(second.status == 3, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("iris-watch: breached — breached: feature_drift, prediction_drift, performance"), "\(second.stdout)")
        #expect(second.stdout.contains("run_pipeline retrain: succeeded — pipeline run"), "\(second.stdout)")

        // The alert's pipeline run is recorded with its trigger.
        let runs = try await store.listPipelineRuns(pipeline: "retrain", limit: 10)
        #expect(runs.count == 1 && runs.first?.trigger == "alert" && runs.first?.status == .succeeded)
        let alerts = try #require(try cli.run("monitor", "alerts", "--json").json() as? [[String: Any]])
        #expect(alerts.count == 3 && alerts.allSatisfy { $0.dict("alert")["state"] as? String == "firing" })
        // Three rules fired in one check: the pipeline ran once, the other alerts record theirs as grouped.
        let outcomes = alerts.flatMap { ($0["actions"] as? [[String: Any]]) ?? [] }.compactMap { $0["outcome"] as? String }
        #expect(outcomes.sorted() == ["succeeded", "suppressed", "suppressed"])

        // The report: a table, and a page with a chart per measured quantity.
        let report = try cli.run("monitor", "report", "iris-watch", "--html", "report.html")
        #expect(report.ok && report.stdout.contains("breached") && report.stdout.contains("feature_drift"), "\(report.stdout)")
        let html = try String(contentsOf: cli.cwd.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "<svg").count - 1 >= 7 && html.contains("feature: petal_length") && html.contains("performance: accuracy"))

        // The scheduler checks a monitor once per period, however often it looks; one checked
        // by hand in this period (iris-watch) is not checked again.
        _ = try cli.write("monitor: iris-hourly\ndeployment: iris\nevery: 1h\nwindow: 1h\n", to: "hourly.yaml")
        #expect(try cli.run("monitor", "apply", "hourly.yaml").ok)
        let watched = try await store.monitorChecks(monitor: "iris-watch", since: nil, limit: 100).count
        let once = try cli.run("scheduler", "--once")
        #expect(once.ok && once.stdout.contains("watching monitor iris-hourly") && once.stdout.contains("iris-hourly: "), "\(once.stdout)\(once.stderr)")
        #expect(try cli.run("scheduler", "--once").ok)
        let hourly = try await store.monitorChecks(monitor: "iris-hourly", since: nil, limit: 100)
        #expect(hourly.count == 1 && hourly[0].windowEnd.millisecondsSince1970 % 3_600_000 == 0)
        #expect(try await store.monitorChecks(monitor: "iris-watch", since: nil, limit: 100).count == watched)
        let listed = try cli.run("monitor", "list")
        #expect(listed.stdout.contains("iris-watch") && listed.stdout.contains("1h"), "\(listed.stdout)")
    }
}
