import FlywheelCore
import FlywheelData
import Foundation

/// One answer.
public struct Prediction: Hashable, Codable, Sendable {
    /// The predicted class (classification).
    public var label: String?
    /// Class → probability (classification).
    public var probabilities: [String: Double]?
    /// The predicted value (regression).
    public var value: Double?
}

/// Predicts from raw records or tables with exactly the preprocessing fitted at training time.
public struct Predictor: Sendable {
    public let bundle: ModelBundle
    private let allowed: Set<String>

    public init(bundle: ModelBundle) {
        self.bundle = bundle
        allowed = Set(bundle.signature.map(\.name))
    }

    /// Predicts each record; a record that breaks the signature (a missing or extra field, a wrong
    /// type, a non-finite number) is an error naming the record index and the field.
    public func predict(records: [[String: FeatureValue]]) throws -> [Prediction] {
        let width = bundle.preprocessor.width
        var values = [Double](repeating: 0, count: records.count * width)
        var row = [Double](repeating: 0, count: width)
        for (i, r) in records.enumerated() {
            // Sorting the keys names the same field every time; only a record with a stray field pays for it.
            if r.keys.contains(where: { !allowed.contains($0) && $0 != bundle.target }),
               let extra = r.keys.sorted().first(where: { !allowed.contains($0) && $0 != bundle.target }) {
                throw FlywheelError.invalidArgument(
                    "record \(i): field '\(extra)' is not an input of this model (inputs: \(bundle.signature.map(\.name).joined(separator: ", ")))")
            }
            do { try bundle.preprocessor.transform(record: r, into: &row) } catch let e as FlywheelError {
                throw FlywheelError(e.code, "record \(i): \(e.message)")
            }
            values.replaceSubrange((i * width)..<((i + 1) * width), with: row)
        }
        return answers(Matrix(rows: records.count, columns: width, values: values))
    }

    /// Predicts every row of a table holding the signature's columns (others are ignored).
    public func predict(table: Table) throws -> (predictions: [Prediction], unseen: [String: Int]) {
        let (m, unseen) = try bundle.preprocessor.transform(table)
        return (answers(m), unseen)
    }

    func answers(_ x: Matrix) -> [Prediction] {
        if let p = bundle.model.predictProbabilities(x), let classes = bundle.classes {
            return p.argmaxPerRow().enumerated().map { r, best in
                var probs: [String: Double] = [:]
                for (c, name) in classes.enumerated() where c < p.columns { probs[name] = p[r, c] }
                return Prediction(label: classes[best], probabilities: probs, value: nil)
            }
        }
        return (bundle.model.predictValues(x) ?? []).map { Prediction(label: nil, probabilities: nil, value: $0) }
    }
}
