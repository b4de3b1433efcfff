import ArgumentParser
import FlywheelCore
import FlywheelData
import Foundation

extension DataCommand {
    struct Profile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "profile", 
            abstract: "Per-column statistics: counts, missing, mean, std, quantiles, top categories.",
            discussion: "CSV files stream through in chunks, so a file larger than memory can be profiled.")
        @OptionGroup var output: OutputOptions
        @Argument(help: "A CSV or JSON Lines file.") var file: String

        func run() async throws {
            BatchMemory.prepare()
            let url = try DataFile.url(file)
            let started = Date()
            let profile = DataFile.isJSONLines(file)
                ? FlywheelData.Profile(of: try JSONLines.read(contentsOf: url)) : try CSVReader().profile(contentsOf: url)
            if output.json { return try Output.json(profile) }
            Output.line("\(file): \(profile.rows) rows, \(profile.columns.count) columns (\(String(format: "%.2f", Date().timeIntervalSince(started)))s)")
            Output.table(["COLUMN", "TYPE", "COUNT", "MISSING", "MEAN", "STD", "MIN", "MEDIAN", "MAX", "TOP"], profile.columns.map { c in
                let n = c.numeric
                let top = (c.frequencies ?? [:]).sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
                    .map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
                return [c.name, c.type.rawValue, String(c.count), String(c.missing),
                        n.map { Output.number($0.mean) } ?? "", n.map { Output.number($0.std) } ?? "",
                        n.map { Output.number($0.min) } ?? "", n.map { Output.number($0.quantiles["p50"] ?? .nan) } ?? "",
                        n.map { Output.number($0.max) } ?? "", top]
            })
        }
    }
}
