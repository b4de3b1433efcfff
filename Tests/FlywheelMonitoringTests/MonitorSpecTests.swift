import FlywheelCore
import FlywheelMonitoring
import FlywheelYAML
import Foundation
import Testing

@Suite struct MonitorSpecTests {
    @Test func theDesignsExampleParses() throws {
        let spec = try MonitorFixture.spec("""
            monitor: iris-drift
            deployment: iris
            every: 24h
            window: 24h
            reference: training                      # or: {window: 7d, offset: 7d}
            methods: auto                            # or per feature: {petal_length: psi}
            thresholds: {psi: 0.2}
            on_alert: [{webhook: "http://127.0.0.1:9000/hook"}, {run_pipeline: iris}, {rollback: iris}]
            """)
        #expect(spec.name == "iris-drift" && spec.deployment == "iris" && spec.every == 86_400 && spec.window == 86_400)
        #expect(spec.reference == .training && spec.method == nil && spec.thresholds == [.psi: 0.2])
        #expect(spec.actions == [.webhook(url: "http://127.0.0.1:9000/hook", attempts: 4), .runPipeline(name: "iris", params: [:]), .rollback(target: "iris")])
        #expect(spec.activeRules == ["feature_drift", "prediction_drift"])
        // The thresholds override Evidently's defaults only where given.
        #expect(spec.driftOptions.thresholds[.psi] == 0.2 && spec.driftOptions.thresholds[.ks] == 0.05)
    }

    @Test func everyOptionIsRead() throws {
        let spec = try MonitorFixture.spec("""
            monitor: m
            deployment: iris
            window: 1h
            reference: {window: 7d, offset: 7d}
            methods: {petal_length: psi, sepal_width: ks}
            drift_share: 0.25
            min_rows: 50
            features: [petal_length, sepal_width]
            predictions: {out_of_range: 0.1}
            performance: {metric: f1, min: 0.8, min_labels: 10}
            query: {sql: "SELECT 1 AS value", above: 0.5}
            alert_on: [feature_drift, performance]
            cooldown: 6h
            on_alert: [{webhook: "https://example.test/h", attempts: 2}, {run_pipeline: retrain, params: {reason: drift}}, {rollback: iris@production}]
            """)
        #expect(spec.every == nil && spec.window == 3600)
        #expect(spec.reference == .window(length: 604_800, offset: 604_800))
        #expect(spec.featureMethods == ["petal_length": .psi, "sepal_width": .ks])
        #expect(spec.driftShare == 0.25 && spec.minRows == 50 && spec.features == ["petal_length", "sepal_width"] && spec.outOfRange == 0.1)
        #expect(spec.performance == MonitorSpec.Performance(metric: "f1", bound: 0.8, minLabels: 10))
        #expect(spec.performance?.breachesBelow == true)
        #expect(spec.query == MonitorSpec.Query(sql: "SELECT 1 AS value", bound: 0.5, breachesBelow: false))
        #expect(spec.activeRules == ["feature_drift", "performance"])
        #expect(spec.cooldown == 21_600)
        #expect(spec.actions == [
            .webhook(url: "https://example.test/h", attempts: 2), .runPipeline(name: "retrain", params: ["reason": "drift"]),
            .rollback(target: "iris@production"),
        ])
        let rmse = try MonitorFixture.spec("monitor: r\ndeployment: d\nperformance: {metric: rmse, max: 2.5}\n")
        #expect(rmse.performance?.breachesBelow == false && rmse.performance?.bound == 2.5)
    }

    @Test func everyProblemIsReportedWithItsPlace() {
        let (spec, problems) = MonitorSpec.parse("""
            monitor: bad name
            deployment: iris
            every: soon
            windw: 1h
            reference: {window: 7d, offset: 1d}
            methods: {petal_length: magic}
            thresholds: {psi: -1, nope: 2}
            performance: {metric: accuracy, max: 0.9}
            query: {sql: "DELETE FROM predictions", below: 1, above: 2}
            alert_on: [drift]
            on_alert: [{webhook: "ftp://x"}, {email: a@b}, {rollback: "iris@"}]
            """)
        #expect(spec == nil)
        let text = problems.map(\.description)
        let expected: [(String, String)] = [
            ("1:10", "'monitor' must be a name"), ("3:8", "'every' must be a duration"), ("4:1", "windw"),
            ("5:12", "'reference.offset' (86400s) must be at least its window"), ("6:25", "'methods.petal_length' must be a method"),
            ("7:19", "'thresholds.psi' must be 0 or more"), ("7:23", "'thresholds': 'nope' is not a method"),
            ("8:14", "needs 'min:'"), ("9:14", "'query.sql' must be one SELECT statement"), ("9:8", "exactly one of 'below:' or 'above:'"),
            ("10:12", "'alert_on' entries must be rules"), ("11:22", "'webhook' must be an http(s) URL"), ("11:34", "an action must be"),
            ("11:59", "'rollback'"),
        ]
        for (place, words) in expected {
            #expect(text.contains { $0.hasPrefix(place) && $0.contains(words) }, "\(place) \(words) in \(text)")
        }
        // Sorted by place, so a file reads top to bottom.
        let lines = problems.compactMap { $0.location?.line }
        #expect(lines == lines.sorted())
    }

    @Test func hugeOrNonFiniteNumbersAreRefusedNotTrapped() {
        let cases: [(String, String)] = [
            ("window: 1e20s", "'window' must be a duration"), ("every: 1e305d", "'every' must be a duration"),
            ("reference: {window: 1e20s, offset: 1s}", "'reference.window' must be a duration"), ("cooldown: 1e30d", "'cooldown' must be a duration"),
            ("min_rows: 1e19", "'min_rows' must be a whole number"), ("min_rows: .inf", "must be a finite number"),
            ("performance: {metric: accuracy, min: .nan}", "must be a finite number"),
            ("performance: {metric: accuracy, min: 0.9, min_labels: 1e19}", "'min_labels' must be a whole number"),
            ("thresholds: {psi: .inf}", "must be a finite number"),
        ]
        for (line, words) in cases {
            let (spec, problems) = MonitorSpec.parse("monitor: m\ndeployment: iris\n\(line)\n")
            #expect(spec == nil && problems.contains { $0.message.contains(words) }, "\(line): \(problems)")
        }
        // Deep flow nesting is refused before the recursive YAML composer sees it.
        let deep = "monitor: m\ndeployment: iris\nfeatures: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(MonitorSpec.parse(deep).diagnostics.first?.message.contains("nests more than") == true)
    }

    @Test func aMonitorWatchesSomething() {
        let (spec, problems) = MonitorSpec.parse("monitor: m\nevery: 1h\n")
        #expect(spec == nil)
        #expect(problems.contains { $0.message.contains("needs 'deployment:'") && $0.message.contains("'query:'") })
        let perf = MonitorSpec.parse("monitor: m\nquery: {sql: SELECT 1, below: 1}\nperformance: {metric: accuracy, min: 0.9}\n").diagnostics
        #expect(perf.contains { $0.message.contains("'performance' needs 'deployment:'") })
        #expect(MonitorSpec.parse("- a list").diagnostics.first?.message.contains("expected a mapping") == true)
        #expect(MonitorSpec.parse("monitor: [unclosed").diagnostics.first?.location != nil)
    }
}
