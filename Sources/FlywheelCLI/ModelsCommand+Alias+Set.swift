import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand.Alias {
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Point ALIAS at VERSION (recorded with who and why).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "The alias.") var alias: String
        @Argument(help: "The version number.") var version: Int
        @Option(help: "Why (recorded in the history).") var reason = ""

        func run() async throws {
            try validateAlias(alias)
            let ws = try global.open()
            let old = try await ws.registry.setAlias(alias, model: name, version: version, by: Attribution(actor: GlobalOptions.actor(), reason: reason))
            Output.line("\(name)@\(alias) -> \(version)\(old.map { " (was \($0))" } ?? "")")
        }
    }
}
