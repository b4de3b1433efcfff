import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

extension PipelinesCommand {
    struct Compile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "compile", 
            abstract: "Compile a pipeline for Kubeflow Pipelines / Vertex AI Pipelines.",
            discussion: prose("""
                Writes a KFP v2 PipelineSpec (schemaVersion 2.1.0): a component, executor and task
                per step; run: steps as containers running the command (image from the step's
                image: or --image); uses: steps as containers running 'flywheel step exec'
                (the image must hold the flywheel binary); params as pipeline inputs; files as
                system.Dataset / Model / Metrics / Artifact; if: as trigger policies; retry: as
                retry policies; cache: as caching options; for_each: as a parameter iterator. Step
                timeouts go into a second YAML document, the Kubernetes platform spec
                (activeDeadlineSeconds). Upload the file with the KFP UI or client.
                """))
        @Argument(help: "The pipeline spec (pipeline.yaml).") var file: String
        @Option(help: "The target: kfp (Kubeflow Pipelines v2, also Vertex AI Pipelines).") var target = "kfp"
        @Option(help: "The container image for steps without image: (must hold flywheel for uses: steps).") var image: String
        @Option(name: .shortAndLong, help: "Write here instead of standard output.") var output: String?

        func validate() throws {
            guard target == "kfp" else { throw ValidationError("--target '\(target)' is not supported; expected kfp") }
        }

        func run() async throws {
            let spec = try SpecFile.checked(file)
            let text = try KFPCompiler(image: image).compile(spec)
            if let output {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                Output.note("wrote \(output): \(spec.steps.count) steps for Kubeflow Pipelines")
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
