import ArgumentParser
import FlywheelCore
import FlywheelServing
import Foundation

extension DeployCommand {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Every revision of a deployment: who applied or deleted it, and when.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The deployment's name.") var name: String

        func run() async throws {
            let ws = try global.open()
            let h = try await ws.store.deploymentHistory(named: name)
            guard !h.isEmpty else { throw FlywheelError.notFound("deployment '\(name)' not found") }
            if output.json { return try Output.json(h) }
            Output.table(["REVISION", "ACTION", "WHEN", "BY", "ROUTES"], h.map { r in
                let routes = (DeploymentSpec.parse(r.spec).spec?.routes ?? []).map { "\($0.model) (\(Output.number($0.weight)))" }.joined(separator: ", ")
                return [String(r.revision), r.action.rawValue, Output.time(r.time), r.actor, routes]
            })
        }
    }
}
