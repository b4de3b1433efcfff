import ArgumentParser
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace (.flywheel/ with SQLite metadata and an artifact folder).",
        discussion: "Running it again in an existing workspace changes nothing.")

    @Argument(help: "The folder to make a workspace of (default: the current folder).")
    var path: String = "."

    func run() async throws {
        let root = URL(fileURLWithPath: path).standardizedFileURL
        let created = try Workspace.initialize(at: root)
        let dot = root.appendingPathComponent(Workspace.folderName).path
        Output.line(created ? "Initialized an empty Flywheel workspace in \(dot)" : "Flywheel workspace already exists in \(dot)")
    }
}
