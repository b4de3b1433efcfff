import ArgumentParser

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Apply, list, show and delete deployments (which model versions answer /predict/NAME).",
        discussion: prose("""
            A deployment file names the model versions that answer a name, by alias or version,
            with weights (canary), a sticky header (A/B), shadows, a fallback, a review threshold
            and prediction logging; see docs/serving.md. A running 'flywheel server' picks up an
            applied change, and an alias move, within a second, without dropping a request.
            """),
        subcommands: [Apply.self, List.self, Show.self, Delete.self, History.self])
}
