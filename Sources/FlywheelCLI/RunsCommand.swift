import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Start runs, log params/metrics/tags, end, search, show and compare them.",
        discussion: prose("""
            A shell script can track a run:
              id=$(flywheel runs create -e iris --param lr=0.1 --input data/iris.csv)
              flywheel runs log $id --metric acc=0.93 --step 1
              flywheel runs end $id
            """),
        subcommands: [Create.self, Log.self, End.self, List.self, Show.self, Compare.self, History.self, Resume.self])
}
