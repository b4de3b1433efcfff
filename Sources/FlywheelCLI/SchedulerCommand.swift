import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Start pipeline runs on their cron schedules, when watched files change, and on events.",
        discussion: prose("""
            Watches the given pipeline specs (default: every *.yaml in the workspace folder and in
            pipelines/ that declares 'pipeline:' with a schedule or an 'on:' trigger). A
            'schedule:' is a five-field cron expression in UTC; 'on: [{files: GLOB}]' starts a run
            for each new or changed matching file (by digest; a pipeline with a 'file' param gets
            the path); 'on: [{event: NAME}]' starts one for each event submitted with
            'flywheel events submit NAME'. Each fire time, file version and event starts exactly
            one run, even with several schedulers on one workspace. 'catch_up: once' in a spec
            runs once at start-up if fire times were missed while no scheduler ran. Ctrl-C or
            SIGTERM stops watching and lets running pipelines finish.
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
        guard !specs.isEmpty else {
            throw FlywheelError.notFound("no pipeline with a schedule or an 'on:' trigger to watch (give spec files as arguments)")
        }
        for (path, s) in specs {
            let what = ([s.schedule.map { "schedule \($0)" }].compactMap { $0 } + s.triggers.map {
                switch $0 {
                case .files(let g): return "files \(g)"
                case .event(let e): return "event \(e)"
                }
            }).joined(separator: ", ")
            Output.line("watching \(s.name) (\(path)): \(what)")
        }
        let scheduler = try Scheduler(pipelines: specs.map(\.1), store: ws.store, workspaceRoot: ws.root)
        let executor = PipelineExecutor(store: ws.store, blobs: ws.blobs, workspaceRoot: ws.root)
        let byName = Dictionary(specs.map { ($0.1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let stop = StopFlag()
        let handler = SignalWatcher(message: "stopping: no new runs; waiting for running ones") { stop.set() }
        defer { handler.restore() }
        let parallel = self.parallel ?? ProcessInfo.processInfo.activeProcessorCount
        await withTaskGroup(of: Void.self) { group in
            while !stop.isSet {
                do {
                    for due in try await scheduler.due(at: Timestamp(Date())) {
                        guard let (path, spec) = byName[due.pipeline] else { continue }
                        Output.line("\(Output.time(Timestamp(Date()))) starting \(due.pipeline): \(due.trigger) \(due.reason)")
                        group.addTask {
                            do {
                                let params = try PipelineParams.resolve(spec, overrides: due.params)
                                let run = try await executor.run(
                                    spec, params: params, options: ExecutionOptions(parallel: parallel, trigger: due.trigger, specPath: path),
                                    events: { _ in })
                                Output.line("\(Output.time(Timestamp(Date()))) \(due.pipeline) run \(run.id) \(run.status.rawValue)")
                            } catch {
                                Output.note("error: \(due.pipeline): \((error as? FlywheelError)?.message ?? "\(error)")")
                            }
                        }
                    }
                } catch {
                    Output.note("error: \((error as? FlywheelError)?.message ?? "\(error)")")
                }
                if once { break }
                // Sleep in short slices so a stop request is noticed quickly.
                let end = Date().addingTimeInterval(seconds)
                while !stop.isSet && Date() < end { try? await Task.sleep(nanoseconds: 100_000_000) }
            }
            await group.waitForAll()
        }
    }

    /// The specs named, or every watchable spec in the workspace folder and pipelines/.
    func loadSpecs(root: URL) throws -> [(String, PipelineSpec)] {
        if !files.isEmpty { return try files.map { ($0, try SpecFile.checked($0)) } }
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
                if spec.schedule != nil || !spec.triggers.isEmpty { out.append((path, spec)) }
            }
        }
        return out
    }
}

/// Set once by a signal; read by the scheduler's loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
