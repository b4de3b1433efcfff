import ArgumentParser
import FlywheelCore
import FlywheelMonitoring
import FlywheelPipelines
import FlywheelServing
import FlywheelYAML
import Foundation

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Apply, run and report monitors: drift, skew, prediction drift, feedback accuracy and query checks with alerts.",
        discussion: prose("""
            A monitor file names a deployment (its logged predictions are the current window) or
            a SQL query over the prediction log, a reference (the training profile stored in the
            serving model version, or an earlier window), methods and thresholds, a performance
            bound checked against feedback labels, and actions to take when an alert fires:
            webhook, run_pipeline, rollback. 'flywheel scheduler' checks each monitor with
            'every:' once per period; 'flywheel monitor run' checks now. See docs/monitoring.md.
            """),
        subcommands: [Apply.self, List.self, Run.self, Report.self, Alerts.self, Delete.self])
}

extension MonitorCommand {
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "apply", 
            abstract: "Check a monitor file and store it under its name (replacing an earlier version).",
            discussion: "Every problem in the file is reported with its line and column; nothing is stored unless it is clean.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The monitor YAML file.") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw FlywheelError.notFound("cannot read '\(file)': no such file or not readable")
            }
            let text = String(decoding: data, as: UTF8.self)
            let spec = try MonitorFiles.parse(text, source: file)
            let ws = try global.open()
            if let d = spec.deployment, try await ws.store.deployment(named: d) == nil {
                Output.note("note: deployment '\(d)' is not applied yet; checks find no traffic until it is")
            }
            let record = try await ws.store.applyMonitor(name: spec.name, spec: text, actor: GlobalOptions.actor(), at: SystemWallClock().now())
            if output.json { return try Output.json(record) }
            Output.line("monitor \(spec.name) applied: \(MonitorFiles.summary(spec))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List monitors with their latest check and firing alerts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let ws = try global.open()
            struct Row: Encodable {
                var monitor: MonitorRecord
                var lastCheck: MonitorCheck?
                var firing: [Alert]
            }
            var rows: [Row] = []
            for m in try await ws.store.listMonitors() {
                rows.append(Row(
                    monitor: m, lastCheck: try await ws.store.monitorChecks(monitor: m.name, since: nil, limit: 1).last,
                    firing: try await ws.store.alerts(monitor: m.name, state: .firing, limit: 100)))
            }
            if output.json { return try Output.json(rows) }
            Output.table(["MONITOR", "WATCHES", "EVERY", "LAST CHECK", "STATUS", "FIRING"], rows.map { r in
                let spec = MonitorSpec.parse(r.monitor.spec).spec
                return [
                    r.monitor.name, spec.map { $0.deployment ?? "query" } ?? "?", spec?.every.map(MonitorFiles.duration) ?? "on demand",
                    Output.time(r.lastCheck?.time), r.lastCheck?.status.rawValue ?? "-",
                    r.firing.isEmpty ? "-" : r.firing.map(\.rule).joined(separator: ", "),
                ]
            })
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", 
            abstract: "Check monitors now: measure the window, record the results, fire or resolve alerts and run their actions.",
            discussion: prose("""
                The window ends now (or at --at) and is as long as the monitor's 'window:' (or
                starts at --from, to check the traffic since a deploy, say). Exit
                status is 0 whatever the verdict unless --fail-on-breach is given (then 3 when a
                rule was breached), so scripts can gate on it.
                """))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Monitors to check (default with --all: every one).") var names: [String] = []
        @Flag(help: "Check every applied monitor.") var all = false
        @Option(help: "End the window at this time (ISO 8601, e.g. 2026-11-29T00:00:00Z) instead of now.") var at: String?
        @Option(help: "Start the window at this time (ISO 8601) instead of the monitor's 'window:' before its end.") var from: String?
        @Flag(name: .customLong("fail-on-breach"), help: "Exit with status 3 when a check breached a rule.") var failOnBreach = false

        func validate() throws {
            if names.isEmpty && !all { throw ValidationError("name monitors to check, or give --all") }
            if let at, MonitorFiles.time(at) == nil { throw ValidationError("--at '\(at)' is not an ISO 8601 time like 2026-11-29T00:00:00Z") }
            if let from, MonitorFiles.time(from) == nil { throw ValidationError("--from '\(from)' is not an ISO 8601 time like 2026-11-29T00:00:00Z") }
        }

        func run() async throws {
            let ws = try global.open()
            var specs: [MonitorSpec] = []
            if all {
                for m in try await ws.store.listMonitors() { specs.append(try MonitorFiles.parse(m.spec, source: "monitor \(m.name)")) }
            }
            for n in names where !specs.contains(where: { $0.name == n }) {
                guard let m = try await ws.store.monitor(named: n) else {
                    throw FlywheelError.notFound("monitor '\(n)' not found (apply it with 'flywheel monitor apply FILE')")
                }
                specs.append(try MonitorFiles.parse(m.spec, source: "monitor \(n)"))
            }
            let now = at.flatMap(MonitorFiles.time) ?? SystemWallClock().now()
            let service = MonitorService(store: ws.store, blobs: ws.blobs, hooks: WorkspaceAlertHooks(ws: ws))
            var outcomes: [MonitorOutcome] = []
            if let start = from.flatMap(MonitorFiles.time), start >= now {
                throw ValidationError("--from must be before the window's end (\(Output.time(now)))")
            }
            for var spec in specs {
                if let start = from.flatMap(MonitorFiles.time) { spec.window = Double(now.millisecondsSince1970 - start.millisecondsSince1970) / 1000 }
                let outcome = try await service.run(spec, at: now)
                outcomes.append(outcome)
                if !output.json { MonitorFiles.print(outcome) }
            }
            if output.json { try Output.json(outcomes.map(MonitorFiles.JSONOutcome.init)) }
            if failOnBreach && outcomes.contains(where: { $0.check.status == .breached }) { throw ExitCode(3) }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", 
            abstract: "A monitor's checks over time: a table, and an HTML page with each feature's score charted.",
            discussion: "The page is self-contained (inline SVG, no scripts): one chart per measured quantity with its threshold, then the alerts and their actions.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The monitor.") var name: String
        @Option(help: "How far back, e.g. 7d or 30d (default: all checks).") var since: String?
        @Option(help: "The most recent checks to include.") var limit = 500
        @Option(help: "Write an HTML page with SVG charts here.") var html: String?

        func validate() throws {
            if let since, (DurationText.seconds(since) ?? .infinity) > 1e10 { throw ValidationError("--since '\(since)' is not a duration like 7d") }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let ws = try global.open()
            let record = try await ws.store.monitor(named: name)
            let from = since.flatMap(DurationText.seconds).map { Timestamp(Date().addingTimeInterval(-$0)) }
            let checks = try await ws.store.monitorChecks(monitor: name, since: from, limit: limit)
            guard record != nil || !checks.isEmpty else { throw FlywheelError.notFound("monitor '\(name)' not found and has no checks") }
            var alerts: [(Alert, [AlertActionRecord])] = []
            for a in try await ws.store.alerts(monitor: name, state: nil, limit: 200) { alerts.append((a, try await ws.store.alertActions(alertID: a.id))) }
            if let html {
                try MonitorHTML.write(name: name, spec: record?.spec, checks: checks, alerts: alerts, to: URL(fileURLWithPath: html))
            }
            if output.json {
                struct Out: Encodable {
                    var monitor: String
                    var checks: [MonitorCheck]
                    var alerts: [MonitorFiles.AlertWithActions]
                }
                return try Output.json(Out(monitor: name, checks: checks, alerts: alerts.map { .init(alert: $0.0, actions: $0.1) }))
            }
            Output.table(["TIME", "WINDOW", "ROWS", "STATUS", "DRIFT SHARE", "BREACHED"], checks.map { c in
                [Output.time(c.time), "\(Output.time(c.windowStart)) – \(Output.time(c.windowEnd))", "\(c.currentRows)", c.status.rawValue,
                 c.results.first { $0.kind == "dataset" }?.score.map(Output.number) ?? "-",
                 c.breachedRules.isEmpty ? "-" : c.breachedRules.joined(separator: ", ")]
            })
            if !alerts.isEmpty {
                Output.line()
                MonitorFiles.printAlerts(alerts)
            }
            if let html { Output.note("wrote \(html)") }
        }
    }

    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "alerts", abstract: "List alerts (newest first) with the actions each took.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Only this monitor's alerts.") var name: String?
        @Flag(help: "Only firing alerts.") var firing = false
        @Option(help: "The most alerts to list.") var limit = 50

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        }

        func run() async throws {
            let ws = try global.open()
            var alerts: [(Alert, [AlertActionRecord])] = []
            for a in try await ws.store.alerts(monitor: name, state: firing ? .firing : nil, limit: limit) {
                alerts.append((a, try await ws.store.alertActions(alertID: a.id)))
            }
            if output.json { return try Output.json(alerts.map { MonitorFiles.AlertWithActions(alert: $0.0, actions: $0.1) }) }
            MonitorFiles.printAlerts(alerts)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a monitor; its checks and alerts stay as history.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The monitor.") var name: String

        func run() async throws {
            let ws = try global.open()
            try await ws.store.deleteMonitor(named: name)
            Output.line("monitor \(name) deleted")
        }
    }
}

