import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

extension RunsCommand {
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", 
            abstract: "Complete a failed, cancelled or interrupted pipeline run.",
            discussion: prose("""
                Steps that succeeded keep their outputs; failed, cancelled and interrupted steps
                and everything downstream of them run again, as further attempts of the same
                pipeline run. The spec and params are the ones the run started with.
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The pipeline run's ID ('flywheel pipelines runs list').") var id: String
        @Option(help: "Steps to run at once (default: the number of cores).") var parallel: Int?
        @Flag(help: "Run the remaining steps even when an earlier identical attempt could be reused.") var noCache = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let ws = try global.open()
            let runID = PipelineRunID(rawValue: id)
            guard let existing = try await ws.store.pipelineRun(id: runID) else {
                throw FlywheelError.notFound("pipeline run '\(id)' not found ('flywheel pipelines runs list' shows them)")
            }
            let options = ExecutionOptions(
                parallel: parallel ?? ProcessInfo.processInfo.activeProcessorCount, useCache: !noCache, trigger: "resume",
                specPath: existing.specPath, environment: ws.pipelineEnvironment())
            let steps = try await ws.store.stepAttempts(pipelineRunID: runID).map(\.step)
            try await PipelineLaunch.execute(json: output.json, ws: ws, steps: steps) { executor, events in
                try await executor.resume(runID, options: options, events: events)
            }
        }
    }
}
