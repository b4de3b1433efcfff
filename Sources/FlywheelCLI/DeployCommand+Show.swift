import ArgumentParser
import FlywheelCore
import Foundation

extension DeployCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a deployment: its routes resolved now and the spec as applied.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The deployment's name.") var name: String

        func run() async throws {
            let ws = try global.open()
            guard let d = try await ws.store.deployment(named: name) else { throw FlywheelError.notFound("deployment '\(name)' not found") }
            let row = try await DeployCommand.describe(d, ws: ws)
            if output.json {
                struct Out: Encodable {
                    var summary: List.Row
                    var spec: String
                }
                return try Output.json(Out(summary: row, spec: d.spec))
            }
            Output.line("deployment \(d.name), revision \(d.revision), applied \(Output.time(d.time)) by \(d.actor)")
            Output.table(["ROUTE", "WEIGHT", "VERSION NOW"], row.routes.map { [$0.model, Output.number($0.weight), $0.version.map(String.init) ?? "unresolved"] })
            if !row.shadow.isEmpty { Output.line("shadow: \(row.shadow.joined(separator: ", "))") }
            Output.line()
            Output.line(d.spec.trimmingCharacters(in: .newlines))
        }
    }
}
