import FlywheelCore
import FlywheelMonitoring
import FlywheelPipelines
import Foundation
import ServiceLifecycle

/// `flywheel scheduler` as a swift-service-lifecycle `Service`: every `interval` it starts the
/// pipeline runs that are due (cron fire times, changed files, events) and checks the monitors
/// whose period ended, each in its own task. On graceful shutdown (SIGTERM or Ctrl-C, through the
/// `ServiceGroup` that runs it) it starts nothing new and returns once the running pipelines and
/// checks have finished; cancellation cancels them.
struct SchedulerService: Service {
    let ws: Workspace
    let specs: [(String, PipelineSpec)]
    let scheduler: Scheduler
    /// Seconds between looks.
    let interval: Double
    /// Steps to run at once within each pipeline run.
    let parallel: Int
    /// Look once, wait for what it started, and return.
    let once: Bool

    func run() async throws {
        let byName = Dictionary(specs.map { ($0.1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let executor = PipelineExecutor(store: ws.store, blobs: ws.blobs, workspaceRoot: ws.root)
        let monitorSchedule = MonitorSchedule(store: ws.store)
        let monitorService = MonitorService(store: ws.store, blobs: ws.blobs, hooks: WorkspaceAlertHooks(ws: ws))
        var reportedSkips: Set<String> = []
        func stopping() -> Bool { Task.isShuttingDownGracefully || Task.isCancelled }
        await withGracefulShutdownHandler {
            // Discarding: finished runs and checks are dropped at once, so a long-lived scheduler does not grow.
            await withDiscardingTaskGroup { group in
                while !stopping() {
                    do {
                        for due in try await scheduler.due(at: Timestamp(Date())) {
                            guard let (path, spec) = byName[due.pipeline] else { continue }
                            Output.line("\(Output.time(Timestamp(Date()))) starting \(due.pipeline): \(due.trigger) \(due.reason)")
                            let environment = ws.pipelineEnvironment(), parallel = parallel
                            group.addTask {
                                do {
                                    let params = try PipelineParams.resolve(spec, overrides: due.params)
                                    let run = try await executor.run(
                                        spec, params: params,
                                        options: ExecutionOptions(parallel: parallel, trigger: due.trigger, specPath: path, environment: environment),
                                        events: { _ in })
                                    Output.line("\(Output.time(Timestamp(Date()))) \(due.pipeline) run \(run.id) \(run.status.rawValue)")
                                } catch {
                                    Output.note("error: \(due.pipeline): \(FlywheelError.message(of: error))")
                                }
                            }
                        }
                    } catch {
                        Output.note("error: \(FlywheelError.message(of: error))")
                    }
                    do {
                        // Monitors are read from the store each time, so one applied later is picked up.
                        let (due, skipped) = try await monitorSchedule.due(at: Timestamp(Date()))
                        for s in skipped where reportedSkips.insert(s).inserted { Output.note("skipping monitor \(s)") }
                        for (spec, end) in due {
                            group.addTask {
                                do {
                                    MonitorFiles.print(try await monitorService.run(spec, at: end))
                                } catch {
                                    Output.note("error: monitor \(spec.name): \(FlywheelError.message(of: error))")
                                }
                            }
                        }
                    } catch {
                        Output.note("error: monitors: \(FlywheelError.message(of: error))")
                    }
                    if once { break }
                    // Sleep in short slices so a shutdown is noticed quickly.
                    let end = Date().addingTimeInterval(interval)
                    while !stopping() && Date() < end { try? await Task.sleep(nanoseconds: 100_000_000) }
                }
                // The group waits for every running pipeline and check before it returns.
            }
        } onGracefulShutdown: {
            Output.note("stopping: no new runs; waiting for running ones")
        }
    }
}
