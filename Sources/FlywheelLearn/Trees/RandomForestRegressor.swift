import FlywheelCore

/// A random forest of CART regression trees (scikit-learn's `RandomForestRegressor`): the
/// prediction is the mean of the trees' leaf values. By default every feature is considered at
/// each split, as in scikit-learn, so the randomness comes from the bootstrap.
///
/// ```swift
/// var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 200))
/// try forest.fit(x, y)
/// let values = forest.predict(x)
/// ```
public struct RandomForestRegressor: Regressor, Hashable {
    /// The settings the forest was (or will be) fit with; `criterion` is ignored.
    public var hyperparameters: RandomForestHyperparameters
    /// Threads used by `fit` and batch prediction; `nil` uses every core. Never changes a result, so it is not encoded.
    public var threadCount: Int?
    /// The fitted trees; empty before `fit`.
    public private(set) var trees: [TreeNodes]
    /// Features seen by `fit`.
    public private(set) var featureCount: Int

    /// `trees` laid out for prediction: derived, rebuilt by `fit` and decoding, never encoded or compared.
    private var packed = PackedForest()

    private enum CodingKeys: String, CodingKey { case hyperparameters, trees, featureCount }

    /// An unfitted model with these settings; call `fit` before predicting.
    public init(_ hyperparameters: RandomForestHyperparameters = .init(), threadCount: Int? = nil) {
        self.hyperparameters = hyperparameters
        self.threadCount = threadCount
        trees = []
        featureCount = 0
    }

    /// Fits the forest. Blocking CPU work on Dispatch threads: call it off the cooperative pool.
    public mutating func fit(_ x: Matrix, _ y: [Double]) throws {
        try hyperparameters.validate()
        try checkRegressionInput(x, y)
        let data = CARTData(x, targets: y, classCount: 0)
        trees = fitForest(data: data, hyperparameters: hyperparameters, defaultMaxFeatures: .all, threads: threadCount)
        featureCount = x.columns
        packed = PackedForest(trees, outputCount: 1)
    }

    /// One prediction per input row.
    public func predict(_ x: Matrix) -> [Double] {
        precondition(x.columns == featureCount, "the forest was fit on \(featureCount) features, got \(x.columns)")
        // Each tree walks a block of rows, 8 at a time, while it is in cache; sums in tree order, as `predict(row:)`.
        let count = Double(max(trees.count, 1))
        return predictBlocks(x.rows, width: 1, threads: threadCount, block: packed.blockRows) { block, out in
            x.values.withUnsafeBufferPointer { xs in packed.accumulate(rows: block, of: xs, columns: x.columns, into: out + block.lowerBound) }
            for r in block { out[r] /= count }
        }
    }

    /// The prediction for one row, without allocating.
    public func predict(row: ArraySlice<Double>) -> Double {
        var sum = 0.0
        row.withUnsafeBufferPointer { packed.accumulate(row: $0, into: &sum) }
        return sum / Double(max(trees.count, 1))
    }
}

extension RandomForestRegressor {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hyperparameters = try c.decode(RandomForestHyperparameters.self, forKey: .hyperparameters)
        trees = try c.decode([TreeNodes].self, forKey: .trees)
        featureCount = try c.decode(Int.self, forKey: .featureCount)
        threadCount = nil
        guard trees.allSatisfy({ $0.outputCount == 1 }) else {
            throw DecodingError.dataCorruptedError(forKey: .trees, in: c, debugDescription: "a regression tree answers one value per leaf")
        }
        packed = PackedForest(trees, outputCount: 1)
    }
}
