import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ExperimentsCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an experiment and print its ID.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A unique name.") var name: String
        @Option(help: "What the experiment is about.") var description = ""
        @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable).", valueName: "key=value"))
        var labels: [String] = []

        func run() async throws {
            let ws = try global.open()
            let e = try await ws.tracking.createExperiment(name: name, description: description, labels: try parseLabels(labels))
            Output.line(e.id.rawValue)
        }
    }
}
