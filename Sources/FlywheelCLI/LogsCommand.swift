import ArgumentParser
import FlywheelCore
import FlywheelData
import FlywheelYAML
import Foundation

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Read the prediction log.", subcommands: [Predictions.self, Labelled.self])

    struct Labelled: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "labelled", 
            abstract: "Write the logged predictions that have feedback as training data: their features and the label.",
            discussion: prose("""
                One row per labelled record of the deployment since --since: the features as the
                model saw them (numbers, categories), then the feedback label in a column named
                --target. It is what the next model trains on once the world has changed
                ('flywheel run pipeline.yaml -p data=FILE').
                """))
        @OptionGroup var global: GlobalOptions
        @Option(help: "The deployment.") var deployment: String
        @Option(help: "How far back, e.g. 30m, 1h, 7d.") var since = "7d"
        @Option(help: "The label column's name (the model's target).") var target: String
        @Option(help: "The CSV file to write.") var out: String

        func validate() throws {
            guard let s = DurationText.seconds(since), s <= 1e10 else { throw ValidationError("--since '\(since)' is not a duration like 30m, 1h or 7d") }
        }

        func run() async throws {
            let ws = try global.open()
            let from = Timestamp(millisecondsSince1970: SystemWallClock().now().millisecondsSince1970 - Int64((DurationText.seconds(since) ?? 0) * 1000))
            let n = try await LabelledExport.write(store: ws.store, deployment: deployment, since: from, target: target, to: URL(fileURLWithPath: out))
            Output.line("wrote \(n) labelled rows of \(deployment) to \(out)")
        }
    }

    struct Predictions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "predictions", 
            abstract: "Logged predictions (sampled by each deployment's log.sample_rate, PII redacted), with feedback labels joined.",
            discussion: prose("""
                One row per record answered: request ID, index within the request, time,
                version, the answer, latency and the feedback label once one arrived. --csv
                writes the features as columns, ready for 'flywheel drift' or a notebook.
                """))
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this deployment.") var deployment: String?
        @Option(help: "How far back, e.g. 30m, 1h, 7d.") var since = "24h"
        @Option(help: "At most this many rows (oldest first).") var limit = 10_000
        @Flag(help: "Print JSON Lines, one record per line.") var json = false
        @Flag(help: "Print CSV with one column per feature.") var csv = false

        func validate() throws {
            guard let s = DurationText.seconds(since), s <= 1e10 else { throw ValidationError("--since '\(since)' is not a duration like 30m, 1h or 7d") }
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
            if json && csv { throw ValidationError("choose one of --json and --csv") }
        }

        func run() async throws {
            let ws = try global.open()
            let seconds = DurationText.seconds(since) ?? 86400
            let from = Timestamp(millisecondsSince1970: SystemWallClock().now().millisecondsSince1970 - Int64(seconds * 1000))
            let rows = try await ws.store.predictions(PredictionQuery(deployment: deployment, since: from, limit: limit))
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                enc.keyEncodingStrategy = .convertToSnakeCase
                for r in rows { Output.line(String(decoding: try enc.encode(r), as: UTF8.self)) }
                return
            }
            if csv { return FileHandle.standardOutput.write(Data(Self.csv(rows).utf8)) }
            Output.table(["TIME", "REQUEST", "#", "DEPLOYMENT", "VERSION", "ANSWER", "LATENCY", "FEEDBACK"], rows.map { r in
                [Output.time(r.time), r.requestID, String(r.index), r.deployment, "\(r.model)/\(r.version)", Self.answer(r.output),
                 "\(r.latencyMicros) µs", r.feedback.map(Self.text) ?? ""]
            })
            Output.note("\(rows.count) prediction\(rows.count == 1 ? "" : "s") since \(Output.time(from))")
        }

        static func answer(_ v: JSONValue) -> String {
            if let l = v["label"] { return text(l) + (v["needs_review"] == .bool(true) ? " (review)" : "") }
            if let x = v["value"] { return text(x) }
            return text(v)
        }

        static func text(_ v: JSONValue) -> String {
            switch v {
            case .null: ""
            case .bool(let b): b ? "true" : "false"
            case .number(let d): Output.number(d)
            case .string(let s): s
            default: String(decoding: (try? JSONEncoder().encode(v)) ?? Data(), as: UTF8.self)
            }
        }

        /// request_id, index, time, deployment, model, version, each feature, prediction, confidence or value, feedback, latency_us.
        static func csv(_ rows: [PredictionRecord]) -> String {
            let features = Array(Set(rows.flatMap(\.features.keys))).sorted()
            var header = ["request_id", "index", "time", "deployment", "model", "version"] + features
            header += ["prediction", "confidence", "feedback", "latency_us"]
            var out = CSVWriter.line(header)
            for r in rows {
                var cells = [r.requestID, String(r.index), r.time.description, r.deployment, r.model, String(r.version)]
                cells += features.map { r.features[$0].map(text) ?? "" }
                let confidence: String = {
                    guard case .object(let p)? = r.output["probabilities"] else { return "" }
                    return p.values.compactMap { if case .number(let d) = $0 { d } else { nil } }.max().map(Output.number) ?? ""
                }()
                cells += [r.output["label"].map(text) ?? r.output["value"].map(text) ?? "", confidence, r.feedback.map(text) ?? "", String(r.latencyMicros)]
                out += CSVWriter.line(cells)
            }
            return out
        }
    }
}
