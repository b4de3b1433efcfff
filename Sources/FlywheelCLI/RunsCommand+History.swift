import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Print every recorded value of one metric of a run.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The run's ID.") var runID: String
        @Argument(help: "The metric's key.") var key: String

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            let h = try await ws.store.metricHistory(runID: id, key: key)
            if output.json { return try Output.json(h) }
            Output.table(["STEP", "VALUE", "TIME"], h.map { [String($0.step), Output.number($0.value), Output.time($0.timestamp)] })
        }
    }
}
