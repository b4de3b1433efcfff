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
        BatchMemory.prepare()
        let bundle = try await loadBundle()
        let inURL = try DataFile.url(input)
        let meter = ProgressLine(label: "predicting")
        let summary = try BatchPrediction.run(
            bundle, input: inURL, inputIsJSONLines: DataFile.isJSONLines(input), output: URL(fileURLWithPath: output),
            outputIsJSONLines: DataFile.isJSONLines(output)) { meter.update("\($0) rows") }
        meter.finish()
        let rows = summary.rows, unseen = summary.unseen
        Output.note("predicted \(rows) rows into \(output)")
        for (c, n) in unseen.sorted(by: { $0.key < $1.key }) { Output.note("  \(n) values of '\(c)' were categories unseen in training (encoded as missing)") }
    }

    func loadBundle() async throws -> ModelBundle { try await ModelFile.bundle(model, global: global) }

}

/// Opens a model bundle named on the command line: a path to a `.fwm` file, or a registered
/// version as NAME@ALIAS, NAME/VERSION or models:/….
enum ModelFile {
    static func bundle(_ model: String, global: GlobalOptions) async throws -> ModelBundle {
        // A path that exists is a bundle file; otherwise a registry reference.
        if model.hasPrefix("models:/") || (!FileManager.default.fileExists(atPath: model) && (try? ModelURI(parsing: model)) != nil) {
            let ws = try global.open()
            let v = try await ws.registry.resolve(model)
            guard let d = v.digest else { throw FlywheelError.notFound("\(model) has no model file") }
            return try ModelBundle.decode(try await ws.blobs.data(d), source: model)
        }
        return try ModelBundle.load(contentsOf: URL(fileURLWithPath: model))
    }
}
