import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension ModelsCommand.Versions {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", 
            abstract: "Register a new version of a model and print its number.",
            discussion: prose("""
                The model file comes from --file (stored by digest) or --artifact, a path the
                run logged. --signature is the input signature as JSON, or @FILE to read it.
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The model's name.") var name: String
        @Option(help: "The run that produced the version.") var run: String?
        @Option(help: "A model file to store with the version.") var file: String?
        @Option(help: "A logical artifact path of --run holding the model file.") var artifact: String?
        @Option(help: "The input signature: JSON text or @FILE.") var signature: String?
        @Option(help: "What changed in this version.") var description = ""
        @Option(help: "Also point this alias at the new version.") var alias: String?
        @Option(help: "Why (recorded with the alias move).") var reason = ""

        func validate() throws {
            if file != nil && artifact != nil { throw ValidationError("give --file or --artifact, not both") }
            if artifact != nil && run == nil { throw ValidationError("--artifact needs --run: the run that logged it") }
            if let alias { try validateAlias(alias) }
        }

        func run() async throws {
            let runID = try run.map(parseRunID)
            let sig = try signature.map(Self.parseSignature)
            let source: ModelRegistry.ModelSource =
                if let file { .file(URL(fileURLWithPath: file)) } else if let artifact { .runArtifact(artifact) } else { .none }
            let ws = try global.open()
            let who = Attribution(actor: GlobalOptions.actor(), reason: reason)
            let v = try await ws.registry.createVersion(
                model: name, run: runID, source: source, signature: sig, description: description, by: who)
            if let alias { try await ws.registry.setAlias(alias, model: name, version: v.version, by: who) }
            Output.line(String(v.version))
        }

        static func parseSignature(_ text: String) throws -> JSONValue {
            var data = Data(text.utf8)
            if text.hasPrefix("@") {
                guard let d = FileManager.default.contents(atPath: String(text.dropFirst())) else {
                    throw ValidationError("--signature '\(text)': no such file")
                }
                data = d
            }
            do { return try JSONDecoder().decode(JSONValue.self, from: data) } catch {
                throw ValidationError("--signature is not valid JSON: \(error.localizedDescription)")
            }
        }
    }
}
