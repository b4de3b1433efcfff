import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand.Versions {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Set a version's status: ready, deprecated or archived.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "The version number.") var version: Int
        @Argument(help: "ready, deprecated or archived.") var status: String
        @Option(help: "Why (recorded in the history).") var reason = ""

        func run() async throws {
            let s = try ModelVersionStatus(parsing: status)
            let ws = try global.open()
            try await ws.registry.setStatus(s, model: name, version: version, by: Attribution(actor: GlobalOptions.actor(), reason: reason))
            Output.line("\(name) version \(version) is now \(s.rawValue)")
        }
    }
}
