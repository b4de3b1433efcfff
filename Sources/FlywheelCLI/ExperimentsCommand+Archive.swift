import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ExperimentsCommand {
    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "archive", 
            abstract: "Archive an experiment (hidden from lists; its runs stay), or restore it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The experiment's name or ID.") var experiment: String
        @Flag(help: "Restore an archived experiment instead.") var restore = false

        func run() async throws {
            let ws = try global.open()
            let e = try await ws.tracking.setArchived(experiment, !restore)
            Output.line("\(restore ? "Restored" : "Archived") experiment \(e.name) (ID \(e.id))")
        }
    }
}
