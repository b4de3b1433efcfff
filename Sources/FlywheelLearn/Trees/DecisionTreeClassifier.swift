import FlywheelCore

/// A CART classification tree (scikit-learn's `DecisionTreeClassifier`).
///
/// Splits minimize gini impurity or entropy; a leaf answers the class fractions of its training
/// rows. Missing values (NaN) are tried on both sides of every split at fit time and then follow
/// the side learned for that node.
///
/// ```swift
/// var tree = DecisionTreeClassifier(DecisionTreeHyperparameters(maxDepth: 5))
/// try tree.fit(x, y, classCount: 3)
/// let classes = tree.predict(x)
/// ```
public struct DecisionTreeClassifier: Classifier, Hashable {
    /// The settings the tree was (or will be) grown with.
    public var hyperparameters: DecisionTreeHyperparameters
    /// The fitted tree; empty before `fit`.
    public private(set) var tree: TreeNodes
    /// Classes seen by `fit`.
    public private(set) var classCount: Int
    /// Features seen by `fit`.
    public private(set) var featureCount: Int

    /// `tree` laid out for prediction: derived, rebuilt by `fit` and decoding, never encoded or compared.
    private var packed = PackedForest()

    private enum CodingKeys: String, CodingKey { case hyperparameters, tree, classCount, featureCount }

    /// An unfitted model with these settings; call `fit` before predicting.
    public init(_ hyperparameters: DecisionTreeHyperparameters = .init()) {
        self.hyperparameters = hyperparameters
        tree = TreeNodes(outputCount: 0)
        classCount = 0
        featureCount = 0
    }

    /// Fits on `x`, replacing any earlier fit; throws `invalidArgument` for bad settings or inputs.
    public mutating func fit(_ x: Matrix, _ y: [Int], classCount: Int) throws {
        try hyperparameters.validate()
        try checkClassificationInput(x, y, classCount: classCount)
        let data = CARTData(x, labels: y, classCount: classCount)
        var random = SeededRandom(seed: hyperparameters.seed)
        tree = CARTBuilder(data: data, params: hyperparameters)
            .build(weights: [Double](repeating: 1, count: x.rows), random: &random)
        self.classCount = classCount
        featureCount = x.columns
        packed = PackedForest([tree], outputCount: classCount)
    }

    /// Class probabilities: one row per input row, one column per class, each row summing to 1.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(x.columns == featureCount, "the tree was fit on \(featureCount) features, got \(x.columns)")
        let values = predictLeafValues(packed, x, width: classCount)
        return Matrix(rows: x.rows, columns: classCount, values: values)
    }

    /// Class probabilities of one row, without building a matrix.
    public func predictProbabilities(row: ArraySlice<Double>) -> ArraySlice<Double> {
        let base = tree.leaf(for: row) * classCount
        return tree.values[base..<(base + classCount)]
    }
}

extension DecisionTreeClassifier {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hyperparameters = try c.decode(DecisionTreeHyperparameters.self, forKey: .hyperparameters)
        tree = try c.decode(TreeNodes.self, forKey: .tree)
        classCount = try c.decode(Int.self, forKey: .classCount)
        featureCount = try c.decode(Int.self, forKey: .featureCount)
        guard tree.outputCount == classCount || tree.nodeCount == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .tree, in: c, debugDescription: "the tree does not answer \(classCount) classes")
        }
        packed = tree.nodeCount == 0 ? PackedForest() : PackedForest([tree], outputCount: classCount)
    }
}

/// A single tree's leaf values for every row of `x` (`width` per row), copied exactly: each row
/// starts at -0.0, which adding a value leaves bit for bit unchanged (even -0.0 or a NaN).
func predictLeafValues(_ packed: PackedForest, _ x: Matrix, width: Int) -> [Double] {
    predictBlocks(x.rows, width: width, threads: nil, block: packed.blockRows) { block, out in
        for i in (block.lowerBound * width)..<(block.upperBound * width) { out[i] = -0.0 }
        x.values.withUnsafeBufferPointer { xs in packed.accumulate(rows: block, of: xs, columns: x.columns, into: out + block.lowerBound * width) }
    }
}

func checkClassificationInput(_ x: Matrix, _ y: [Int], classCount: Int) throws {
    guard x.rows > 0 else { throw FlywheelError.invalidArgument("cannot fit on zero rows") }
    guard y.count == x.rows else { throw FlywheelError.invalidArgument("\(x.rows) rows but \(y.count) labels") }
    guard classCount >= 1 else { throw FlywheelError.invalidArgument("classCount must be at least 1") }
    if let bad = y.first(where: { $0 < 0 || $0 >= classCount }) {
        throw FlywheelError.invalidArgument("label \(bad) is outside 0..<\(classCount)")
    }
}

func checkRegressionInput(_ x: Matrix, _ y: [Double]) throws {
    guard x.rows > 0 else { throw FlywheelError.invalidArgument("cannot fit on zero rows") }
    guard y.count == x.rows else { throw FlywheelError.invalidArgument("\(x.rows) rows but \(y.count) targets") }
    if y.contains(where: { !$0.isFinite }) { throw FlywheelError.invalidArgument("targets must be finite numbers") }
}
