import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand {
    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "versions", 
            abstract: "Create, list and change the status of model versions.",
            subcommands: [Create.self, List.self, Status.self])
    }
}
