import FlywheelCore
import FlywheelData
import Foundation

/// Predicts a whole file with a bundle, streaming the input in chunks so its size is not bounded
/// by memory, and writes the input's columns plus `prediction` (and `proba_<class>` for a
/// classifier) to a temporary file that replaces `output` only when complete.
///
/// `flywheel predict` and the pipeline component batch/predict both use this.
public enum BatchPrediction {
    public struct Summary: Sendable {
        public var rows: Int
        /// Per column, how many values were categories unseen in training (encoded as missing).
        public var unseen: [String: Int]
    }

    /// Whether a path names a JSON Lines file (by its extension).
    public static func isJSONLines(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return ext == "jsonl" || ext == "ndjson"
    }

    public static func run(
        _ bundle: ModelBundle, input: URL, inputIsJSONLines: Bool, output: URL, outputIsJSONLines: Bool,
        progress: (Int) -> Void = { _ in }
    ) throws -> Summary {
        let predictor = Predictor(bundle: bundle)
        let tmp = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let handle = try? FileHandle(forWritingTo: tmp) else {
            throw FlywheelError.invalidArgument("cannot write '\(output.path)'")
        }
        var summary = Summary(rows: 0, unseen: [:])
        do {
            func write(_ chunk: Table, header: Bool) throws {
                let (preds, u) = try predictor.predict(table: chunk)
                summary.unseen.merge(u) { $0 + $1 }
                var columns = chunk.columns
                if let classes = bundle.classes {
                    columns.append(.categorical("prediction", preds.map(\.label)))
                    for c in classes { columns.append(.numeric("proba_\(c)", preds.map { $0.probabilities?[c] ?? .nan })) }
                } else {
                    columns.append(.numeric("prediction", preds.map { $0.value ?? .nan }))
                }
                let t = try Table(columns: columns)
                var data = outputIsJSONLines ? try JSONLines.data(t) : CSVWriter.data(t)
                if !outputIsJSONLines, !header, let nl = data.firstIndex(of: UInt8(ascii: "\n")) { data = data[(nl + 1)...] }
                try handle.write(contentsOf: data)
                summary.rows += chunk.rowCount
                progress(summary.rows)
            }
            if inputIsJSONLines {
                try write(try JSONLines.read(contentsOf: input), header: true)
            } else {
                try CSVReader().forEachChunk(contentsOf: input) { chunk, first in try write(chunk, header: first == 0) }
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        guard rename(tmp.path, output.path) == 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw FlywheelError.invalidArgument("cannot write '\(output.path)'")
        }
        return summary
    }
}
