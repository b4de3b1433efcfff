import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Register a model name.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A unique name (letters, digits, '-', '_', '.').") var name: String
        @Option(help: "What the model does.") var description = ""
        @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable).", valueName: "key=value"))
        var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let ws = try global.open()
            try await ws.registry.createModel(name: name, description: description, labels: labels)
            Output.line(name)
        }
    }
}
