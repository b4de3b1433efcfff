import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ArtifactsCommand {
    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "put", abstract: "Log a file or a directory as artifacts of a run.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The run's ID.") var runID: String
        @Argument(help: "A file or directory.") var path: String
        @Option(name: .customLong("as"), help: "The logical path within the run (default: the file's name).")
        var logicalPath: String?

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            let started = Date()
            let meter = ProgressLine(label: "storing")
            let records = try await ws.tracking.logArtifact(id, from: URL(fileURLWithPath: path), as: logicalPath) {
                done, total, bytes in meter.update("\(done)/\(total) files, \(ProgressLine.bytes(bytes))")
            }
            meter.finish()
            if output.json { return try Output.json(records) }
            let bytes = records.reduce(Int64(0)) { $0 + $1.size }
            Output.line("Logged \(records.count) file\(records.count == 1 ? "" : "s") (\(bytes) bytes) to run \(id) in \(String(format: "%.2f", Date().timeIntervalSince(started)))s")
            for r in records { Output.line("  \(r.path)  \(r.digest)") }
        }
    }
}
