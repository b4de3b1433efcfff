import FlywheelCore
import Foundation

/// Histogram gradient-boosted trees for classification (scikit-learn's `HistGradientBoostingClassifier`).
///
/// Two classes boost one tree per iteration on the binary log-loss, starting from the log-odds
/// prior; more classes boost one tree per class per iteration on the softmax loss, starting from
/// the class log-priors. Features are binned once into at most 255 quantile bins plus a missing bin.
///
/// ```swift
/// var model = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 200))
/// try model.fit(x, y, classCount: 3)
/// let p = model.predictProbabilities(x)
/// ```
public struct HistGradientBoostingClassifier: Classifier, Hashable {
    /// The settings the model was (or will be) fit with.
    public var hyperparameters: HistGradientBoostingHyperparameters
    /// Threads that build histograms in `fit` and share batch prediction; `nil` uses every core. Never changes the fitted
    /// model, so it is not encoded.
    public var threadCount: Int?
    /// The fitted trees; empty before `fit`.
    public private(set) var ensemble: GradientBoostingEnsemble

    private enum CodingKeys: String, CodingKey { case hyperparameters, ensemble, classCount }
    /// Classes seen by `fit`.
    public private(set) var classCount: Int
    /// The ensemble's trees laid out for prediction: derived, rebuilt by `fit` and decoding, never encoded or compared.
    private var packed = PackedForest()

    /// An unfitted model with these settings; call `fit` before predicting.
    public init(_ hyperparameters: HistGradientBoostingHyperparameters = .init(), threadCount: Int? = nil) {
        self.hyperparameters = hyperparameters
        self.threadCount = threadCount
        ensemble = GradientBoostingEnsemble(baseline: [], trees: [], featureCount: 0)
        classCount = 0
    }

    /// Fits the model: blocking CPU work, call it off the cooperative pool.
    public mutating func fit(_ x: Matrix, _ y: [Int], classCount: Int) throws {
        try hyperparameters.validate()
        try checkClassificationInput(x, y, classCount: classCount)
        self.classCount = classCount
        if classCount == 1 {
            ensemble = GradientBoostingEnsemble(baseline: [0], trees: [], featureCount: x.columns)
            return
        }
        let loss: BoostingLoss = classCount == 2 ? .binaryLogLoss : .softmax(classes: classCount)
        ensemble = .fit(x, y.map(Double.init), loss: loss, strata: y, params: hyperparameters, threads: threadCount)
        packed = PackedForest(boosted: ensemble)
    }

    /// Class probabilities: one row per input row, one column per class, each row summing to 1.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(x.columns == ensemble.featureCount, "the model was fit on \(ensemble.featureCount) features, got \(x.columns)")
        let k = classCount, m = ensemble.baseline.count
        guard k > 1 else { return Matrix(rows: x.rows, columns: k, repeating: 1) }
        // Each tree walks a block of rows, 8 at a time, while it is in cache; raw scores sum in
        // iteration order from the baseline, as in `predictProbabilities(row:into:)`.
        let values = predictBlocks(x.rows, width: k, threads: threadCount, block: packed.blockRows) { block, out in
            let raw = UnsafeMutablePointer<Double>.allocate(capacity: block.count * m)
            defer { raw.deallocate() }
            for i in 0..<block.count { for j in 0..<m { raw[i * m + j] = ensemble.baseline[j] } }
            x.values.withUnsafeBufferPointer { xs in packed.accumulate(rows: block, of: xs, columns: x.columns, into: raw) }
            for (i, r) in block.enumerated() { Self.probabilities(raw: raw + i * m, classCount: k, into: out + r * k) }
        }
        return Matrix(rows: x.rows, columns: k, values: values)
    }

    /// Writes one row's class probabilities into `out` (`classCount` values) without allocating.
    public func predictProbabilities(row: ArraySlice<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(out.count >= classCount, "the output holds \(out.count) values, the model answers \(classCount)")
        guard let o = out.baseAddress, classCount > 0 else { return }
        if classCount == 1 { o[0] = 1; return }
        let m = ensemble.baseline.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: m) { raw in
            // invariant: m >= 1 for a fitted model of 2 or more classes, so the buffer has storage.
            let r = raw.baseAddress!
            for j in 0..<m { r[j] = ensemble.baseline[j] }
            row.withUnsafeBufferPointer { packed.accumulate(row: $0, into: r) }
            Self.probabilities(raw: r, classCount: classCount, into: o)
        }
    }

    /// Class probabilities from raw scores: the sigmoid of one score for 2 classes, else the softmax.
    private static func probabilities(raw: UnsafePointer<Double>, classCount: Int, into out: UnsafeMutablePointer<Double>) {
        if classCount == 2 {
            let p = 1 / (1 + Foundation.exp(-raw[0]))
            out[0] = 1 - p
            out[1] = p
            return
        }
        var top = -Double.infinity
        for k in 0..<classCount { out[k] = raw[k]; top = max(top, out[k]) }
        var sum = 0.0
        for k in 0..<classCount { out[k] = Foundation.exp(out[k] - top); sum += out[k] }
        for k in 0..<classCount { out[k] /= sum }
    }
}

extension HistGradientBoostingClassifier {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hyperparameters = try c.decode(HistGradientBoostingHyperparameters.self, forKey: .hyperparameters)
        ensemble = try c.decode(GradientBoostingEnsemble.self, forKey: .ensemble)
        classCount = try c.decode(Int.self, forKey: .classCount)
        threadCount = nil
        let outputs = classCount > 2 ? classCount : 1
        guard classCount <= 1 || ensemble.baseline.count == outputs, ensemble.isRectangular else {
            throw DecodingError.dataCorruptedError(forKey: .ensemble, in: c, debugDescription: "the ensemble does not answer \(classCount) classes")
        }
        packed = PackedForest(boosted: ensemble)
    }
}
