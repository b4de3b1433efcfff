import FlywheelCore

/// A random forest of CART classification trees (scikit-learn's `RandomForestClassifier`).
///
/// Each tree is grown on a bootstrap sample with a random subset of features at every split; the
/// forest's class probabilities are the mean of the trees' leaf class fractions. Trees are fit in
/// parallel on Dispatch threads and the fitted forest depends only on the data and the seed.
///
/// ```swift
/// var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 100, seed: 7))
/// try forest.fit(x, y, classCount: 3)
/// let p = forest.predictProbabilities(x)
/// ```
public struct RandomForestClassifier: Classifier, Hashable {
    /// The settings the forest was (or will be) fit with.
    public var hyperparameters: RandomForestHyperparameters
    /// Threads used by `fit` and batch prediction; `nil` uses every core. Never changes a result, so it is not encoded.
    public var threadCount: Int?
    /// The fitted trees; empty before `fit`.
    public private(set) var trees: [TreeNodes]
    /// Classes seen by `fit`.
    public private(set) var classCount: Int
    /// Features seen by `fit`.
    public private(set) var featureCount: Int

    /// `trees` laid out for prediction: derived, rebuilt by `fit` and decoding, never encoded or compared.
    private var packed = PackedForest()

    private enum CodingKeys: String, CodingKey { case hyperparameters, trees, classCount, featureCount }

    /// An unfitted model with these settings; call `fit` before predicting.
    public init(_ hyperparameters: RandomForestHyperparameters = .init(), threadCount: Int? = nil) {
        self.hyperparameters = hyperparameters
        self.threadCount = threadCount
        trees = []
        classCount = 0
        featureCount = 0
    }

    /// Fits the forest. Blocking CPU work on Dispatch threads: call it off the cooperative pool.
    public mutating func fit(_ x: Matrix, _ y: [Int], classCount: Int) throws {
        try hyperparameters.validate()
        try checkClassificationInput(x, y, classCount: classCount)
        let data = CARTData(x, labels: y, classCount: classCount)
        trees = fitForest(data: data, hyperparameters: hyperparameters, defaultMaxFeatures: .sqrt, threads: threadCount)
        self.classCount = classCount
        featureCount = x.columns
        packed = PackedForest(trees, outputCount: classCount)
    }

    /// Class probabilities: one row per input row, one column per class, each row summing to 1.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(x.columns == featureCount, "the forest was fit on \(featureCount) features, got \(x.columns)")
        // A few rows (serving): each row walks 16 trees at a time. Many rows: each tree walks a
        // block of rows, 8 at a time, while it is in cache. Both sum in tree order.
        if x.rows < 16 {
            let values = predictRows(x.rows, width: classCount, threads: 1) { r, out in predictProbabilities(row: x.row(r), into: out) }
            return Matrix(rows: x.rows, columns: classCount, values: values)
        }
        let k = classCount
        let scale = 1 / Double(max(trees.count, 1))
        let values = predictBlocks(x.rows, width: k, threads: threadCount, block: packed.blockRows) { block, out in
            x.values.withUnsafeBufferPointer { xs in packed.accumulate(rows: block, of: xs, columns: x.columns, into: out + block.lowerBound * k) }
            for r in block { for c in 0..<k { out[r * k + c] *= scale } }
        }
        return Matrix(rows: x.rows, columns: classCount, values: values)
    }

    /// Writes one row's class probabilities into `out` (`classCount` values) without allocating.
    public func predictProbabilities(row: ArraySlice<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(out.count >= classCount, "the output holds \(out.count) values, the forest answers \(classCount)")
        guard let o = out.baseAddress else { return }
        for c in 0..<classCount { o[c] = 0 }
        row.withUnsafeBufferPointer { packed.accumulate(row: $0, into: o) }
        let scale = 1 / Double(max(trees.count, 1))
        for c in 0..<classCount { o[c] *= scale }
    }

    /// One row's class probabilities.
    public func predictProbabilities(row: ArraySlice<Double>) -> [Double] {
        [Double](unsafeUninitializedCapacity: classCount) { buffer, initialized in
            predictProbabilities(row: row, into: buffer)
            initialized = classCount
        }
    }
}

extension RandomForestClassifier {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hyperparameters = try c.decode(RandomForestHyperparameters.self, forKey: .hyperparameters)
        trees = try c.decode([TreeNodes].self, forKey: .trees)
        classCount = try c.decode(Int.self, forKey: .classCount)
        featureCount = try c.decode(Int.self, forKey: .featureCount)
        threadCount = nil
        guard trees.allSatisfy({ $0.outputCount == classCount }) else {
            throw DecodingError.dataCorruptedError(forKey: .trees, in: c, debugDescription: "a tree does not answer \(classCount) classes")
        }
        packed = PackedForest(trees, outputCount: classCount)
    }
}
