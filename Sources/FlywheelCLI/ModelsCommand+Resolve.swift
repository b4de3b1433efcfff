import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand {
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve", 
            abstract: "Resolve models:/NAME/VERSION or models:/NAME@ALIAS to a version.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The model reference.") var reference: String

        func run() async throws {
            _ = try ModelURI(parsing: reference)
            let ws = try global.open()
            let v = try await ws.registry.resolve(reference)
            if output.json { return try Output.json(v) }
            Output.line("\(v.modelName) version \(v.version)  \(v.digest?.description ?? "")")
        }
    }
}
