import FlywheelCore

/// Histogram gradient-boosted trees for regression on squared error, starting from the mean
/// target (scikit-learn's `HistGradientBoostingRegressor`).
///
/// ```swift
/// var model = HistGradientBoostingRegressor()
/// try model.fit(x, y)
/// let values = model.predict(x)
/// ```
public struct HistGradientBoostingRegressor: Regressor, Hashable {
    /// The settings the model was (or will be) fit with.
    public var hyperparameters: HistGradientBoostingHyperparameters
    /// Threads that build histograms in `fit` and share batch prediction; `nil` uses every core. Never changes the fitted
    /// model, so it is not encoded.
    public var threadCount: Int?
    /// The fitted trees; empty before `fit`.
    public private(set) var ensemble: GradientBoostingEnsemble

    private enum CodingKeys: String, CodingKey { case hyperparameters, ensemble }

    /// An unfitted model with these settings; call `fit` before predicting.
    public init(_ hyperparameters: HistGradientBoostingHyperparameters = .init(), threadCount: Int? = nil) {
        self.hyperparameters = hyperparameters
        self.threadCount = threadCount
        ensemble = GradientBoostingEnsemble(baseline: [], trees: [], featureCount: 0)
    }

    /// Fits the model: blocking CPU work, call it off the cooperative pool.
    public mutating func fit(_ x: Matrix, _ y: [Double]) throws {
        try hyperparameters.validate()
        try checkRegressionInput(x, y)
        ensemble = .fit(x, y, loss: .squaredError, strata: nil, params: hyperparameters, threads: threadCount)
    }

    /// One prediction per input row.
    public func predict(_ x: Matrix) -> [Double] {
        precondition(x.columns == ensemble.featureCount, "the model was fit on \(ensemble.featureCount) features, got \(x.columns)")
        return predictRows(x.rows, width: 1, threads: threadCount) { r, out in out[0] = predict(row: x.row(r)) }
    }

    /// The prediction for one row, without allocating.
    public func predict(row: ArraySlice<Double>) -> Double {
        guard !ensemble.baseline.isEmpty else { return 0 }
        return row.withUnsafeBufferPointer { rowBuffer in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 1) { value in
                ensemble.raw(row: rowBuffer, into: value)
                return value[0]
            }
        }
    }
}
