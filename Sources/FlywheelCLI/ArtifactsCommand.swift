import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct ArtifactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifacts",
        abstract: "Store files as a run's artifacts, fetch them back, list them.",
        discussion: "Artifacts are stored once by SHA-256 digest; a directory logs as its files.",
        subcommands: [Put.self, Get.self, List.self])

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Log a file or a directory as artifacts of a run.")
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

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
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

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a run's artifacts.")
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
