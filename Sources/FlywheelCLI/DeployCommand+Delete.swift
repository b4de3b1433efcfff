import ArgumentParser
import FlywheelCore
import Foundation

extension DeployCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", 
            abstract: "Delete a deployment (its history is kept; a running server stops answering it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The deployment's name.") var name: String

        func run() async throws {
            let ws = try global.open()
            let rev = try await ws.store.deleteDeployment(named: name, actor: GlobalOptions.actor(), at: SystemWallClock().now())
            Output.line("deployment \(name) deleted (revision \(rev.revision))")
        }
    }
}
