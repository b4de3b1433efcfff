import FlywheelCore
import FlywheelLearn
import Foundation
import Testing

@Suite struct BoostingEstimatorTests {
    /// scikit-learn's defaults: 100 iterations, rate 0.1, 31 leaves, 20 rows a leaf, no early stopping here.
    @Test(arguments: TreeFixtures.classificationSets)
    func classifierParity(dataset: String) throws {
        let ds = try TreeFixtures.load(dataset)
        var model = HistGradientBoostingClassifier()
        try model.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        // Deterministic without early stopping: one fit is the score.
        #expect(model.ensemble.iterationCount == 100)
        let ours = TreeFixtures.accuracy(model.predict(ds.testX), ds.testClasses)
        let reference = try TreeFixtures.reference("classification", dataset, "hist_gradient_boosting")
        print("PARITY hist_gradient_boosting \(dataset) flywheel=\(ours) sklearn=\(reference)")
        #expect(ours >= reference - 0.02)
    }

    @Test func regressorParity() throws {
        let ds = try TreeFixtures.load("diabetes", regression: true)
        var model = HistGradientBoostingRegressor()
        try model.fit(ds.trainX, ds.trainTargets)
        let ours = TreeFixtures.r2(model.predict(ds.testX), ds.testTargets)
        let reference = try TreeFixtures.reference("regression", "diabetes", "hist_gradient_boosting")
        print("PARITY hist_gradient_boosting diabetes flywheel=\(ours) sklearn=\(reference)")
        #expect(ours >= reference - 0.02)
    }

