import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import Foundation

struct ComponentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "components",
        abstract: "The built-in components a pipeline step can 'uses:'.",
        subcommands: [List.self, Show.self])

    struct Entry: Encodable {
        var name: String
        var version: String
        var summary: String
        var inputs: [PortSpec]
        var outputs: [PortSpec]
        init(_ c: any Component) {
            name = c.name
            version = c.version
            summary = c.summary
            inputs = c.inputs
            outputs = c.outputs
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the components.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let all = ComponentCatalog.builtIn.names.compactMap { ComponentCatalog.builtIn[$0] }
            if output.json { return try Output.json(all.map(Entry.init)) }
            Output.table(["COMPONENT", "INPUTS", "OUTPUTS", "SUMMARY"], all.map { c in
                [c.name, c.inputs.map(\.name).joined(separator: ","), c.outputs.map(\.name).joined(separator: ","),
                 String(c.summary.prefix(70)) + (c.summary.count > 70 ? "…" : "")]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a component's inputs and outputs.")
        @Argument(help: "The component, e.g. learn/train.") var name: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard let c = ComponentCatalog.builtIn[name] else {
                throw FlywheelError.notFound(
                    "no component '\(name)'; the components are \(ComponentCatalog.builtIn.names.joined(separator: ", "))")
            }
            if output.json { return try Output.json(Entry(c)) }
            Output.line("\(c.name) (version \(c.version))")
            Output.line(c.summary)
            Output.line()
            Output.line("inputs:")
            Output.table(["  NAME", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"], c.inputs.map { p in
                ["  " + p.name, p.type.rawValue, p.required ? "yes" : "no", p.defaultValue.map(Self.text) ?? "", p.summary]
            })
            Output.line()
            Output.line("outputs:")
            Output.table(["  NAME", "TYPE", "DESCRIPTION"], c.outputs.map { ["  " + $0.name, $0.type.rawValue, $0.summary] })
        }

        static func text(_ v: JSONValue) -> String {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? String(decoding: enc.encode(v), as: UTF8.self)) ?? ""
        }
    }
}
