import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run: environment, params, metrics, tags, artifacts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The run's ID.") var runID: String

        struct View: Encodable {
            var run: Run
            var data: RunData
            var artifacts: [ArtifactRecord]
        }

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            let d = try await ws.tracking.detail(id)
            let arts = try await ws.store.artifacts(runID: id, prefix: nil)
            if output.json { return try Output.json(View(run: d.run, data: d.data, artifacts: arts)) }
            let r = d.run
            let exp = try await ws.store.experiment(id: r.experimentID)
            Output.line("Run \(r.id)  \(r.name)")
            Output.line("  experiment: \(exp?.name ?? "?") (ID \(r.experimentID))")
            Output.line("  status:     \(r.status.rawValue)\(r.deletedAt.map { "   deleted \(Output.time($0)) (restore it through the MLflow API's runs/restore)" } ?? "")")
            Output.line("  started:    \(Output.time(r.startTime))   ended: \(Output.time(r.endTime))   duration: \(Output.duration(r.startTime, r.endTime))")
            if let p = r.parentID { Output.line("  parent:     \(p)") }
            if !r.labels.isEmpty { Output.line("  labels:     \(r.labels.formatted)") }
            let env = r.environment
            if let c = env.gitCommit {
                Output.line("  git:        \(c)\(env.gitDirty == true ? " (dirty)" : "")\(env.gitBranch.map { " on \($0)" } ?? "")")
            }
            if !env.commandLine.isEmpty { Output.line("  command:    \(env.commandLine.joined(separator: " "))") }
            Output.line("  host:       \(env.host ?? "?")  os: \(env.os ?? "?")  swift: \(env.swiftVersion ?? "?")  user: \(env.user ?? "?")")
            if let s = env.seed { Output.line("  seed:       \(s)") }
            for i in env.inputs { Output.line("  input:      \(i.path)  \(i.digest)  \(i.size) bytes") }
            if !d.data.params.isEmpty {
                Output.line("\nParams")
                Output.table(["KEY", "VALUE"], d.data.params.sorted { $0.key < $1.key }.map { [$0.key, $0.value] })
            }
            if !d.data.latestMetrics.isEmpty {
                Output.line("\nMetrics (latest)")
                Output.table(["KEY", "VALUE", "STEP", "TIME"], d.data.latestMetrics.values.sorted { $0.key < $1.key }.map {
                    [$0.key, Output.number($0.value), String($0.step), Output.time($0.timestamp)]
                })
            }
            if !d.data.tags.isEmpty {
                Output.line("\nTags")
                Output.table(["KEY", "VALUE"], d.data.tags.sorted { $0.key < $1.key }.map { [$0.key, $0.value] })
            }
            if !arts.isEmpty {
                Output.line("\nArtifacts")
                Output.table(["PATH", "SIZE", "DIGEST"], arts.map { [$0.path, String($0.size), $0.digest.description] })
            }
        }
    }
}
