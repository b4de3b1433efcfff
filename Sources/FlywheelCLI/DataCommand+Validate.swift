import ArgumentParser
import FlywheelCore
import FlywheelData
import Foundation

extension DataCommand {
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", 
            abstract: "Check a dataset against a schema; list every anomaly with counts and examples.",
            discussion: "Exits 0 when the data fits the schema, 1 when it has anomalies.")
        @OptionGroup var output: OutputOptions
        @Argument(help: "A CSV or JSON Lines file.") var file: String
        @Option(help: "The schema (YAML or JSON), e.g. from 'flywheel data infer-schema'.") var schema: String

        func run() async throws {
            BatchMemory.prepare()
            let s = try SchemaFile.load(schema)
            let declared = Dictionary(uniqueKeysWithValues: s.columns.filter { $0.type == .categorical }.map { ($0.name, ColumnType.categorical) })
            let url = try DataFile.url(file)
            // Columns the schema calls categorical are read as text, so "007" stays "007".
            let table = DataFile.isJSONLines(file) ? try JSONLines.read(contentsOf: url) : try CSVReader(types: declared).readLenient(contentsOf: url)
            let report = s.validate(table)
            if output.json {
                try Output.json(report)
            } else if report.isValid {
                Output.line("\(file): \(report.rows) rows fit the schema")
            } else {
                Output.line("\(file): \(report.anomalies.count) anomal\(report.anomalies.count == 1 ? "y" : "ies") in \(report.rows) rows")
                Output.table(["COLUMN", "ANOMALY", "ROWS", "SHARE", "EXAMPLES"], report.anomalies.map { a in
                    [a.column, a.kind.rawValue, a.count == 0 ? "-" : String(a.count),
                     a.count == 0 ? "-" : String(format: "%.1f%%", a.fraction * 100), a.examples.joined(separator: ", ")]
                })
                for a in report.anomalies { Output.note("  \(a.message)") }
            }
            if !report.isValid { throw ExitCode(1) }
        }
    }
}
