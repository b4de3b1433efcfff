import FlywheelCore
import FlywheelData
import FlywheelMonitoring
import Foundation

/// The labelled part of a deployment's prediction log as a training table: the logged features
/// (typed as the monitors type them) and the feedback label under the target's name.
enum LabelledExport {
    static func table(_ records: [PredictionRecord], target: String) throws -> Table {
        let labelled = records.filter { $0.feedback != nil && $0.feedback != .null }
        let window = PredictionWindow(labelled)
        let features = window.featureNames.filter { $0 != target }
        let labels = labelled.map { r -> String? in
            switch r.feedback {
            case .string(let s)?: s
            case .number(let d)?: NumberFormatting.shortest(d)
            case .bool(let b)?: b ? "true" : "false"
            default: nil
            }
        }
        return try Table(columns: try window.features(features).columns + [.categorical(target, labels)])
    }

    /// Writes the table; returns its row count. No labelled record is an error naming the deployment.
    @discardableResult
    static func write(store: any MetadataStore, deployment: String, since: Timestamp, target: String, to url: URL) async throws -> Int {
        let records = try await store.predictions(PredictionQuery(deployment: deployment, since: since, limit: 1_000_000))
        let t = try table(records, target: target)
        guard t.rowCount > 0 else {
            throw FlywheelError.notFound("no logged prediction of '\(deployment)' since \(since) has a feedback label ('flywheel feedback import' adds them)")
        }
        try CSVWriter.write(t, to: url)
        return t.rowCount
    }
}
