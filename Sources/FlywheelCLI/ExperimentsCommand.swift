import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct ExperimentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "Create, list, show and archive experiments (named groups of runs).",
        subcommands: [Create.self, List.self, Show.self, Archive.self])
}
