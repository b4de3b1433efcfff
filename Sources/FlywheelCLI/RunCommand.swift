import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline: steps in dependency order, independent ones at once, every attempt recorded.",
        discussion: prose("""
            The spec is checked first; nothing runs if it has a problem. Steps whose inputs,
            params, component version (or command text and declared deps) match an earlier
            successful attempt reuse its outputs (--no-cache turns that off). Output of
            command steps streams live with the step's name in front. Ctrl-C cancels the run
            and stops every step's processes. Exit status: 0 succeeded, 1 failed, 130 cancelled.
            'flywheel runs resume ID' completes a failed or cancelled run.
            """))
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The pipeline spec (pipeline.yaml).") var file: String
    @Option(name: [.short, .customLong("param")], help: ArgumentHelp("Set a param (repeatable).", valueName: "key=value"))
    var params: [String] = []
    @Option(help: "Steps to run at once (default: the number of cores).") var parallel: Int?
    @Flag(help: "Run every step even when an earlier identical attempt could be reused.") var noCache = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let p = parallel, p < 1 { throw ValidationError("--parallel must be at least 1") }
    }

    func run() async throws {
        let spec = try SpecFile.checked(file)
        var overrides: [String: String] = [:]
        for p in params {
            let (k, v) = try PipelineParams.parseAssignment(p)
            overrides[k] = v
        }
        let values = try PipelineParams.resolve(spec, overrides: overrides)
        let ws = try global.open()
        let options = ExecutionOptions(
            parallel: parallel ?? ProcessInfo.processInfo.activeProcessorCount, useCache: !noCache, trigger: "manual", specPath: file,
            environment: ws.pipelineEnvironment())
        try await PipelineLaunch.execute(json: output.json, ws: ws, steps: spec.steps.map(\.name)) { executor, events in
            try await executor.run(spec, params: values, options: options, events: events)
        }
    }
}
