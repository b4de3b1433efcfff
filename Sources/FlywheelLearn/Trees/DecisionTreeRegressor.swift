import FlywheelCore

/// A CART regression tree (scikit-learn's `DecisionTreeRegressor`): splits minimize squared
/// error and a leaf answers the mean target of its training rows.
///
/// ```swift
/// var tree = DecisionTreeRegressor(DecisionTreeHyperparameters(maxDepth: 4))
/// try tree.fit(x, y)
/// let values = tree.predict(x)
/// ```
public struct DecisionTreeRegressor: Regressor, Hashable {
    /// The settings the tree was (or will be) grown with; `criterion` is ignored.
    public var hyperparameters: DecisionTreeHyperparameters
    /// The fitted tree; empty before `fit`.
    public private(set) var tree: TreeNodes
    /// Features seen by `fit`.
    public private(set) var featureCount: Int

    /// `tree` laid out for prediction: derived, rebuilt by `fit` and decoding, never encoded or compared.
    private var packed = PackedForest()

    private enum CodingKeys: String, CodingKey { case hyperparameters, tree, featureCount }

    /// An unfitted model with these settings; call `fit` before predicting.
    public init(_ hyperparameters: DecisionTreeHyperparameters = .init()) {
        self.hyperparameters = hyperparameters
        tree = TreeNodes(outputCount: 1)
        featureCount = 0
    }

    /// Fits on `x`, replacing any earlier fit; throws `invalidArgument` for bad settings or inputs.
    public mutating func fit(_ x: Matrix, _ y: [Double]) throws {
        try hyperparameters.validate()
        try checkRegressionInput(x, y)
        let data = CARTData(x, targets: y, classCount: 0)
        var random = SeededRandom(seed: hyperparameters.seed)
        tree = CARTBuilder(data: data, params: hyperparameters)
            .build(weights: [Double](repeating: 1, count: x.rows), random: &random)
        featureCount = x.columns
        packed = PackedForest([tree], outputCount: 1)
    }

    /// One prediction per input row.
    public func predict(_ x: Matrix) -> [Double] {
        precondition(x.columns == featureCount, "the tree was fit on \(featureCount) features, got \(x.columns)")
        return predictLeafValues(packed, x, width: 1)
    }

    /// The prediction for one row.
    public func predict(row: ArraySlice<Double>) -> Double { tree.values[tree.leaf(for: row)] }
}

extension DecisionTreeRegressor {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hyperparameters = try c.decode(DecisionTreeHyperparameters.self, forKey: .hyperparameters)
        tree = try c.decode(TreeNodes.self, forKey: .tree)
        featureCount = try c.decode(Int.self, forKey: .featureCount)
        guard tree.outputCount == 1 || tree.nodeCount == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .tree, in: c, debugDescription: "a regression tree answers one value per leaf")
        }
        packed = tree.nodeCount == 0 ? PackedForest() : PackedForest([tree], outputCount: 1)
    }
}
