import ArgumentParser
import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import Foundation

struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict a CSV or JSON Lines file with a model bundle or a registered model.",
        discussion: prose("""
            --model is a bundle file (model.fwm) or a registry reference (models:/iris@production,
            which needs a workspace). The input streams through in chunks, so its size is not
            bounded by memory. The output (CSV, or JSON Lines when it ends in .jsonl) holds the
            input's columns, then 'prediction' and, for classifiers, 'proba_<class>' columns.
            """))
    @OptionGroup var global: GlobalOptions
    @Option(help: "A model bundle file or models:/NAME@ALIAS / models:/NAME/VERSION.") var model: String
    @Option(help: "The rows to predict (CSV or JSON Lines).") var input: String
    @Option(help: "Where to write the predictions.") var output: String

    func run() async throws {
        let bundle = try await loadBundle()
        let predictor = Predictor(bundle: bundle)
        let inURL = try DataFile.url(input)
        let outURL = URL(fileURLWithPath: output)
        let tmp = outURL.deletingLastPathComponent().appendingPathComponent(".\(outURL.lastPathComponent).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let handle = try? FileHandle(forWritingTo: tmp) else {
            throw FlywheelError.invalidArgument("cannot write '\(output)'")
        }
        var rows = 0
        var unseen: [String: Int] = [:]
        let jsonOut = DataFile.isJSONLines(output)
        let meter = ProgressLine(label: "predicting")
        do {
            func write(_ chunk: Table, header: Bool) throws {
                let (preds, u) = try predictor.predict(table: chunk)
                unseen.merge(u) { $0 + $1 }
                var columns = chunk.columns
                if let classes = bundle.classes {
                    columns.append(.categorical("prediction", preds.map(\.label)))
                    for c in classes { columns.append(.numeric("proba_\(c)", preds.map { $0.probabilities?[c] ?? .nan })) }
                } else {
                    columns.append(.numeric("prediction", preds.map { $0.value ?? .nan }))
                }
                let t = try Table(columns: columns)
                var data = jsonOut ? try JSONLines.data(t) : CSVWriter.data(t)
                if !jsonOut, !header, let nl = data.firstIndex(of: UInt8(ascii: "\n")) { data = data[(nl + 1)...] }
                try handle.write(contentsOf: data)
                rows += chunk.rowCount
                meter.update("\(rows) rows")
            }
            if DataFile.isJSONLines(input) {
                try write(try JSONLines.read(contentsOf: inURL), header: true)
            } else {
                try CSVReader().forEachChunk(contentsOf: inURL) { chunk, first in try write(chunk, header: first == 0) }
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        meter.finish()
        guard rename(tmp.path, outURL.path) == 0 else { throw FlywheelError.invalidArgument("cannot write '\(output)'") }
        Output.note("predicted \(rows) rows into \(output)")
        for (c, n) in unseen.sorted(by: { $0.key < $1.key }) { Output.note("  \(n) values of '\(c)' were categories unseen in training (encoded as missing)") }
    }

    func loadBundle() async throws -> ModelBundle {
        if model.hasPrefix("models:/") {
            let ws = try global.open()
            let v = try await ws.registry.resolve(model)
            guard let d = v.digest else { throw FlywheelError.notFound("\(model) has no model file") }
            return try ModelBundle.decode(try await ws.blobs.data(d), source: model)
        }
        return try ModelBundle.load(contentsOf: URL(fileURLWithPath: model))
    }
}
