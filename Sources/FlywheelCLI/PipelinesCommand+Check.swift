import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

extension PipelinesCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", 
            abstract: "Check a pipeline spec without running anything.",
            discussion: prose("""
                Reports every problem at once, each as FILE:LINE:COLUMN: message: YAML errors,
                unknown keys, unknown components or inputs, references to missing steps, outputs
                or params, cycles (printed as their path), type mismatches and missing required
                inputs. Exits 1 when there is any problem. 'flywheel run' runs the same check first.
                """))
        @Argument(help: "The pipeline spec (pipeline.yaml).") var file: String
        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            var file: String
            var valid: Bool
            var pipeline: String?
            var steps: [String]
            var problems: [Diagnostic]
        }

        func run() async throws {
            let (spec, problems) = try SpecFile.load(file)
            let ok = spec != nil && problems.isEmpty
            if output.json {
                try Output.json(Report(file: file, valid: ok, pipeline: spec?.name, steps: spec?.steps.map(\.name) ?? [], problems: problems))
            } else if ok, let spec {
                Output.line("\(file): pipeline '\(spec.name)' is valid: \(spec.steps.count) step\(spec.steps.count == 1 ? "" : "s") (\(spec.steps.map(\.name).joined(separator: ", ")))")
            } else {
                for p in problems { Output.line("\(file):\(p)") }
                Output.note("\(problems.count) problem\(problems.count == 1 ? "" : "s")")
            }
            if !ok { throw ExitCode(1) }
        }
    }
}
