import ArgumentParser
import FlywheelCore
import FlywheelMonitoring
import FlywheelPipelines
import FlywheelRegistry
import FlywheelServing
import Foundation

struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Close the whole loop on one machine: train, serve, watch, detect drift, retrain, roll out by canary.",
        discussion: prose("""
            Makes a workspace (a new folder here, or --dir) with a pipeline, a deployment and a
            monitor written out for you to read; trains a churn model with the pipeline and puts
            version 1 in production; starts the server on a free loopback port and sends it
            traffic with feedback labels; shifts the world (new customers, and a new reason to
            leave); the monitor sees the drift and the falling accuracy, and its alert runs the
            pipeline on the newly labelled traffic; the gate lets the new model through only if it
            beats production on the same rows; it is rolled out to 10% of traffic, compared, and
            promoted to 100% or rolled back. Every step is recorded in the workspace. Needs no
            network. --json prints the summary for scripts; --keep-serving leaves the server up.
            """))

    @Option(help: "Where to make the workspace (default: a new folder 'flywheel-quickstart' here).") var dir: String?
    @Option(help: "The server's port (0: any free one).") var port = 0
    @Option(help: "The seed of the generated world.") var seed: UInt64 = 7
    @Option(name: .customLong("canary-margin"), help: "How much more accurate the canary must be than production to be promoted.")
    var canaryMargin = 0.0
    @Flag(name: .customLong("keep-serving"), help: "Leave the server running at the end (Ctrl-C stops it).") var keepServing = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port number (0-65535)") }
        guard canaryMargin.isFinite, (-1...1).contains(canaryMargin) else { throw ValidationError("--canary-margin must be between -1 and 1") }
    }

    func run() async throws {
        var q = Quickstart(json: output.json)
        q.canaryMargin = canaryMargin
        let root = try Quickstart.folder(dir)
        do {
            try await q.run(root: root, port: port, seed: seed, keepServing: keepServing)
        } catch let e as QuickstartFailure {
            if output.json { try? Output.json(q.summary) }
            throw FlywheelError.failedPrecondition("stage \(e.stage) failed: \(e.message)\n  inspect: \(e.inspect)")
        }
        if output.json { try Output.json(q.summary) }
    }
}

struct QuickstartFailure: Error {
    var stage: String
    var message: String
    var inspect: String
}

/// The quickstart, stage by stage; `summary` holds what each stage recorded.
struct Quickstart {
    struct Check: Encodable {
        var status: String
        var driftShare: Double?
        var accuracy: Double?
        var breachedRules: [String]
        var features: [String: Double]
    }

    struct Summary: Encodable {
        var workspace = ""
        var server: String?
        var stages: [String: Double] = [:]
        /// The stages' names in the order they ran (for the summary line; JSON keeps `stages`).
        var stageOrder: [String] = []
        var versions: [Int] = []
        var production: Int?
        var accuracy: [String: Double] = [:]
        var before: Check?
        var after: Check?
        /// The check after the rollout, on the new production's traffic.
        var final: Check?
        var resolved: [String] = []
        var alerts: [String] = []
        var actions: [String] = []
        var retrainRun: String?
        var gatePassed: Bool?
        var candidate: Int?
        var canary: [String: Double] = [:]
        var decision: String?
        var aliasMoves: [String] = []
        var seconds = 0.0
    }

    let json: Bool
    var canaryMargin = 0.0
    var summary = Summary()
    var stageNumber = 0

    init(json: Bool) { self.json = json }

    func say(_ text: String) { if !json { Output.line(text) } }

