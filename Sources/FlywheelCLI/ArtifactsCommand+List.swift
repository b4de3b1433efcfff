import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ArtifactsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a run's artifacts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The run's ID.") var runID: String
        @Option(help: "Only artifacts under this logical directory.") var prefix: String?

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            let list = try await ws.store.artifacts(runID: id, prefix: prefix)
            if output.json { return try Output.json(list) }
            Output.table(["PATH", "SIZE", "DIGEST", "LOGGED"], list.map {
                [$0.path, String($0.size), $0.digest.description, Output.time($0.createdAt)]
            })
        }
    }
}
