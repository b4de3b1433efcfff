import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "log", 
            abstract: "Log metrics, params and tags to a run, all in one transaction.",
            discussion: prose("""
                --batch FILE (or - for standard input) reads JSON Lines, one record a line:
                  {"metric": "loss", "value": 0.31, "step": 3}        (timestamp optional, ms)
                  {"param": "lr", "value": "0.1"}
                  {"tag": "note", "value": "baseline"}
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's ID.") var runID: String
        @Option(name: .customLong("metric"), help: ArgumentHelp("A metric KEY=NUMBER (repeatable).", valueName: "key=value"))
        var metrics: [String] = []
        @Option(help: "The step of the --metric values.") var step: Int64 = 0
        @Option(name: .customLong("param"), help: ArgumentHelp("A param KEY=VALUE (repeatable; write-once).", valueName: "key=value"))
        var params: [String] = []
        @Option(name: .customLong("tag"), help: ArgumentHelp("A tag KEY=VALUE (repeatable).", valueName: "key=value"))
        var tags: [String] = []
        @Option(help: ArgumentHelp("A JSON Lines file of records, or - for standard input.", valueName: "file"))
        var batch: String?

        func validate() throws {
            if metrics.isEmpty && params.isEmpty && tags.isEmpty && batch == nil {
                throw ValidationError("nothing to log: give --metric, --param, --tag or --batch")
            }
        }

        func run() async throws {
            let id = try parseRunID(runID)
            let now = Timestamp(Date())
            var ms: [Metric] = try parsePairs(metrics, flag: "--metric").map { k, v in
                guard let d = Double(v) else {
                    throw ValidationError("--metric '\(k)=\(v)' is not valid: '\(v)' is not a number")
                }
                return Metric(key: k, value: d, step: step, timestamp: now)
            }
            var ps = try parseDictionary(params, flag: "--param").map { Param(key: $0.key, value: $0.value) }
            var ts = try parseDictionary(tags, flag: "--tag").map { Tag(key: $0.key, value: $0.value) }
            if let batch {
                let records = try BatchFile.read(batch, now: now)
                ms += records.metrics
                ps += records.params
                ts += records.tags
            }
            let ws = try global.open()
            try await ws.tracking.logBatch(id, metrics: ms, params: ps, tags: ts)
        }
    }
}
