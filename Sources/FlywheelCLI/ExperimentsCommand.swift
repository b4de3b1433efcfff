import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct ExperimentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "Create, list, show and archive experiments (named groups of runs).",
        subcommands: [Create.self, List.self, Show.self, Archive.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an experiment and print its ID.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A unique name.") var name: String
        @Option(help: "What the experiment is about.") var description = ""
        @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable).", valueName: "key=value"))
        var labels: [String] = []

        func run() async throws {
            let ws = try global.open()
            let e = try await ws.tracking.createExperiment(name: name, description: description, labels: try parseLabels(labels))
            Output.line(e.id.rawValue)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List experiments.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Flag(name: .long, help: "Include archived experiments.") var all = false
        @Option(name: [.short, .long], help: "A label selector, e.g. 'team=fraud,env!=dev'.") var selector: String?

        func run() async throws {
            let ws = try global.open()
            let sel = try selector.map(LabelSelector.init(parsing:))
            let list = try await ws.store.listExperiments(includeArchived: all).filter { sel?.matches($0.labels) ?? true }
            if output.json { return try Output.json(list) }
            Output.table(
                ["ID", "NAME", "LABELS", "CREATED", "ARCHIVED"],
                list.map { [$0.id.rawValue, $0.name, $0.labels.formatted, Output.time($0.createdAt), $0.archived ? "yes" : ""] })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an experiment and a summary of its runs.")
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

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive an experiment (hidden from lists; its runs stay), or restore it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The experiment's name or ID.") var experiment: String
        @Flag(help: "Restore an archived experiment instead.") var restore = false

        func run() async throws {
            let ws = try global.open()
            let e = try await ws.tracking.setArchived(experiment, !restore)
            Output.line("\(restore ? "Restored" : "Archived") experiment \(e.name) (ID \(e.id))")
        }
    }
}
