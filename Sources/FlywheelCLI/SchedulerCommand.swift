import ArgumentParser
import FlywheelCore
import FlywheelMonitoring
import FlywheelPipelines
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Start pipeline runs on their cron schedules, when watched files change, and on events; check monitors every period.",
        discussion: prose("""
            Watches the given pipeline specs (default: every *.yaml in the workspace folder and in
            pipelines/ that declares 'pipeline:' with a schedule or an 'on:' trigger). A
            'schedule:' is a five-field cron expression in UTC; 'on: [{files: GLOB}]' starts a run
            for each new or changed matching file (by digest; a pipeline with a 'file' param gets
            the path); 'on: [{event: NAME}]' starts one for each event submitted with
            'flywheel events submit NAME'. Each fire time, file version and event starts exactly
            one run, even with several schedulers on one workspace. 'catch_up: once' in a spec
            runs once at start-up if fire times were missed while no scheduler ran. Applied
            monitors with 'every: P' are checked once per period (windows end at multiples of P
            since the epoch, UTC), their alerts evaluated and actions run. Ctrl-C or SIGTERM
            stops watching and lets running pipelines and checks finish.
            """))
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pipeline specs to watch.") var files: [String] = []
    @Option(help: "How often to look, e.g. 5s or 1m.") var interval = "10s"
    @Option(help: "Steps to run at once within each pipeline run.") var parallel: Int?
    @Flag(help: "Look once, run what is due, wait for those runs, and exit.") var once = false

    func run() async throws {
        guard let seconds = DurationText.seconds(interval), seconds > 0 else {
            throw ValidationError("--interval '\(interval)' is not a duration like 5s or 1m")
        }
        let ws = try global.open()
        let specs = try loadSpecs(root: ws.root)
        let monitors = try await ws.store.listMonitors().compactMap { MonitorSpec.parse($0.spec).spec }.filter { $0.every != nil }
        guard !specs.isEmpty || !monitors.isEmpty else {
            throw FlywheelError.notFound(
                "no pipeline with a schedule or an 'on:' trigger, and no monitor with 'every:', to watch (give spec files as arguments)")
        }
        for m in monitors { Output.line("watching monitor \(m.name): \(MonitorFiles.summary(m))") }
        for (path, s) in specs {
            let what = ([s.schedule.map { "schedule \($0)" }].compactMap { $0 } + s.triggers.map {
                switch $0 {
                case .files(let g): return "files \(g)"
                case .event(let e): return "event \(e)"
                }
            }).joined(separator: ", ")
            Output.line("watching \(s.name) (\(path)): \(what)")
        }
        let service = SchedulerService(
            ws: ws, specs: specs, scheduler: try Scheduler(pipelines: specs.map(\.1), store: ws.store, workspaceRoot: ws.root),
            interval: seconds, parallel: parallel ?? ProcessInfo.processInfo.activeProcessorCount, once: once)
        // SIGTERM and Ctrl-C shut it down gracefully; its returning (with --once) ends the group.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
            logger: Logger(label: "flywheel.scheduler", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await group.run()
    }

    /// The specs named, or every watchable spec in the workspace folder and pipelines/.
    func loadSpecs(root: URL) throws -> [(String, PipelineSpec)] {
        if !files.isEmpty { return try files.map { ($0, try SpecFile.checked($0)) } }
        return PipelineFiles.discover(root: root).filter { $0.1.schedule != nil || !$0.1.triggers.isEmpty }
    }
}

/// The pipeline specs a workspace holds: every *.yaml in its folder and in pipelines/ that
/// declares 'pipeline:' and checks clean (one that does not is reported and skipped).
enum PipelineFiles {
    static func discover(root: URL) -> [(String, PipelineSpec)] {
        var out: [(String, PipelineSpec)] = []
        for dir in [root, root.appendingPathComponent("pipelines")] {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
            where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let path = dir.appendingPathComponent(name).path
                guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("pipeline:") else { continue }
                let (spec, problems) = PipelineChecker().check(text: text)
                guard let spec, problems.isEmpty else {
                    if PipelineSpecParser.parse(text).spec?.name.isEmpty == false {
                        Output.note("skipping \(path): \(problems.count) problem(s); run 'flywheel pipelines check \(path)'")
                    }
                    continue
                }
                out.append((path, spec))
            }
        }
        return out
    }

    /// The spec declaring `pipeline: NAME`, or an error naming the places looked in.
    static func named(_ name: String, root: URL) throws -> (String, PipelineSpec) {
        guard let found = discover(root: root).first(where: { $0.1.name == name }) else {
            throw FlywheelError.notFound("no pipeline named '\(name)' in \(root.path) or its pipelines/ folder (a *.yaml with 'pipeline: \(name)')")
        }
        return found
    }
}
