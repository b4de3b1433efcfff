import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

extension PipelinesCommand {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "runs", 
            abstract: "List pipeline runs or show one as its DAG of steps.", subcommands: [List.self, Show.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List pipeline runs, newest first.")
            @OptionGroup var global: GlobalOptions
            @Option(help: "Only this pipeline's runs.") var pipeline: String?
            @Option(help: "At most this many.") var limit = 50
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let ws = try global.open()
                let runs = try await ws.store.listPipelineRuns(pipeline: pipeline, limit: max(limit, 1))
                if output.json { return try Output.json(runs) }
                if runs.isEmpty { return Output.note("no pipeline runs yet ('flywheel run pipeline.yaml' starts one)") }
                Output.table(["RUN", "PIPELINE", "STATUS", "TRIGGER", "STARTED", "DURATION"], runs.map { r in
                    [r.id.rawValue, r.pipeline, r.status.rawValue, r.trigger, Output.time(r.startTime), Output.duration(r.startTime, r.endTime)]
                })
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", 
                abstract: "Show a pipeline run: each step with its state, attempts, duration and what it depends on.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The pipeline run's ID.") var id: String
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let ws = try global.open()
                let runID = PipelineRunID(rawValue: id)
                guard let run = try await ws.store.pipelineRun(id: runID) else {
                    throw FlywheelError.notFound("pipeline run '\(id)' not found ('flywheel pipelines runs list' shows them)")
                }
                let attempts = try await ws.store.stepAttempts(pipelineRunID: runID)
                if output.json { return try Output.json(PipelineRunDetail(run: run, steps: attempts)) }
                let text = String(decoding: (try? await ws.blobs.data(run.specDigest)) ?? Data(), as: UTF8.self)
                let spec = PipelineSpecParser.parse(text).spec
                Output.line("pipeline run \(run.id)  \(run.pipeline)  \(run.status.rawValue)  trigger \(run.trigger)")
                Output.line("started \(Output.time(run.startTime)), took \(Output.duration(run.startTime, run.endTime))"
                            + (run.trackingRunID.map { ", tracking run \($0)" } ?? ""))
                if !run.params.isEmpty {
                    Output.line("params: " + run.params.sorted { $0.key < $1.key }.map { "\($0.key)=\(ComponentsCommand.Show.text($0.value))" }.joined(separator: " "))
                }
                Output.line()
                // The latest attempt per step, in the spec's order, with what it needs.
                var latest: [String: StepAttempt] = [:]
                var count: [String: Int] = [:]
                for a in attempts {
                    count[a.step, default: 0] += 1
                    if (latest[a.step]?.attempt ?? 0) <= a.attempt { latest[a.step] = a }
                }
                let order = (spec?.steps.map(\.name) ?? []) + latest.keys.sorted().filter { k in !(spec?.steps.contains { $0.name == k } ?? false) }
                Output.table(["STEP", "STATUS", "ATTEMPTS", "DURATION", "NEEDS", "NOTE"], order.map { name in
                    let a = latest[name]
                    let needs = spec?.step(name)?.upstream.joined(separator: ",") ?? ""
                    let status = a.map { $0.cacheHit ? "cached" : $0.status.rawValue } ?? "not run"
                    return [name, status, a == nil ? "0" : String(count[name] ?? 0), a.map { Output.duration($0.startTime, $0.endTime) } ?? "-",
                            needs, a?.message ?? ""]
                })
            }
        }
    }
}