    static func folder(_ dir: String?) throws -> URL {
        if let dir { return URL(fileURLWithPath: dir).standardizedFileURL }
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var candidate = here.appendingPathComponent("flywheel-quickstart")
        var n = 2
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = here.appendingPathComponent("flywheel-quickstart-\(n)")
            n += 1
        }
        return candidate
    }

    /// Runs one stage, timing it and turning a failure into one that names the stage and where to look.
    mutating func stage<T>(_ name: String, inspect: String, _ body: (inout Quickstart) async throws -> T) async throws -> T {
        stageNumber += 1
        say("\n[\(stageNumber)/7] \(name)")
        let started = Date()
        do {
            let out = try await body(&self)
            summary.stages[name] = Date().timeIntervalSince(started)
            summary.stageOrder.append(name)
            return out
        } catch let e as QuickstartFailure {
            throw e
        } catch {
            throw QuickstartFailure(stage: "\(stageNumber) (\(name))", message: FlywheelError.message(of: error), inspect: inspect)
        }
    }

    mutating func run(root: URL, port: Int, seed: UInt64, keepServing: Bool) async throws {
        let started = Date()
        summary.workspace = root.path
        var world = ChurnWorld(seed: seed)

        // 1. The workspace and its files.
        let ws = try await stage("make the workspace", inspect: "ls \(root.path)") { q in
            try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
            try Workspace.initialize(at: root)
            let files: [(String, String)] = [
                ("data/churn.csv", world.csv(rows: 2000, shifted: false)), ("schema.yaml", QuickstartFiles.schema),
                ("pipeline.yaml", QuickstartFiles.pipeline), ("deploy.yaml", QuickstartFiles.deployment(canary: nil)),
                ("monitor.yaml", QuickstartFiles.monitor),
            ]
            for (name, text) in files { try text.write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8) }
            q.say("  \(root.path): \(files.map(\.0).joined(separator: ", "))")
            return try Workspace.open(root)
        }

        // 2. The first model, through the pipeline, straight to production.
        let spec = try SpecFile.checked(root.appendingPathComponent("pipeline.yaml").path)
        try await stage("train version 1 with the pipeline", inspect: "cd \(root.path) && flywheel pipelines runs list") { q in
            let run = try await q.runPipeline(ws, spec, params: [:], trigger: "quickstart")
            guard let version = try await q.registered(ws, run) else {
                throw QuickstartFailure(
                    stage: "2 (train version 1)", message: "the gate did not pass the first model",
                    inspect: "cd \(root.path) && flywheel pipelines runs show \(run.id)")
            }
            _ = try await ws.registry.setAlias("production", model: "churn", version: version, by: Attribution(actor: "quickstart", reason: "the first model"))
            q.summary.versions.append(version)
            q.summary.production = version
            q.summary.aliasMoves.append("production → v\(version) (first model)")
            q.say("  registered churn v\(version) (test accuracy \(Output.number(q.summary.accuracy["v\(version)"] ?? .nan))); production → v\(version)")
        }

        // 3. The server, with the deployment applied.
        let server = try await stage("start the server and deploy", inspect: "cd \(root.path) && flywheel deploy show churn") { q in
            let server = try await QuickstartServer.start(ws, port: port)
            do {
                try await q.apply(ws, QuickstartFiles.deployment(canary: nil))
                try await server.waitFor("/v2/models/churn/ready")
            } catch {
                await server.stop(ws)
                throw error
            }
            q.summary.server = server.url
            q.say("  \(server.url): POST /predict/churn answers with churn v\(q.summary.production ?? 0)")
            return server
        }
        do {
            // Requests that only wait for the server (as many as it takes) come from their own world,
            // so the traffic that is measured is the same on every run with this seed.
            var probes = ChurnWorld(seed: seed &+ 1, prefix: "p")
            try await loop(ws, server, &world, probes: &probes)
        } catch {
            await server.stop(ws)
            throw error
        }
        summary.seconds = Date().timeIntervalSince(started)
        printSummary(root, serving: keepServing ? server.url : nil)
        if keepServing {
            say("\nserving at \(server.url); the web UI: \(server.url)/ (Ctrl-C stops it)")
            let stop = StopFlag()
            let watcher = SignalWatcher(message: "stopping the server") { stop.set() }
            while !stop.isSet { try? await Task.sleep(for: .milliseconds(200)) }
            watcher.restore()
        }
        await server.stop(ws)
    }

    /// Stages 4 to 6: traffic, the shift and the alert, the retrained model's canary.
    mutating func loop(_ ws: Workspace, _ server: QuickstartServer, _ world: inout ChurnWorld, probes: inout ChurnWorld) async throws {
        let monitorText = QuickstartFiles.monitor
        var monitor = try MonitorFiles.parse(monitorText, source: "monitor.yaml")
        _ = try await ws.store.applyMonitor(name: monitor.name, spec: monitorText, actor: "quickstart", at: SystemWallClock().now())
        let quiet = json
        let hooks = WorkspaceAlertHooks(ws: ws, note: { line in if !quiet { Output.line("  " + line) } })
        let service = MonitorService(store: ws.store, blobs: ws.blobs, hooks: hooks)

        // 4. Calm traffic, some of it labelled; the monitor finds nothing.
        try await stage("send traffic like the training data", inspect: "flywheel logs predictions --deployment churn") { q in
            let start = SystemWallClock().now()
            let customers = (0..<400).map { _ in world.customer(shifted: false) }
            let answers = try await server.predict(customers)
            let labelled = try await server.feedback(answers, share: 0.6)
            try await q.waitForLog(ws, count: 400, since: start)
            q.say("  400 requests, \(labelled) labelled; accuracy on them \(Output.number(Self.accuracy(answers)))")
            let now = SystemWallClock().now()
            monitor.window = Self.window(since: start, to: now)
            let outcome = try await service.run(monitor, at: now)
            q.summary.before = Self.check(outcome.check)
            q.say("  monitor: \(outcome.check.status.rawValue) — \(Self.describe(outcome.check))")
        }

        // 5. The world shifts; the monitor sees it and its alert retrains.
        try await stage("shift the world; the monitor alerts and retrains", inspect: "flywheel monitor report churn-watch --html report.html") { q in
            let start = SystemWallClock().now()
            let customers = (0..<800).map { _ in world.customer(shifted: true) }
            // One at a time: these rows become data/labelled.csv in the order they were logged,
            // and the retrained model depends on that order.
            let answers = try await server.predict(customers, concurrency: 1)
            let labelled = try await server.feedback(answers, share: 0.75)
            try await q.waitForLog(ws, count: 800, since: start)
            q.say("  800 requests from the changed world, \(labelled) labelled; accuracy on them \(Output.number(Self.accuracy(answers)))")
            let n = try await LabelledExport.write(
                store: ws.store, deployment: "churn", since: start, target: ChurnWorld.target, to: ws.root.appendingPathComponent("data/labelled.csv"))
            q.say("  wrote data/labelled.csv: \(n) labelled rows since the shift")
            let now = SystemWallClock().now()
            monitor.window = Self.window(since: start, to: now)
            let outcome = try await service.run(monitor, at: now)
            q.summary.after = Self.check(outcome.check)
            q.say("  monitor: \(outcome.check.status.rawValue) — \(Self.describe(outcome.check))")
            for t in outcome.transitions where t.kind == .fired {
                q.summary.alerts.append("\(t.alert.rule): \(t.alert.message)")
                q.say("  ALERT \(t.alert.rule): \(t.alert.message)")
                for a in t.actions {
                    q.summary.actions.append("\(a.kind) \(a.target): \(a.outcome.rawValue) — \(a.message)")
                    q.say("    \(a.kind) \(a.target): \(a.outcome.rawValue) — \(a.message)")
                }
            }
            guard let run = try await ws.store.listPipelineRuns(pipeline: "churn", limit: 10).first(where: { $0.trigger == "alert" }) else {
                throw FlywheelError.failedPrecondition("no alert started the pipeline (monitor status \(outcome.check.status.rawValue))")
            }
            q.summary.retrainRun = run.id.rawValue
            let candidate = try await q.registered(ws, run)
            q.summary.gatePassed = candidate != nil
            q.summary.candidate = candidate
            if let candidate {
                q.summary.versions.append(candidate)
                q.say("  the gate passed: churn v\(candidate) beats production on the same held-out rows; alias candidate → v\(candidate)")
            } else {
                q.say("  the gate held: the retrained model did not beat production (see flywheel pipelines runs show \(run.id))")
            }
        }

        // 6. The candidate takes 10% of traffic; the better one takes it all.
        try await stage("roll out by canary: 10% → 100%, or roll back", inspect: "flywheel deploy history churn && flywheel models show churn") { q in
            guard let candidate = q.summary.candidate, let production = q.summary.production else {
                q.summary.decision = "kept production (no candidate passed the gate)"
                q.say("  nothing to roll out")
                return
            }
            try await q.apply(ws, QuickstartFiles.deployment(canary: 10))
            // Wait until the candidate answers (the server loads it in the background).
            var answers: [QuickstartServer.Answer] = []
            for _ in 0..<50 {
                answers = try await server.predict((0..<20).map { _ in probes.customer(shifted: true) })
                if answers.contains(where: { $0.version == candidate }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let traffic = try await server.predict((0..<600).map { _ in world.customer(shifted: true) })
            try await server.feedback(traffic, share: 1)
            let canary = traffic.filter { $0.version == candidate }, stable = traffic.filter { $0.version == production }
            let (ca, pa) = (Self.accuracy(canary), Self.accuracy(stable))
            q.summary.canary = ["share": Double(canary.count) / Double(max(traffic.count, 1)), "candidate_accuracy": ca, "production_accuracy": pa]
            q.say("  \(canary.count) of \(traffic.count) requests went to v\(candidate): accuracy \(Output.number(ca)) vs v\(production)'s \(Output.number(pa))")
            let who = Attribution(actor: "quickstart", reason: "canary: v\(candidate) \(Output.number(ca)) vs v\(production) \(Output.number(pa))")
            if ca > pa + q.canaryMargin {
                _ = try await ws.registry.setAlias("production", model: "churn", version: candidate, by: who)
                q.summary.production = candidate
                q.summary.decision = "promoted v\(candidate) to 100%"
                q.summary.aliasMoves.append("production → v\(candidate) (canary won)")
            } else {
                q.summary.decision = "rolled back: v\(production) keeps 100% (v\(candidate) did not beat it by \(Output.number(q.canaryMargin)))"
            }
            try await q.apply(ws, QuickstartFiles.deployment(canary: nil))
            try? QuickstartFiles.deployment(canary: nil).write(to: ws.root.appendingPathComponent("deploy.yaml"), atomically: true, encoding: .utf8)
            // The swap is served within a refresh; confirm every answer comes from production now.
            let expected = q.summary.production ?? production
            for _ in 0..<50 {
                let check = try await server.predict((0..<10).map { _ in probes.customer(shifted: true) })
                if check.allSatisfy({ $0.version == expected }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            q.say("  \(q.summary.decision ?? "")")

            // The loop closes: traffic to the new production, checked against its own training data.
            let start = SystemWallClock().now()
            let settled = try await server.predict((0..<300).map { _ in world.customer(shifted: true) })
            try await server.feedback(settled, share: 0.6)
            try await q.waitForLog(ws, count: 300, since: start)
            let now = SystemWallClock().now()
            monitor.window = Self.window(since: start, to: now)
            let outcome = try await service.run(monitor, at: now)
            q.summary.final = Self.check(outcome.check)
            q.say("  monitor on v\(expected)'s traffic: \(outcome.check.status.rawValue) — \(Self.describe(outcome.check))")
            for t in outcome.transitions where t.kind == .resolved {
                q.summary.resolved.append(t.alert.rule)
                q.say("  alert \(t.alert.id) resolved: \(t.alert.rule)")
            }
        }
        stageNumber += 1
        say("\n[7/7] summary")
    }

    // MARK: Pieces

    func runPipeline(_ ws: Workspace, _ spec: PipelineSpec, params: [String: String], trigger: String) async throws -> PipelineRun {
        let values = try PipelineParams.resolve(spec, overrides: params)
        let executor = PipelineExecutor(store: ws.store, blobs: ws.blobs, workspaceRoot: ws.root)
        let json = self.json
        let run = try await executor.run(spec, params: values, options: ExecutionOptions(trigger: trigger, specPath: "pipeline.yaml")) { event in
            guard !json, case .stepFinished(let step, _, let status, let seconds, _, let message) = event else { return }
            Output.line("  \(step): \(status.rawValue) in \(String(format: "%.2f", seconds)) s\(message.map { " — \($0)" } ?? "")")
        }
        guard run.status == .succeeded else {
            throw FlywheelError.failedPrecondition("pipeline run \(run.id) \(run.status.rawValue) (flywheel pipelines runs show \(run.id))")
        }
        return run
    }

    /// The version a run's register step made (nil when the gate held it back), noting its test accuracy.
    mutating func registered(_ ws: Workspace, _ run: PipelineRun) async throws -> Int? {
        let attempts = try await ws.store.stepAttempts(pipelineRunID: run.id)
        if let metrics = attempts.last(where: { $0.step == "evaluate" && $0.status == .succeeded })?.outputs["metrics"]?.digest,
           let value = try? JSONValue(parsing: try await ws.blobs.data(metrics)), case .number(let a)? = value["accuracy"],
           case .number(let v)? = attempts.last(where: { $0.step == "register" && $0.status == .succeeded })?.outputs["version"]?.value {
            summary.accuracy["v\(Int(v))"] = a
        }
        guard case .number(let v)? = attempts.last(where: { $0.step == "register" && $0.status == .succeeded })?.outputs["version"]?.value else {
            return nil
        }
        return Int(v)
    }

    func apply(_ ws: Workspace, _ text: String) async throws {
        guard DeploymentSpec.parse(text).spec != nil else { throw FlywheelError.internal("the quickstart's deployment does not parse") }
        _ = try await ws.store.applyDeployment(name: "churn", spec: text, actor: "quickstart", at: SystemWallClock().now())
    }

    /// Waits (bounded) until the log holds `count` records logged since `since` (the logger
    /// writes in batches, behind the answers).
    func waitForLog(_ ws: Workspace, count: Int, since: Timestamp) async throws {
        for _ in 0..<600 {
            if try await ws.store.predictions(PredictionQuery(deployment: "churn", since: since, limit: count + 1)).count >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FlywheelError(.unavailable, "the prediction log did not reach \(count) records since \(since) within 30 s")
    }

    /// The window from `t` to `now`, to the millisecond (the log stamps each request when it arrives).
    static func window(since t: Timestamp, to now: Timestamp) -> Double { Double(now.millisecondsSince1970 - t.millisecondsSince1970) / 1000 }

    static func accuracy(_ answers: [QuickstartServer.Answer]) -> Double {
        answers.isEmpty ? .nan : Double(answers.filter { $0.label == $0.truth }.count) / Double(answers.count)
    }

    static func check(_ c: MonitorCheck) -> Check {
        var features: [String: Double] = [:]
        for r in c.results where r.kind == "feature" { if let s = r.score { features[r.name] = s } }
        return Check(
            status: c.status.rawValue, driftShare: c.results.first { $0.kind == "dataset" }?.score,
            accuracy: c.results.first { $0.kind == "performance" }?.score, breachedRules: c.breachedRules, features: features)
    }

    static func describe(_ c: MonitorCheck) -> String {
        let drifted = c.results.filter { $0.kind == "feature" && $0.breached }.map(\.name)
        let share = c.results.first { $0.kind == "dataset" }?.score.map(Output.number) ?? "-"
        let accuracy = c.results.first { $0.kind == "performance" }?.score.map(Output.number) ?? "-"
        return "drift share \(share)\(drifted.isEmpty ? "" : " (\(drifted.joined(separator: ", ")))"), accuracy from feedback \(accuracy)"
    }

    func printSummary(_ root: URL, serving: String? = nil) {
        let s = summary
        say("  versions: \(s.versions.map { "v\($0)\(s.accuracy["v\($0)"].map { " (test accuracy \(Output.number($0)))" } ?? "")" }.joined(separator: ", ")); production: v\(s.production ?? 0)")
        if let b = s.before, let a = s.after {
            say("  drift share: \(b.driftShare.map(Output.number) ?? "-") before the shift, \(a.driftShare.map(Output.number) ?? "-") after")
            say("  accuracy from feedback: \(b.accuracy.map(Output.number) ?? "-") before, \(a.accuracy.map(Output.number) ?? "-") after, \(s.final?.accuracy.map(Output.number) ?? "-") after the rollout")
        }
        say("  alerts: \(s.alerts.isEmpty ? "none" : s.alerts.map { String($0.prefix { $0 != ":" }) }.joined(separator: ", ")) fired; \(s.resolved.isEmpty ? "none" : s.resolved.joined(separator: ", ")) resolved after the rollout")
        say("  rollout: \(s.decision ?? "-")")
        say("  stages: \(s.stageOrder.map { "\($0) \(String(format: "%.1f", s.stages[$0] ?? 0)) s" }.joined(separator: "; "))")
        say("  total: \(String(format: "%.1f", s.seconds)) s")
        say("""

            Look around (in \(root.path)):
              flywheel pipelines runs list              # the first training run and the alert's retraining run
              flywheel models show churn                # versions, aliases and every alias move
              flywheel monitor report churn-watch --html report.html
              flywheel monitor alerts                   # what fired and what it did
              flywheel logs predictions --deployment churn --since 1h
              flywheel runs list                        # every tracked run, with params and metrics
            """)
        if let serving {
            say("""
                  in the web UI, \(serving)/: the runs and their charts, the retraining pipeline's graph, each
                  alert with the version it was about and the run that trained it, the canary's traffic per version
                """)
        } else {
            say("  flywheel server                           # then the web UI at http://127.0.0.1:8080/ shows all of it")
        }
    }
}

/// Set once by a signal handler; read by the loop that keeps the quickstart's server up.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
