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

    /// The ensemble's trees laid out for prediction: derived, rebuilt by `fit` and decoding, never encoded or compared.
    private var packed = PackedForest()

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
        packed = PackedForest(boosted: ensemble)
    }

    /// One prediction per input row.
    public func predict(_ x: Matrix) -> [Double] {
        precondition(x.columns == ensemble.featureCount, "the model was fit on \(ensemble.featureCount) features, got \(x.columns)")
        guard let baseline = ensemble.baseline.first else { return [Double](repeating: 0, count: x.rows) }
        // Each tree walks a block of rows, 8 at a time, while it is in cache; sums in iteration order, as `predict(row:)`.
        return predictBlocks(x.rows, width: 1, threads: threadCount, block: packed.blockRows) { block, out in
            for r in block { out[r] = baseline }
            x.values.withUnsafeBufferPointer { xs in packed.accumulate(rows: block, of: xs, columns: x.columns, into: out + block.lowerBound) }
        }
    }

    /// The prediction for one row, without allocating.
    public func predict(row: ArraySlice<Double>) -> Double {
        guard var value = ensemble.baseline.first else { return 0 }
        row.withUnsafeBufferPointer { packed.accumulate(row: $0, into: &value) }
        return value
    }
}

extension HistGradientBoostingRegressor {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hyperparameters = try c.decode(HistGradientBoostingHyperparameters.self, forKey: .hyperparameters)
        ensemble = try c.decode(GradientBoostingEnsemble.self, forKey: .ensemble)
        threadCount = nil
        guard ensemble.baseline.count <= 1, ensemble.isRectangular else {
            throw DecodingError.dataCorruptedError(forKey: .ensemble, in: c, debugDescription: "a regression ensemble answers one value")
        }
        packed = PackedForest(boosted: ensemble)
    }
}
