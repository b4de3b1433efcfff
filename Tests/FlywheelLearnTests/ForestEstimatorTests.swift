import FlywheelLearn
import Foundation
import Testing

@Suite struct ForestEstimatorTests {
    /// scikit-learn's reference settings: 100 trees, bootstrap, √d features.
    @Test(arguments: TreeFixtures.classificationSets)
    func classifierParity(dataset: String) throws {
        let ds = try TreeFixtures.load(dataset)
        var total = 0.0
        let seeds = TreeFixtures.seeds(testRows: ds.testX.rows)
        for seed in seeds {
            var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 100, bootstrap: true, seed: seed))
            try forest.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
            total += TreeFixtures.accuracy(forest.predict(ds.testX), ds.testClasses)
        }
        let ours = total / Double(seeds.count)
        let reference = try TreeFixtures.reference("classification", dataset, "random_forest")
        print("PARITY random_forest \(dataset) flywheel=\(ours) sklearn=\(reference)")
        #expect(ours >= reference - 0.02)
    }

    @Test func regressorParity() throws {
        let ds = try TreeFixtures.load("diabetes", regression: true)
        var total = 0.0
        let seeds = TreeFixtures.seeds(testRows: ds.testX.rows)
        for seed in seeds {
            var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 100, bootstrap: true, seed: seed))
            try forest.fit(ds.trainX, ds.trainTargets)
            total += TreeFixtures.r2(forest.predict(ds.testX), ds.testTargets)
        }
        let ours = total / Double(seeds.count)
        let reference = try TreeFixtures.reference("regression", "diabetes", "random_forest")
        print("PARITY random_forest diabetes flywheel=\(ours) sklearn=\(reference)")
        #expect(ours >= reference - 0.02)
    }

    @Test func sameForestWhateverTheThreadCount() throws {
        let ds = try TreeFixtures.load("wine")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let params = RandomForestHyperparameters(treeCount: 24, seed: 42)
        var one = RandomForestClassifier(params, threadCount: 1)
        var many = RandomForestClassifier(params, threadCount: 4)
        var again = RandomForestClassifier(params, threadCount: 3)
        try one.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        try many.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        try again.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        let reference = try encoder.encode(one)
        #expect(try encoder.encode(many) == reference)
        #expect(try encoder.encode(again) == reference)
        #expect(one.predictProbabilities(ds.testX) == many.predictProbabilities(ds.testX))
        // A different seed gives a different forest: the seed really drives the randomness.
        var other = RandomForestClassifier(RandomForestHyperparameters(treeCount: 24, seed: 43), threadCount: 4)
        try other.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        #expect(try encoder.encode(other) != reference)

        let rds = try TreeFixtures.load("diabetes", regression: true)
        var r1 = RandomForestRegressor(RandomForestHyperparameters(treeCount: 12, seed: 5), threadCount: 1)
        var r2 = RandomForestRegressor(RandomForestHyperparameters(treeCount: 12, seed: 5), threadCount: 4)
        try r1.fit(rds.trainX, rds.trainTargets)
        try r2.fit(rds.trainX, rds.trainTargets)
        #expect(try encoder.encode(r1) == encoder.encode(r2))
        let decoded = try JSONDecoder().decode(RandomForestRegressor.self, from: encoder.encode(r1))
        #expect(decoded.predict(rds.testX) == r1.predict(rds.testX))
    }

    @Test func probabilitiesAreMeansOfTreeFractionsAndSumToOne() throws {
        let ds = try TreeFixtures.load("iris")
        var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 10, maxDepth: 2, seed: 1))
        try forest.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        let p = forest.predictProbabilities(ds.testX)
        for r in 0..<p.rows {
            let row = ds.testX.row(r)
            var expected = [Double](repeating: 0, count: ds.classCount)
            for tree in forest.trees {
                let leaf = tree.leaf(for: row)
                for c in 0..<ds.classCount { expected[c] += tree.values[leaf * ds.classCount + c] / 10 }
            }
            let sum = (0..<p.columns).reduce(0.0) { $0 + p[r, $1] }
            #expect(abs(sum - 1) < 1e-12)
            for c in 0..<ds.classCount { #expect(abs(p[r, c] - expected[c]) < 1e-12) }
            #expect(forest.predictProbabilities(row: row) == (0..<p.columns).map { p[r, $0] })
        }
        #expect(forest.trees.allSatisfy { $0.depth <= 2 })
    }

    @Test func treesUseBootstrapAndFeatureSubsets() throws {
        let ds = try TreeFixtures.load("wine")
        var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 8, seed: 3))
        try forest.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        // Bootstrap + √d features: the trees differ from each other.
        #expect(Set(forest.trees).count == 8)
        var plain = RandomForestClassifier(RandomForestHyperparameters(treeCount: 3, bootstrap: false, maxFeatures: .all, seed: 3))
        try plain.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        // Without either, every tree sees the same data and all features: each fits training data exactly.
        #expect(plain.predict(ds.trainX) == ds.trainClasses)
    }

    @Test func minSamplesLeafAndNaNInForest() throws {
        let ds = try TreeFixtures.load("diabetes", regression: true)
        var x = ds.trainX
        for r in stride(from: 0, to: x.rows, by: 4) { x[r, 2] = .nan }
        var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 10, bootstrap: false, minSamplesLeaf: 15, seed: 2))
        try forest.fit(x, ds.trainTargets)
        for tree in forest.trees {
            var perLeaf = [Int: Int]()
            for r in 0..<x.rows { perLeaf[tree.leaf(for: x.row(r)), default: 0] += 1 }
            #expect(perLeaf.values.min() ?? 0 >= 15)
        }
        var test = ds.testX
        for r in 0..<test.rows { test[r, 2] = .nan }
        #expect(forest.predict(test).allSatisfy { $0.isFinite })
    }

    @Test func lineIsFittedClosely() throws {
        let x = Matrix((0..<300).map { [Double($0) / 30] })
        let y = (0..<300).map { 2 * Double($0) / 30 }
        var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 20, seed: 1))
        try forest.fit(x, y)
        let fitted = forest.predict(x)
        #expect(zip(fitted, y).allSatisfy { abs($0 - $1) < 0.2 })
        #expect(TreeFixtures.r2(fitted, y) > 0.999)
    }
}
