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
    }

    /// Class probabilities: one row per input row, one column per class, each row summing to 1.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(x.columns == ensemble.featureCount, "the model was fit on \(ensemble.featureCount) features, got \(x.columns)")
        let values = predictRows(x.rows, width: classCount, threads: threadCount) { r, out in
            predictProbabilities(row: x.row(r), into: out)
        }
        return Matrix(rows: x.rows, columns: classCount, values: values)
    }

    /// Writes one row's class probabilities into `out` (`classCount` values) without allocating.
    public func predictProbabilities(row: ArraySlice<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        if classCount == 1 { out[0] = 1; return }
        row.withUnsafeBufferPointer { rowBuffer in
            if classCount == 2 {
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 1) { raw in
                    ensemble.raw(row: rowBuffer, into: raw)
                    let p = 1 / (1 + Foundation.exp(-raw[0]))
                    out[0] = 1 - p
                    out[1] = p
                }
            } else {
                ensemble.raw(row: rowBuffer, into: out)
                var top = -Double.infinity
                for k in 0..<classCount { top = max(top, out[k]) }
                var sum = 0.0
                for k in 0..<classCount { out[k] = Foundation.exp(out[k] - top); sum += out[k] }
                for k in 0..<classCount { out[k] /= sum }
            }
        }
    }
}
