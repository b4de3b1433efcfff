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
    }

    /// Class probabilities: one row per input row, one column per class, each row summing to 1.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(x.columns == featureCount, "the forest was fit on \(featureCount) features, got \(x.columns)")
        // A few rows (serving): each row walks the trees in pairs, overlapping their cache misses.
        if x.rows < 16 {
            let values = predictRows(x.rows, width: classCount, threads: 1) { r, out in predictProbabilities(row: x.row(r), into: out) }
            return Matrix(rows: x.rows, columns: classCount, values: values)
        }
        // Many rows: tree-major over blocks of rows, so each tree's nodes stay in cache for a block.
        let k = classCount
        let scale = 1 / Double(max(trees.count, 1))
        let values = predictBlocks(x.rows, width: k, threads: threadCount) { block, out in
            x.values.withUnsafeBufferPointer { xs in
                trees.withUnsafeBufferPointer { forest in
                    for t in forest.indices {
                        forest[t].values.withUnsafeBufferPointer { v in
                            for r in block {
                                let row = UnsafeBufferPointer(rebasing: xs[(r * x.columns)..<((r + 1) * x.columns)])
                                let leaf = forest[t].leaf(for: row) * k
                                for c in 0..<k { out[r * k + c] += v[leaf + c] }
                            }
                        }
                    }
                }
            }
            for r in block { for c in 0..<k { out[r * k + c] *= scale } }
        }
        return Matrix(rows: x.rows, columns: classCount, values: values)
    }

    /// Writes one row's class probabilities into `out` (`classCount` values) without allocating.
    public func predictProbabilities(row: ArraySlice<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        for c in 0..<classCount { out[c] = 0 }
        row.withUnsafeBufferPointer { rowBuffer in
            trees.withUnsafeBufferPointer { forest in
                // Trees in pairs, walked in lockstep; sums still in tree order.
                var t = 0
                while t < forest.count {
                    let pair = t + 1 < forest.count
                    let (la, lb) = pair ? TreeNodes.leaves(forest[t], forest[t + 1], for: rowBuffer) : (forest[t].leaf(for: rowBuffer), 0)
                    forest[t].values.withUnsafeBufferPointer { v in
                        for c in 0..<classCount { out[c] += v[la * classCount + c] }
                    }
                    if pair {
                        forest[t + 1].values.withUnsafeBufferPointer { v in
                            for c in 0..<classCount { out[c] += v[lb * classCount + c] }
                        }
                    }
                    t += 2
                }
            }
        }
        let scale = 1 / Double(max(trees.count, 1))
        for c in 0..<classCount { out[c] *= scale }
    }

    /// One row's class probabilities.
    public func predictProbabilities(row: ArraySlice<Double>) -> [Double] {
        [Double](unsafeUninitializedCapacity: classCount) { buffer, initialized in
            predictProbabilities(row: row, into: buffer)
            initialized = classCount
        }
    }
}
