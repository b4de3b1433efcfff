import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ArtifactsCommand {
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", 
            abstract: "Write an artifact (or every artifact under a directory path) to disk or standard output.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's ID.") var runID: String
        @Argument(help: "The artifact's logical path.") var path: String
        @Option(name: [.short, .long], help: "Where to write (default: the artifact's name here; - for standard output).")
        var output: String?

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            if output == "-" {
                guard let a = try await ws.store.artifacts(runID: id, prefix: path).first(where: { $0.path == path }) else {
                    throw FlywheelError.notFound("run \(id) has no artifact file '\(path)'")
                }
                FileHandle.standardOutput.write(try await ws.blobs.data(a.digest))
                return
            }
            let dest = URL(fileURLWithPath: output ?? (path as NSString).lastPathComponent)
            let got = try await ws.tracking.downloadArtifact(id, path: path, to: dest)
            Output.note("Wrote \(got.count) file\(got.count == 1 ? "" : "s") to \(dest.path)")
        }
    }
}
