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
    }

    /// Class probabilities: one row per input row, one column per class, each row summing to 1.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(x.columns == featureCount, "the tree was fit on \(featureCount) features, got \(x.columns)")
        var out = Matrix(rows: x.rows, columns: classCount)
        x.values.withUnsafeBufferPointer { all in
            for r in 0..<x.rows {
                let row = UnsafeBufferPointer(rebasing: all[(r * x.columns)..<((r + 1) * x.columns)])
                let base = tree.leaf(for: row) * classCount
                for c in 0..<classCount { out.values[r * classCount + c] = tree.values[base + c] }
            }
        }
        return out
    }

    /// Class probabilities of one row, without building a matrix.
    public func predictProbabilities(row: ArraySlice<Double>) -> ArraySlice<Double> {
        let base = tree.leaf(for: row) * classCount
        return tree.values[base..<(base + classCount)]
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
