import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered models.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(name: [.short, .long], help: "A label selector, e.g. 'team=fraud'.") var selector: String?

        struct Row: Encodable {
            var model: RegisteredModel
            var latestVersion: Int?
            var aliases: [String: Int]
        }

        func run() async throws {
            let sel = try selector.map(LabelSelector.init(parsing:))
            let ws = try global.open()
            var rows: [Row] = []
            for m in try await ws.store.listModels() where sel?.matches(m.labels) ?? true {
                rows.append(Row(
                    model: m, latestVersion: try await ws.store.modelVersions(model: m.name).last?.version,
                    aliases: try await ws.store.aliases(model: m.name)))
            }
            if output.json { return try Output.json(rows) }
            Output.table(["NAME", "LATEST", "ALIASES", "LABELS", "UPDATED"], rows.map { r in
                [r.model.name, r.latestVersion.map(String.init) ?? "-",
                 r.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                 r.model.labels.formatted, Output.time(r.model.updatedAt)]
            })
        }
    }
}
