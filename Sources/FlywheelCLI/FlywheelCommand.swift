import ArgumentParser
import FlywheelServer
import FlywheelCore
import Foundation

/// The root of the `flywheel` command tree.
public struct FlywheelCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "flywheel",
        abstract: "Track, register and trace machine-learning models, embedded or at scale.",
        discussion: prose("""
            Commands work on a workspace: a folder holding .flywheel/ (SQLite metadata and a
            content-addressed artifact store). It is found from the current directory upwards,
            like git, or given by --workspace or FLYWHEEL_WORKSPACE. Create one with
            'flywheel init'; try everything at once with 'flywheel demo'.

            Every list and show command takes --json for scripts.
            """),
        version: version,
        subcommands: [
            InitCommand.self, ExperimentsCommand.self, RunsCommand.self, ArtifactsCommand.self, ModelsCommand.self,
            LineageCommand.self, DataCommand.self, TrainCommand.self, PredictCommand.self, RunCommand.self, PipelinesCommand.self,
            ComponentsCommand.self, StepCommand.self, SchedulerCommand.self, EventsCommand.self, DeployCommand.self, ServerCommand.self, UICommand.self, LogsCommand.self,
            FeedbackCommand.self, LabelsCommand.self, DriftCommand.self, MonitorCommand.self, QuickstartCommand.self, DemoCommand.self,
        ]
    )

    public init() {}

    /// Parses `arguments`, runs the command and returns the process exit code.
    ///
    /// Flywheel's own errors print as `error: <message>` with no stack trace.
    @MainActor
    public static func run(arguments: [String]) async -> Int32 {
        // The server answers fastest with its handlers on NIO's event loops; this must happen on
        // the main thread before other concurrency work, so here and only for `server`.
        if arguments.first == "server" && !arguments.contains("--help") && !arguments.contains("-h") {
            ServingApplication.runConcurrencyOnEventLoops()
        }
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            return 0
        } catch let e as FlywheelError {
            FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
            return 1
        } catch {
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let code = exitCode(for: error).rawValue
                let stream = code == 0 ? FileHandle.standardOutput : FileHandle.standardError
                stream.write(Data((message + "\n").utf8))
            }
            return exitCode(for: error).rawValue
        }
    }
}
