import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand.Versions {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a model's versions.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The model's name.") var name: String

        func run() async throws {
            let ws = try global.open()
            let vs = try await ws.registry.versions(name)
            if output.json { return try Output.json(vs) }
            Output.table(["VERSION", "STATUS", "RUN", "SOURCE", "CREATED"], vs.map { v in
                [String(v.version), v.status.rawValue, v.runID?.rawValue ?? "-", v.source, Output.time(v.createdAt)]
            })
        }
    }
}
