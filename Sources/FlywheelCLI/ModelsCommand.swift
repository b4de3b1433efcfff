import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: models, numbered versions, aliases and their history.",
        discussion: "Refer to a version as models:/NAME/3 or models:/NAME@production.",
        subcommands: [Create.self, List.self, Show.self, Resolve.self, Versions.self, Alias.self])
}
