import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

struct PipelinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "Check pipeline specs and look at pipeline runs.",
        discussion: prose("""
            A pipeline (pipeline.yaml) is a set of steps that 'uses:' a built-in component or
            'run:'s a shell command, joined by ${{ steps.S.outputs.O }} references. Check one
            with 'flywheel pipelines check FILE', run it with 'flywheel run FILE', list the
            components with 'flywheel components list'.
            """),
        subcommands: [Check.self, Runs.self, Compile.self])
}

/// Reads and checks a spec file, printing every problem as FILE:LINE:COLUMN: message.
enum SpecFile {
    static func load(_ path: String) throws -> (PipelineSpec?, [Diagnostic]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FlywheelError.notFound("cannot read '\(path)': no such file or not readable")
        }
        return PipelineChecker().check(text: text)
    }

    /// The checked spec, or an error listing every problem.
    static func checked(_ path: String) throws -> PipelineSpec {
        let (spec, problems) = try load(path)
        guard let spec, problems.isEmpty else {
            for p in problems { Output.note("\(path):\(p)") }
            throw FlywheelError.invalidArgument("\(path): \(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing ran")
        }
        return spec
    }
}

/// Prints a run's events as they happen; safe to call from many tasks.
final class PipelineConsole: @unchecked Sendable {
    private let lock = NSLock()
    private let toStandardError: Bool
    private let width: Int

    init(steps: [String], toStandardError: Bool) {
        self.toStandardError = toStandardError
        width = min(max(steps.map(\.count).max() ?? 4, 4) + 3, 40)
    }

    private func write(_ s: String) {
        lock.withLock {
            (toStandardError ? FileHandle.standardError : FileHandle.standardOutput).write(Data((s + "\n").utf8))
        }
    }

    private func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }

    func handle(_ e: PipelineEvent) {
        switch e {
        case .runStarted(let id, let pipeline):
            write("pipeline \(pipeline): run \(id)")
        case .stepStarted(let step, let attempt):
            write("  \(pad(step))started\(attempt > 1 ? " (attempt \(attempt))" : "")")
        case .stepLog(let step, let line):
            write("    [\(step)] \(line)")
        case .stepFinished(let step, let attempt, let status, let seconds, let cacheHit, let message):
            let what = cacheHit ? "cached" : status.rawValue.replacingOccurrences(of: "_", with: " ")
            let time = cacheHit || status == .skipped ? "" : String(format: " in %.2fs", seconds)
            let why = message.map { status == .succeeded ? "" : ": \($0)" } ?? ""
            write("  \(pad(step))\(what)\(time)\(attempt > 1 && !cacheHit ? " (attempt \(attempt))" : "")\(why)")
        case .stepRetrying(let step, let attempt, let delay):
            write("  \(pad(step))retrying in \(String(format: "%.1f", delay))s (attempt \(attempt))")
        case .runFinished(let id, let status):
            write("pipeline run \(id) \(status.rawValue)")
        }
    }
}

/// Runs `action` (after printing `message`) on SIGINT or SIGTERM until `restore()`: `flywheel run`
/// cancels its run, the scheduler stops starting new ones.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init(message: String, _ action: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data((message + "\n").utf8))
                action()
            }
            source.resume()
            sources.append(source)
        }
    }

    func restore() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Runs the executor under the console and signal handling, then prints and exits by status.
enum PipelineLaunch {
    static func execute(json: Bool, ws: Workspace, steps: [String],
                        _ body: @escaping @Sendable (PipelineExecutor, @escaping @Sendable (PipelineEvent) -> Void) async throws -> PipelineRun) async throws {
        let console = PipelineConsole(steps: steps, toStandardError: json)
        let executor = PipelineExecutor(store: ws.store, blobs: ws.blobs, workspaceRoot: ws.root)
        let task = Task { try await body(executor, { console.handle($0) }) }
        let interrupts = SignalWatcher(message: "\nstopping: cancelling the run's steps…") { task.cancel() }
        defer { interrupts.restore() }
        let run = try await task.value
        if json {
            let attempts = try await ws.store.stepAttempts(pipelineRunID: run.id)
            try Output.json(PipelineRunDetail(run: run, steps: attempts))
        }
        switch run.status {
        case .succeeded: return
        case .cancelled: throw ExitCode(130)
        default: throw ExitCode(1)
        }
    }
}

/// A pipeline run and its attempts, as `--json` prints them.
struct PipelineRunDetail: Encodable {
    var run: PipelineRun
    var steps: [StepAttempt]
}
