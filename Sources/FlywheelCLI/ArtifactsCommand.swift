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
}
