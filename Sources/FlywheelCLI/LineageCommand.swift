import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Trace where a model, run or dataset came from and what was made from it.",
        subcommands: [Show.self])
}
