import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a model: versions, aliases and the history of changes.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The model's name.") var name: String

        func run() async throws {
            let ws = try global.open()
            let s = try await ws.registry.summary(name)
            if output.json { return try Output.json(s) }
            Output.line("Model \(s.model.name)")
            if !s.model.description.isEmpty { Output.line("  \(s.model.description)") }
            if !s.model.labels.isEmpty { Output.line("  labels: \(s.model.labels.formatted)") }
            let byVersion = Dictionary(grouping: s.aliases, by: \.value).mapValues { $0.map(\.key).sorted() }
            Output.line("\nVersions")
            Output.table(["VERSION", "STATUS", "ALIASES", "RUN", "DIGEST / SOURCE", "CREATED"], s.versions.map { v in
                [String(v.version), v.status.rawValue, byVersion[v.version]?.joined(separator: ",") ?? "",
                 v.runID.map { String($0.rawValue.prefix(12)) } ?? "-", v.digest.map { String($0.description.prefix(19)) } ?? (v.source.isEmpty ? "-" : v.source),
                 Output.time(v.createdAt)]
            })
            Output.line("\nHistory")
            Output.table(["TIME", "CHANGE", "ACTOR", "REASON"], s.events.map { e in
                [Output.time(e.time), Self.describe(e), e.actor, e.reason]
            })
        }

        static func describe(_ e: RegistryEvent) -> String {
            switch e.kind {
            case .versionCreated: "version \(e.version ?? 0) created"
            case .aliasSet:
                e.previousVersion.map { "@\(e.alias ?? "") moved \($0) -> \(e.version ?? 0)" } ?? "@\(e.alias ?? "") set to \(e.version ?? 0)"
            case .aliasDeleted: "@\(e.alias ?? "") removed (was \(e.previousVersion ?? 0))"
            case .statusChanged:
                "version \(e.version ?? 0) \(e.previousStatus?.rawValue ?? "?") -> \(e.status?.rawValue ?? "?")"
            case .versionDeleted: "version \(e.version ?? 0) deleted"
            case .renamed: "renamed to \(e.modelName)"
            }
        }
    }
}
