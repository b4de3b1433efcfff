import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand.Alias {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove an alias.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "The alias.") var alias: String
        @Option(help: "Why (recorded in the history).") var reason = ""

        func run() async throws {
            let ws = try global.open()
            let old = try await ws.registry.deleteAlias(alias, model: name, by: Attribution(actor: GlobalOptions.actor(), reason: reason))
            Output.line("removed \(name)@\(alias) (was \(old))")
        }
    }
}
