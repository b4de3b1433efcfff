import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ExperimentsCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an experiment and a summary of its runs.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The experiment's name or ID.") var experiment: String

        struct View: Encodable {
            var experiment: Experiment
            var runCounts: [String: Int]
        }

        func run() async throws {
            let ws = try global.open()
            let e = try await ws.tracking.experiment(experiment)
            var counts: [String: Int] = [:]
            var token: String?
            repeat {
                let page = try await ws.store.searchRuns(RunQuery(experimentIDs: [e.id], limit: RunQuery.maxLimit, pageToken: token))
                for r in page.runs { counts[r.run.status.rawValue, default: 0] += 1 }
                token = page.nextPageToken
            } while token != nil
            if output.json { return try Output.json(View(experiment: e, runCounts: counts)) }
            Output.line("Experiment \(e.name) (ID \(e.id))\(e.archived ? " [archived]" : "")")
            if !e.description.isEmpty { Output.line("  \(e.description)") }
            if !e.labels.isEmpty { Output.line("  labels:  \(e.labels.formatted)") }
            Output.line("  created: \(Output.time(e.createdAt))")
            let total = counts.values.reduce(0, +)
            let parts = RunStatus.allCases.compactMap { s in counts[s.rawValue].map { "\($0) \(s.rawValue)" } }
            Output.line("  runs:    \(total)\(parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")")
        }
    }
}
