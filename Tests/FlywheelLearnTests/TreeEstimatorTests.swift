import FlywheelLearn
import Foundation
import Testing

@Suite struct TreeEstimatorTests {
    @Test(arguments: TreeFixtures.classificationSets)
    func classifierParity(dataset: String) throws {
        let ds = try TreeFixtures.load(dataset)
        var total = 0.0
        for seed in TreeFixtures.seeds {
            var tree = DecisionTreeClassifier(DecisionTreeHyperparameters(criterion: .gini, seed: seed))
            try tree.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
            total += TreeFixtures.accuracy(tree.predict(ds.testX), ds.testClasses)
        }
        let ours = total / Double(TreeFixtures.seeds.count)
        let reference = try TreeFixtures.reference("classification", dataset, "decision_tree")
        print("PARITY decision_tree \(dataset) flywheel=\(ours) sklearn=\(reference)")
        #expect(ours >= reference - 0.02)
    }

    /// A fully grown regression tree on diabetes overfits: its test R² hangs on how ties between
    /// equally good splits are broken, so it swings from about −0.14 to +0.05 with the seed, in
    /// scikit-learn as here. So both sides are averaged over 20 seeds (the reference file holds
    /// scikit-learn's mean over random_state 0…19).
    @Test func regressorParity() throws {
        let ds = try TreeFixtures.load("diabetes", regression: true)
        var total = 0.0
        let seeds = UInt64(0)..<20
        for seed in seeds {
            var tree = DecisionTreeRegressor(DecisionTreeHyperparameters(seed: seed))
            try tree.fit(ds.trainX, ds.trainTargets)
            total += TreeFixtures.r2(tree.predict(ds.testX), ds.testTargets)
        }
        let ours = total / Double(seeds.count)
        let reference = try TreeFixtures.reference("regression", "diabetes", "decision_tree")
        #expect(ours >= reference - 0.02, "flywheel \(ours) vs scikit-learn's 20-seed mean \(reference)")
    }

    @Test func separableSetIsLearnedExactly() throws {
        let x = Matrix((0..<40).map { i in [Double(i % 10), Double(i / 10)] })
        let y = (0..<40).map { i in (i % 10 >= 5 ? 1 : 0) + (i / 10 >= 2 ? 2 : 0) }
        var tree = DecisionTreeClassifier()
        try tree.fit(x, y, classCount: 4)
        #expect(tree.predict(x) == y)
        #expect(tree.tree.depth == 2)
        let p = tree.predictProbabilities(x)
        #expect(p.values.allSatisfy { $0 == 0 || $0 == 1 })
    }

    @Test(arguments: [SplitCriterion.gini, .entropy])
    func maxDepthAndMinSamplesLeafAreRespected(criterion: SplitCriterion) throws {
        let ds = try TreeFixtures.load("wine")
        for depth in [1, 2, 3] {
            var tree = DecisionTreeClassifier(DecisionTreeHyperparameters(criterion: criterion, maxDepth: depth))
            try tree.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
            #expect(tree.tree.depth == depth)
        }
        var tree = DecisionTreeClassifier(DecisionTreeHyperparameters(criterion: criterion, minSamplesLeaf: 7))
        try tree.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        var perLeaf = [Int: Int]()
        for r in 0..<ds.trainX.rows { perLeaf[tree.tree.leaf(for: ds.trainX.row(r)), default: 0] += 1 }
        #expect(perLeaf.values.min() ?? 0 >= 7)
        #expect(perLeaf.count > 3)
    }

    @Test func minSamplesSplitStopsSmallNodes() throws {
        let x = Matrix((0..<30).map { [Double($0)] })
        let y = (0..<30).map { $0 % 2 }
        var tree = DecisionTreeClassifier(DecisionTreeHyperparameters(minSamplesSplit: 31))
        try tree.fit(x, y, classCount: 2)
        #expect(tree.tree.nodeCount == 1)
    }

    @Test func probabilitiesSumToOne() throws {
        let ds = try TreeFixtures.load("iris")
        var tree = DecisionTreeClassifier(DecisionTreeHyperparameters(maxDepth: 2))
        try tree.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        let p = tree.predictProbabilities(ds.testX)
        for r in 0..<p.rows {
            let sum = (0..<p.columns).reduce(0.0) { $0 + p[r, $1] }
            #expect(abs(sum - 1) < 1e-12)
        }
        // A depth-2 tree on iris has an impure leaf: probabilities are fractions, not just 0/1.
        #expect(p.values.contains { $0 > 0 && $0 < 1 })
    }

    @Test func missingValuesAreLearnedAndPredicted() throws {
        // Feature 0 carries the class, but is missing for a third of rows — all of class 1.
        var rows = [[Double]]()
        var y = [Int]()
        for i in 0..<90 {
            let cls = i % 2
            let missing = cls == 1 && i % 3 == 0
            rows.append([missing ? .nan : Double(cls) + Double(i % 5) * 0.1, Double(i % 7)])
            y.append(cls)
        }
        var tree = DecisionTreeClassifier()
        try tree.fit(Matrix(rows), y, classCount: 2)
        #expect(tree.predict(Matrix(rows)) == y)
        // NaN at prediction follows the learned direction: towards class 1 here.
        #expect(tree.predict(Matrix([[.nan, 3]])) == [1])
        // A feature never missing in training still accepts NaN at prediction.
        var regressor = DecisionTreeRegressor()
        try regressor.fit(Matrix((0..<20).map { [Double($0)] }), (0..<20).map { Double($0) })
        #expect(regressor.predict(Matrix([[.nan]]))[0].isFinite)
    }