    @Test func baselinesArePriors() throws {
        let x = Matrix((0..<40).map { [Double($0)] })
        var binary = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 1))
        let y = (0..<40).map { $0 < 10 ? 1 : 0 }
        try binary.fit(x, y, classCount: 2)
        #expect(abs(binary.ensemble.baseline[0] - Foundation.log(0.25 / 0.75)) < 1e-12)
        var multi = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 2))
        let y3 = (0..<40).map { $0 < 20 ? 0 : ($0 < 30 ? 1 : 2) }
        try multi.fit(x, y3, classCount: 3)
        #expect(multi.ensemble.baseline.map { Foundation.exp($0) }.enumerated().allSatisfy { abs($1 - [0.5, 0.25, 0.25][$0]) < 1e-12 })
        #expect(multi.ensemble.trees.count == 2 && multi.ensemble.trees.allSatisfy { $0.count == 3 })
        var regressor = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(maxIterations: 1))
        try regressor.fit(x, (0..<40).map { Double($0) })
        #expect(abs(regressor.ensemble.baseline[0] - 19.5) < 1e-12)
    }

    @Test func leavesAndDepthAreBounded() throws {
        let ds = try TreeFixtures.load("breast_cancer")
        var model = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 5, maxLeafNodes: 6, minSamplesLeaf: 25))
        try model.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        for tree in model.ensemble.trees.flatMap({ $0 }) {
            #expect(tree.leaves.count <= 6)
            var perLeaf = [Int: Int]()
            for r in 0..<ds.trainX.rows { perLeaf[tree.leaf(for: ds.trainX.row(r)), default: 0] += 1 }
            #expect(perLeaf.values.min() ?? 0 >= 25)
        }
        #expect(model.ensemble.trees.flatMap { $0 }.contains { $0.leaves.count == 6 })
        var shallow = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 5, maxLeafNodes: nil, maxDepth: 2, minSamplesLeaf: 5))
        try shallow.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        #expect(shallow.ensemble.trees.flatMap { $0 }.allSatisfy { $0.depth <= 2 })
        #expect(shallow.ensemble.trees.flatMap { $0 }.contains { $0.depth == 2 })
    }

    @Test func probabilitiesSumToOneAndNaNIsHandled() throws {
        let ds = try TreeFixtures.load("wine")
        var x = ds.trainX
        for r in stride(from: 0, to: x.rows, by: 3) { x[r, 0] = .nan; x[r, 6] = .nan }
        var model = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 20, minSamplesLeaf: 5))
        try model.fit(x, ds.trainClasses, classCount: ds.classCount)
        var test = ds.testX
        for r in 0..<test.rows { test[r, 6] = .nan }
        let p = model.predictProbabilities(test)
        for r in 0..<p.rows {
            let sum = (0..<p.columns).reduce(0.0) { $0 + p[r, $1] }
            #expect(abs(sum - 1) < 1e-12)
            #expect((0..<p.columns).allSatisfy { p[r, $0].isFinite })
        }
        #expect(TreeFixtures.accuracy(model.predict(test), ds.testClasses) > 0.85)
    }

    @Test func separableSetAndLineAreLearned() throws {
        let x = Matrix((0..<200).map { [Double($0 % 50), Double($0 / 50)] })
        let y = (0..<200).map { $0 % 50 >= 25 ? 1 : 0 }
        var model = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 30))
        try model.fit(x, y, classCount: 2)
        #expect(model.predict(x) == y)
        let line = Matrix((0..<400).map { [Double($0) / 40] })
        let ty = (0..<400).map { 2 * Double($0) / 40 }
        var regressor = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(learningRate: 0.2, maxIterations: 200, minSamplesLeaf: 3))
        try regressor.fit(line, ty)
        #expect(TreeFixtures.r2(regressor.predict(line), ty) > 0.999)
    }

    @Test func earlyStoppingStopsAndIsDeterministic() throws {
        // A noisy signal: the validation loss stops improving long before 500 iterations.
        var random = SeededRandom(seed: 11)
        let rows = (0..<600).map { _ in [random.unit(), random.unit()] }
        let y = rows.map { $0[0] + 0.5 * random.unit() }
        var model = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(learningRate: 0.3, maxIterations: 500, earlyStopping: .on))
        try model.fit(Matrix(rows), y)
        #expect(model.ensemble.iterationCount < 500)
        #expect(model.ensemble.iterationCount > 10)
        var again = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(learningRate: 0.3, maxIterations: 500, earlyStopping: .on))
        try again.fit(Matrix(rows), y)
        #expect(again == model)
        var off = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(learningRate: 0.3, maxIterations: 50))
        try off.fit(Matrix(rows), y)
        #expect(off.ensemble.iterationCount == 50)
    }

    @Test func binsAreCappedAndModelRoundTrips() throws {
        let ds = try TreeFixtures.load("breast_cancer")
        var model = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 10, maxBins: 16))
        try model.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        // With 16 bins a split threshold is one of at most 15 edges per feature.
        var thresholds = [Int32: Set<Double>]()
        for tree in model.ensemble.trees.flatMap({ $0 }) {
            for n in 0..<tree.nodeCount where tree.feature[n] >= 0 { thresholds[tree.feature[n], default: []].insert(tree.threshold[n]) }
        }
        #expect(thresholds.values.allSatisfy { $0.count <= 15 })
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let decoded = try JSONDecoder().decode(HistGradientBoostingClassifier.self, from: encoder.encode(model))
        #expect(decoded.predictProbabilities(ds.testX) == model.predictProbabilities(ds.testX))
    }

    @Test func sameModelWhateverTheThreadCount() throws {
        // 3,000 × 40 is large enough for histograms to be built on several threads.
        var random = SeededRandom(seed: 21)
        let rows = (0..<3000).map { _ in (0..<40).map { _ in random.unit() } }
        let y = rows.map { $0[0] + $0[1] > 1 ? 1 : 0 }
        let params = HistGradientBoostingHyperparameters(maxIterations: 8)
        var one = HistGradientBoostingClassifier(params, threadCount: 1)
        var many = HistGradientBoostingClassifier(params, threadCount: 4)
        try one.fit(Matrix(rows), y, classCount: 2)
        try many.fit(Matrix(rows), y, classCount: 2)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(one) == encoder.encode(many))
        #expect(TreeFixtures.accuracy(one.predict(Matrix(rows)), y) > 0.9)
        // Batch prediction on 4 threads (3,000 rows are split in chunks) equals the row-by-row answer.
        let batch = many.predictProbabilities(Matrix(rows))
        #expect(batch == one.predictProbabilities(Matrix(rows)))
        for r in stride(from: 0, to: rows.count, by: 97) {
            #expect(Array(batch.row(r)) == one.predictProbabilities(Matrix([rows[r]])).values)
        }
    }

    @Test func sameModelWhateverTheThreadCountOnLargeNodes() throws {
        // 20,000 rows: large nodes are partitioned in row blocks, every node's histograms and split
        // search are shared among threads by feature, gradients are computed in row chunks and the
        // binning runs feature by feature. Missing values, a 4-valued feature, softmax, squared error
        // and early stopping are all covered.
        var random = SeededRandom(seed: 5)
        let rows = (0..<20_000).map { i in
            (0..<6).map { f -> Double in
                if f == 2 && i % 7 == 0 { return .nan }
                return f == 3 ? Double(Int(random.unit() * 4)) : random.unit()
            }
        }
        let x = Matrix(rows)
        let classes = rows.map { r in (r[0] + r[1] > 1 ? 1 : 0) + (r[3] >= 2 ? 1 : 0) }
        let targets = rows.map { r in 3 * r[0] - r[1] + (r[2].isNaN ? 1 : r[2]) + 0.1 * random.unit() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var classifiers = [Data](), regressors = [Data]()
        for threads in [1, 2, 4] {
            var classifier = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 4), threadCount: threads)
            try classifier.fit(x, classes, classCount: 3)
            classifiers.append(try encoder.encode(classifier))
            #expect(TreeFixtures.accuracy(classifier.predict(x), classes) > 0.9)
            var regressor = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(learningRate: 0.3, maxIterations: 6,
                                                                                              earlyStopping: .on, iterationsWithoutChange: 2),
                                                          threadCount: threads)
            try regressor.fit(x, targets)
            regressors.append(try encoder.encode(regressor))
            #expect(TreeFixtures.r2(regressor.predict(x), targets) > 0.8)
        }
        #expect(classifiers.allSatisfy { $0 == classifiers[0] })
        #expect(regressors.allSatisfy { $0 == regressors[0] })
    }
}