/// Reading, describing and printing monitors, shared by the commands and the scheduler.
enum MonitorFiles {
    static func parse(_ text: String, source: String) throws -> MonitorSpec {
        let (spec, diagnostics) = MonitorSpec.parse(text)
        guard let spec, diagnostics.isEmpty else {
            for d in diagnostics { Output.note("\(source):\(d.description)") }
            throw FlywheelError.invalidArgument("\(source): \(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s"); nothing applied")
        }
        return spec
    }

    static func duration(_ seconds: Double) -> String {
        for (unit, size) in [("d", 86_400.0), ("h", 3600), ("m", 60)] where seconds >= size && seconds.truncatingRemainder(dividingBy: size) == 0 {
            return "\(Int(seconds / size))\(unit)"
        }
        return "\(Output.number(seconds))s"
    }

    static func time(_ text: String) -> Timestamp? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return Timestamp(d) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text).map(Timestamp.init)
    }

    static func summary(_ spec: MonitorSpec) -> String {
        var parts: [String] = []
        if let d = spec.deployment { parts.append("deployment \(d)") }
        parts.append(spec.every.map { "every \(duration($0))" } ?? "on demand")
        parts.append("window \(duration(spec.window))")
        if spec.deployment != nil {
            switch spec.reference {
            case .training: parts.append("reference training profile")
            case .window(let l, let o): parts.append("reference window \(duration(l)) ending \(duration(o)) earlier")
            }
        }
        parts.append("rules \(spec.activeRules.joined(separator: ", "))")
        if !spec.actions.isEmpty { parts.append("on alert \(spec.actions.map { "\($0.kind) \($0.target)" }.joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }

    static func print(_ o: MonitorOutcome) {
        let c = o.check
        Output.line("\(c.monitor): \(c.status.rawValue) — \(c.message)")
        let window = "  window \(Output.time(c.windowStart)) – \(Output.time(c.windowEnd))"
        Output.line(c.reference == "query"
            ? "\(window): the query returned \(c.currentRows) row\(c.currentRows == 1 ? "" : "s")"
            : "\(window): \(c.currentRows) logged predictions; reference \(c.reference) (\(c.referenceRows) rows)")
        if !c.results.isEmpty {
            Output.table(["KIND", "NAME", "METHOD", "SCORE", "THRESHOLD", "BREACHED", "STATUS"], c.results.map { r in
                [r.kind, r.name, r.method, r.score.map(Output.number) ?? "-", r.threshold.map(Output.number) ?? "-", r.breached ? "yes" : "no",
                 r.status == "ok" ? "ok" : "\(r.status)\(r.detail.map { ": \($0)" } ?? "")"]
            })
        }
        for t in o.transitions {
            switch t.kind {
            case .fired: Output.line("  ALERT \(t.alert.id) firing: \(t.alert.message)")
            case .repeated: Output.line("  alert \(t.alert.id) still firing (seen \(t.alert.occurrences) times; not sent again)")
            case .resolved: Output.line("  alert \(t.alert.id) resolved: \(t.alert.rule)")
            }
            for a in t.actions { Output.line("    \(a.kind) \(a.target): \(a.outcome.rawValue) — \(a.message)") }
        }
    }

    static func printAlerts(_ alerts: [(Alert, [AlertActionRecord])]) {
        Output.table(["ALERT", "MONITOR", "RULE", "STATE", "FIRED", "LAST SEEN", "SEEN", "ACTIONS"], alerts.map { a, actions in
            ["\(a.id)", a.monitor, a.rule, a.state.rawValue, Output.time(a.firedAt), Output.time(a.lastSeenAt), "\(a.occurrences)",
             actions.isEmpty ? "-" : actions.map { "\($0.kind):\($0.outcome.rawValue)" }.joined(separator: ", ")]
        })
    }

    struct AlertWithActions: Encodable {
        var alert: Alert
        var actions: [AlertActionRecord]
    }

    struct JSONOutcome: Encodable {
        var check: MonitorCheck
        var transitions: [Transition]
        struct Transition: Encodable {
            var kind: String
            var alert: Alert
            var actions: [AlertActionRecord]
        }
        init(_ o: MonitorOutcome) {
            check = o.check
            transitions = o.transitions.map { Transition(kind: $0.kind.rawValue, alert: $0.alert, actions: $0.actions) }
        }
    }
}

/// Alert actions that need the workspace: starting a pipeline found by name among its specs,
/// and reading a deployment's routes.
struct WorkspaceAlertHooks: AlertHooks {
    let ws: Workspace
    /// Where the pipeline's start and end are told (standard error; the quickstart indents them
    /// under its stage, and says nothing with --json).
    var note: @Sendable (String) -> Void = { Output.note($0) }

    func runPipeline(_ name: String, params: [String: String], reason: String) async throws -> String {
        let (path, spec) = try PipelineFiles.named(name, root: ws.root)
        let values = try PipelineParams.resolve(spec, overrides: params)
        note("starting pipeline \(name) (\(path)): \(reason)")
        let executor = PipelineExecutor(store: ws.store, blobs: ws.blobs, workspaceRoot: ws.root)
        let run = try await executor.run(spec, params: values, options: ExecutionOptions(trigger: "alert", specPath: path, environment: ws.pipelineEnvironment()), events: { _ in })
        note("pipeline \(name) run \(run.id) \(run.status.rawValue)")
        guard run.status == .succeeded else {
            throw FlywheelError.failedPrecondition("pipeline run \(run.id) \(run.status.rawValue) (flywheel pipelines runs show \(run.id))")
        }
        return "pipeline run \(run.id) succeeded"
    }

    func routedAliases(deployment: String) async throws -> [String] {
        guard let d = try await ws.store.deployment(named: deployment) else { throw FlywheelError.notFound("deployment '\(deployment)' not found") }
        guard let spec = DeploymentSpec.parse(d.spec).spec else { throw FlywheelError.internal("deployment '\(deployment)' no longer parses") }
        return spec.routes.map(\.model).filter { $0.contains("@") }
    }
}
