import ArgumentParser
import FlywheelCore
import FlywheelData
import FlywheelPipelines
import Foundation
import Yams

extension DataCommand {
    struct InferSchema: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "infer-schema",
            abstract: "Write the schema a dataset has (types, ranges, nullability, categories) as YAML.",
            discussion: "Edit the result to loosen or tighten it, then check new data with 'flywheel data validate'.")
        @OptionGroup var output: OutputOptions
        @Argument(help: "A CSV or JSON Lines file.") var file: String
        @Option(name: [.short, .long], help: "Write the schema here instead of standard output.") var out: String?
        @Option(name: .customLong("max-categories"), help: "List the categories of columns with at most this many.")
        var maxCategories = 100

        func run() async throws {
            BatchMemory.prepare()
            let schema = Schema.infer(from: try DataFile.read(file), maxCategories: maxCategories)
            if output.json, out == nil { return try Output.json(schema) }
            let text = try SchemaFile.yaml(schema)
            if let out {
                try text.write(toFile: out, atomically: true, encoding: .utf8)
                Output.note("wrote the schema of \(schema.columns.count) columns to \(out)")
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

/// Schema files: YAML (or JSON, which is YAML too).
enum SchemaFile {
    /// Writes YAML by hand so numbers keep their shortest exact form (4.3, not 4.3e+0); strings
    /// are JSON-quoted, which YAML reads as double-quoted scalars.
    static func yaml(_ schema: Schema) throws -> String {
        func q(_ s: String) throws -> String { String(decoding: try JSONEncoder().encode(s), as: UTF8.self) }
        var out = "# Flywheel schema: types, ranges, nullability, allowed categories.\ncolumns:\n"
        for c in schema.columns {
            out += "  - name: \(try q(c.name))\n    type: \(c.type.rawValue)\n    nullable: \(c.nullable)\n"
            if let f = c.maxMissingFraction { out += "    max_missing_fraction: \(NumberFormatting.shortest(f))\n" }
            if let m = c.min { out += "    min: \(NumberFormatting.shortest(m))\n" }
            if let m = c.max { out += "    max: \(NumberFormatting.shortest(m))\n" }
            if let cats = c.categories { out += "    categories: [\(try cats.map(q).joined(separator: ", "))]\n" }
        }
        return out
    }

    static func load(_ path: String) throws -> Schema {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FlywheelError.notFound("cannot read schema '\(path)': no such file or not readable")
        }
        return try SchemaYAML.parse(text, name: path)
    }
}
