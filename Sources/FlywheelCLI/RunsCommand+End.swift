import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "end", abstract: "End a run.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's ID.") var runID: String
        @Option(help: "finished, failed or killed.") var status = "finished"

        func run() async throws {
            let id = try parseRunID(runID)
            let s = try RunStatus(parsing: status)
            guard s.isTerminal else { throw ValidationError("--status must be finished, failed or killed to end a run") }
            let ws = try global.open()
            try await ws.tracking.endRun(id, status: s)
        }
    }
}