    @Test func regressionOnALineFitsClosely() throws {
        let x = Matrix((0..<200).map { [Double($0) / 10] })
        let y = (0..<200).map { 2 * Double($0) / 10 }
        var tree = DecisionTreeRegressor()
        try tree.fit(x, y)
        let fitted = tree.predict(x)
        #expect(zip(fitted, y).allSatisfy { abs($0 - $1) < 1e-9 })
        let between = tree.predict(Matrix([[5.05]]))[0]
        #expect(abs(between - 10.1) <= 0.11)
        var shallow = DecisionTreeRegressor(DecisionTreeHyperparameters(maxDepth: 4))
        try shallow.fit(x, y)
        #expect(TreeFixtures.r2(shallow.predict(x), y) > 0.99)
        #expect(shallow.tree.depth == 4)
    }

    @Test func sameSeedGivesTheSameEncodedModel() throws {
        let ds = try TreeFixtures.load("wine")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var a = DecisionTreeClassifier(DecisionTreeHyperparameters(seed: 9))
        var b = DecisionTreeClassifier(DecisionTreeHyperparameters(seed: 9))
        try a.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        try b.fit(ds.trainX, ds.trainClasses, classCount: ds.classCount)
        #expect(try encoder.encode(a) == encoder.encode(b))
        let decoded = try JSONDecoder().decode(DecisionTreeClassifier.self, from: encoder.encode(a))
        #expect(decoded.predict(ds.testX) == a.predict(ds.testX))
    }

    @Test func invalidInputIsRejected() {
        var tree = DecisionTreeClassifier()
        #expect(throws: (any Error).self) { try tree.fit(Matrix([[1], [2]]), [0, 2], classCount: 2) }
        var bad = DecisionTreeClassifier(DecisionTreeHyperparameters(minSamplesLeaf: 0))
        #expect(throws: (any Error).self) { try bad.fit(Matrix([[1], [2]]), [0, 1], classCount: 2) }
    }

    @Test func entirelyMissingOrConstantColumnsAreHarmless() throws {
        // Column 0 is always missing, column 1 constant, column 2 carries the class.
        let rows = (0..<60).map { i in [Double.nan, 3, Double(i % 3) + 0.1 * Double(i % 4)] }
        let y = (0..<60).map { $0 % 3 }
        var tree = DecisionTreeClassifier()
        try tree.fit(Matrix(rows), y, classCount: 3)
        #expect(tree.predict(Matrix(rows)) == y)
        #expect(tree.tree.feature.allSatisfy { $0 < 0 || $0 == 2 })
        var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 5, maxFeatures: .count(1), seed: 4))
        try forest.fit(Matrix(rows), y, classCount: 3)
        #expect(forest.predict(Matrix(rows)) == y)
        var boosted = HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(maxIterations: 10, minSamplesLeaf: 5))
        try boosted.fit(Matrix(rows), y, classCount: 3)
        #expect(boosted.predict(Matrix(rows)) == y)
    }

    @Test func singleRowPredictionsMatchBatch() throws {
        let ds = try TreeFixtures.load("diabetes", regression: true)
        var tree = DecisionTreeRegressor(DecisionTreeHyperparameters(maxDepth: 6))
        var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 5, seed: 1))
        var boosted = HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(maxIterations: 10))
        try tree.fit(ds.trainX, ds.trainTargets)
        try forest.fit(ds.trainX, ds.trainTargets)
        try boosted.fit(ds.trainX, ds.trainTargets)
        let (t, f, b) = (tree.predict(ds.testX), forest.predict(ds.testX), boosted.predict(ds.testX))
        for r in 0..<ds.testX.rows {
            #expect(tree.predict(row: ds.testX.row(r)) == t[r])
            #expect(forest.predict(row: ds.testX.row(r)) == f[r])
            #expect(boosted.predict(row: ds.testX.row(r)) == b[r])
        }
        #expect(Set(b).count > 10) // boosting really moved predictions away from the mean
    }

    @Test func decodingRejectsMalformedTrees() throws {
        let good = #"{"feature":[0,-1,-1],"threshold":[0.5,0,0],"left":[1,-1,-1],"right":[2,-1,-1],"missingGoesLeft":[true,false,false],"values":[1,2,3],"outputCount":1}"#
        let tree = try JSONDecoder().decode(TreeNodes.self, from: Data(good.utf8))
        #expect(tree.leaf(for: [0.2][...]) == 1)
        #expect(tree.leaf(for: [0.9][...]) == 2)
        #expect(tree.leaf(for: [Double.nan][...]) == 1)
        // A child pointing backwards would loop forever; arrays of different lengths would read out of bounds.
        let loop = good.replacingOccurrences(of: #""left":[1,-1,-1]"#, with: #""left":[0,-1,-1]"#)
        let short = good.replacingOccurrences(of: #""values":[1,2,3]"#, with: #""values":[1,2]"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TreeNodes.self, from: Data(loop.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TreeNodes.self, from: Data(short.utf8)) }
    }
}
