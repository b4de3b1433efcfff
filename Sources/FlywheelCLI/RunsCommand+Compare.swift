import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "compare", 
            abstract: "Compare runs side by side: one row per run, a column per param and latest metric.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Two or more run IDs.") var runIDs: [String]

        func validate() throws {
            if runIDs.count < 2 { throw ValidationError("give at least two run IDs to compare") }
        }

        func run() async throws {
            let ids = try runIDs.map(parseRunID)
            let ws = try global.open()
            let c = try await ws.tracking.compare(ids)
            if output.json { return try Output.json(c) }
            Output.line(CompareTable.render(c))
        }
    }
}
