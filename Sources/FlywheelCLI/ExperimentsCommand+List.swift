import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ExperimentsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List experiments.")
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
}
