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
    /// Whether the preprocessor reads exactly the signature's fields (as `Trainer` makes bundles):
    /// then a record that passes preprocessing with as many fields as the signature has no stray one.
    private let inputsAreSignature: Bool

    public init(bundle: ModelBundle) {
        self.bundle = bundle
        allowed = Set(bundle.signature.map(\.name))
        inputsAreSignature = Set(bundle.preprocessor.inputs.map(\.name)) == allowed
    }

    /// Predicts each record; a record that breaks the signature (a missing or extra field, a wrong
    /// type, a non-finite number) is an error naming the record index and the field.
    public func predict(records: [[String: FeatureValue]]) throws -> [Prediction] {
        answers(try features(records))
    }

    /// Like `predict(records:)`, but gives up once `deadline` has passed: every record is checked
    /// and preprocessed first (a bad record is still the error, however late), then the rows are
    /// predicted `chunk` at a time, with the clock read before each chunk. Nil when the deadline
    /// passed first; the overshoot is at most one chunk's prediction.
    public func predict(records: [[String: FeatureValue]], until deadline: ContinuousClock.Instant, chunk: Int = 1024) throws -> [Prediction]? {
        let x = try features(records)
        let chunk = max(chunk, 1)
        var out: [Prediction] = []
        out.reserveCapacity(x.rows)
        var start = 0
        while start < x.rows {
            if ContinuousClock.now > deadline { return nil }
            let end = min(x.rows, start + chunk)
            out += answers(start == 0 && end == x.rows ? x : x.selecting(rows: Array(start..<end)))
            start = end
        }
        return out
    }

    /// Checks each record against the signature and preprocesses it into a row of the feature matrix.
    private func features(_ records: [[String: FeatureValue]]) throws -> Matrix {
        let width = bundle.preprocessor.width
        var values = [Double](repeating: 0, count: records.count * width)
        var row = [Double](repeating: 0, count: width)
        for (i, r) in records.enumerated() {
            // A record with as many fields as the inputs (plus the target, if given) needs no look-up
            // per field: preprocessing then finds every input, so no field is left over. Any other
            // record is checked field by field first, so a stray field is always the error named.
            let exact = inputsAreSignature && r.count == allowed.count + (!allowed.contains(bundle.target) && r[bundle.target] != nil ? 1 : 0)
            if !exact { try checkFields(r, record: i) }
            do { try bundle.preprocessor.transform(record: r, into: &row) } catch let e as FlywheelError {
                // A missing input can hide a stray field among the counted ones; that one is named first.
                if exact { try checkFields(r, record: i) }
                throw FlywheelError(e.code, "record \(i): \(e.message)")
            }
            values.replaceSubrange((i * width)..<((i + 1) * width), with: row)
        }
        return Matrix(rows: records.count, columns: width, values: values)
    }

    /// Throws for the first field, in sorted order, that is neither an input nor the target.
    private func checkFields(_ r: [String: FeatureValue], record i: Int) throws {
        // Sorting names the same field every time; only a record with a stray field pays for it.
        guard r.keys.contains(where: { !allowed.contains($0) && $0 != bundle.target }),
              let extra = r.keys.sorted().first(where: { !allowed.contains($0) && $0 != bundle.target }) else { return }
        throw FlywheelError.invalidArgument(
            "record \(i): field '\(extra)' is not an input of this model (inputs: \(bundle.signature.map(\.name).joined(separator: ", ")))")
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
