import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", 
            abstract: "Start a run and print its ID.",
            discussion: prose("""
                Records what makes the run reproducible: the git commit and dirty flag of the
                current folder (when it is a repository), the command line, host, OS, Swift
                version, user, and the SHA-256 of every --input file (also as lineage).
                The experiment is created when it does not exist yet.
                """))
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("experiment")], help: "The experiment's name or ID.") var experiment: String
        @Option(help: "A name for the run (default: a generated one).") var name: String?
        @Option(name: .customLong("param"), help: ArgumentHelp("A param KEY=VALUE (repeatable; write-once).", valueName: "key=value"))
        var params: [String] = []
        @Option(name: .customLong("tag"), help: ArgumentHelp("A tag KEY=VALUE (repeatable).", valueName: "key=value"))
        var tags: [String] = []
        @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable).", valueName: "key=value"))
        var labels: [String] = []
        @Option(name: .customLong("input"), help: ArgumentHelp("A file the run reads (repeatable); its digest is recorded.", valueName: "file"))
        var inputs: [String] = []
        @Option(help: "The parent run's ID (for a nested run).") var parent: String?
        @Option(help: "The random seed the run uses, recorded for reproduction.") var seed: UInt64?

        func run() async throws {
            let params = try parseDictionary(self.params, flag: "--param")
            let tags = try parseDictionary(self.tags, flag: "--tag")
            let labels = try parseLabels(self.labels)
            let parent = try self.parent.map(parseRunID)
            let ws = try global.open()
            let exp: Experiment
            if let found = try? await ws.tracking.experiment(experiment) {
                exp = found
            } else {
                exp = try await ws.tracking.ensureExperiment(named: experiment)
            }
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let env = RunEnvironment.capture(
                commandLine: CommandLine.arguments, workingDirectory: cwd, user: ProcessInfo.processInfo.environment["USER"],
                flywheelVersion: FlywheelCommand.version, seed: seed)
            let run = try await ws.tracking.startRun(
                in: exp.id, name: name, parent: parent, labels: labels, params: params, tags: tags, environment: env,
                inputs: inputs.map { URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL })
            Output.line(run.id.rawValue)
        }
    }
}
