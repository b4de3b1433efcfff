import ArgumentParser
import FlywheelCore
import FlywheelData
import FlywheelYAML
import Foundation

struct LabelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels", abstract: "Choose logged predictions for people to label.", subcommands: [Sample.self])

    struct Sample: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sample", 
            abstract: "Draw a sample of logged predictions, stratified by the predicted class, into a CSV to label.",
            discussion: prose("""
                Labels cost money: this spends them where they tell the most. Predictions without
                a label yet are grouped by the class the model predicted (or, for a regressor, by
                the decile of the predicted value); each group gets a share of --n proportional
                to its size but at least one row when it has any, so rare predictions are not
                missed. The CSV has request_id, index, the features, the prediction and an empty
                label column: fill it in and bring it back with 'flywheel feedback import'.
                The draw is seeded (--seed), so the same log gives the same sample.
                """))
        @OptionGroup var global: GlobalOptions
        @Option(help: "The deployment whose predictions to sample.") var deployment: String
        @Option(help: "How far back, e.g. 24h or 7d.") var since = "7d"
        @Option(name: .customShort("n"), help: "How many rows to draw.") var n = 500
        @Option(help: "Where to write the CSV.") var out: String
        @Option(help: "The random seed.") var seed: UInt64 = 42
        @Flag(name: .customLong("include-labelled"), help: "Also draw predictions that already have feedback.") var includeLabelled = false

        func validate() throws {
            guard let s = DurationText.seconds(since), s <= 1e10 else { throw ValidationError("--since '\(since)' is not a duration like 24h or 7d") }
            guard n > 0 else { throw ValidationError("-n must be positive") }
        }

        func run() async throws {
            let ws = try global.open()
            let seconds = DurationText.seconds(since) ?? 0
            let from = Timestamp(millisecondsSince1970: SystemWallClock().now().millisecondsSince1970 - Int64(seconds * 1000))
            let rows = try await ws.store.predictions(PredictionQuery(deployment: deployment, since: from, limit: 5_000_000))
                .filter { includeLabelled || $0.feedback == nil }
            guard !rows.isEmpty else {
                throw FlywheelError.notFound("no \(includeLabelled ? "" : "unlabelled ")predictions of '\(deployment)' logged since \(Output.time(from))")
            }
            let strata = Self.strata(rows)
            var g = SeededRandom(seed: seed)
            let picked = Self.allocate(strata.mapValues(\.count), total: min(n, rows.count)).sorted { $0.key < $1.key }.flatMap { key, k in
                var members = strata[key] ?? []
                // A partial Fisher–Yates shuffle: the first k are a uniform draw.
                for i in 0..<min(k, members.count) {
                    let j = i + Int(g.next() % UInt64(members.count - i))
                    members.swapAt(i, j)
                }
                return members.prefix(k)
            }
            let features = Array(Set(picked.flatMap(\.features.keys))).sorted()
            var csv = CSVWriter.line(["request_id", "index", "time"] + features + ["prediction", "label"])
            for r in picked.sorted(by: { ($0.time, $0.requestID, $0.index) < ($1.time, $1.requestID, $1.index) }) {
                csv += CSVWriter.line([r.requestID, String(r.index), r.time.description] + features.map { r.features[$0].map(LogsCommand.Predictions.text) ?? "" }
                    + [Self.prediction(r), ""])
            }
            do { try Data(csv.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw FlywheelError.invalidArgument("cannot write '\(out)': \(error.localizedDescription)")
            }
            Output.line("wrote \(picked.count) of \(rows.count) predictions to \(out): "
                + Self.allocate(strata.mapValues(\.count), total: min(n, rows.count)).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }

        static func prediction(_ r: PredictionRecord) -> String {
            r.output["label"].map(LogsCommand.Predictions.text) ?? r.output["value"].map(LogsCommand.Predictions.text) ?? ""
        }

        /// Groups by predicted class; a regressor's values by decile of the predicted value.
        static func strata(_ rows: [PredictionRecord]) -> [String: [PredictionRecord]] {
            if rows.contains(where: { $0.output["label"] != nil }) { return Dictionary(grouping: rows, by: prediction) }
            let values = rows.map { r -> Double in if case .number(let d)? = r.output["value"] { d } else { .nan } }.filter(\.isFinite).sorted()
            guard !values.isEmpty else { return ["all": rows] }
            let edges = (1...9).map { values[min(values.count - 1, values.count * $0 / 10)] }
            return Dictionary(grouping: rows) { r in
                guard case .number(let d)? = r.output["value"] else { return "none" }
                return "decile \(edges.filter { d >= $0 }.count + 1)"
            }
        }

        /// Proportional allocation of `total` over strata by size (largest remainders), each
        /// non-empty stratum at least one, none more than it holds.
        static func allocate(_ sizes: [String: Int], total: Int) -> [String: Int] {
            let all = sizes.values.reduce(0, +)
            guard all > 0 else { return [:] }
            var out: [String: Int] = [:]
            var remainders: [(String, Double)] = []
            for (k, s) in sizes {
                let exact = Double(total) * Double(s) / Double(all)
                out[k] = min(s, max(1, Int(exact)))
                remainders.append((k, exact - Double(Int(exact))))
            }
            var left = total - out.values.reduce(0, +)
            for (k, _) in remainders.sorted(by: { ($0.1, $1.0) > ($1.1, $0.0) }) where left > 0 {
                if let c = out[k], let s = sizes[k], c < s {
                    out[k] = c + 1
                    left -= 1
                }
            }
            // The minimum of one per stratum can overshoot a small total: trim the largest.
            while left < 0, let (k, c) = out.max(by: { $0.value < $1.value }), c > 1 {
                out[k] = c - 1
                left += 1
            }
            return out
        }
    }
}
