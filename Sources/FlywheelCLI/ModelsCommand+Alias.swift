import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand {
    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "alias", 
            abstract: "Point an alias (production, staging, any name) at a version, or remove it.",
            subcommands: [Set.self, Delete.self])
    }
}
