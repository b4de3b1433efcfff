import FlywheelCore
import FlywheelLearn
import Foundation
import Testing

/// The tree estimators predict through a packed, lockstep walk; these tests hold it to the plain
/// walk (`TreeNodes.leaf(for:)`, values summed in tree order) bit for bit, on rows with missing
/// values, infinities and values equal to thresholds, one row at a time and in batches.
@Suite struct PackedPredictionTests {
    /// Rows whose features are missing 15% of the time, with labels and targets that depend on
    /// which are missing, so that splits learn both missing directions.
    static func data(rows: Int, seed: UInt64) -> (x: Matrix, classes: [Int], targets: [Double]) {
        var random = SeededRandom(seed: seed)
        var values = [Double](), classes = [Int](), targets = [Double]()
        for _ in 0..<rows {
            var row = (0..<6).map { _ in Double(random.below(2001)) / 100 - 10 }
            let score = (row[1] < -2 ? 4 : row[0]) + row[2] / 2 + (random.below(10) == 0 ? 3 : 0)
            for c in 0..<6 where random.below(100) < 15 { row[c] = .nan }
            let missingBoost = row[0].isNaN ? 5.0 : (row[3].isNaN ? -5.0 : 0)
            classes.append(score + missingBoost < -2 ? 0 : (score + missingBoost < 3 ? 1 : 2))
            targets.append(score * 1.5 + missingBoost + (row[4].isNaN ? 0 : row[4]))
            values += row
        }
        return (Matrix(rows: rows, columns: 6, values: values), classes, targets)
    }

    /// Test rows: 20% missing values, a few infinities, and many values equal to a split threshold.
    static func testRows(_ trees: [TreeNodes], seed: UInt64, rows: Int = 1500) -> Matrix {
        var random = SeededRandom(seed: seed)
        var x = data(rows: rows, seed: seed + 1).x
        let splits = trees.flatMap { tree in
            let (feature, threshold) = (tree.feature, tree.threshold)
            return feature.indices.filter { feature[$0] >= 0 }.map { (Int(feature[$0]), threshold[$0]) }
        }
        for r in 0..<rows {
            for c in 0..<6 {
                switch random.below(100) {
                case 0..<20: x[r, c] = .nan
                case 20: x[r, c] = .infinity
                case 21: x[r, c] = -.infinity
                default: break
                }
            }
            if !splits.isEmpty, r % 3 == 0 {
                let (f, t) = splits[random.below(splits.count)]
                x[r, f] = t
            }
        }
        return x
    }

    /// The plain walk: each tree's leaf values added in tree order to `start`.
    static func walk(_ trees: [TreeNodes], _ row: ArraySlice<Double>, outputs: Int, start: [Double]) -> [Double] {
        var out = start
        for (t, tree) in trees.enumerated() {
            let leaf = tree.leaf(for: row)
            let column = (t % max(start.count / outputs, 1)) * outputs
            for c in 0..<outputs { out[column + c] += tree.values[leaf * outputs + c] }
        }
        return out
    }

    /// How many values differ in their bits (all of them when the counts differ), so a failure prints one number.
    static func differences(_ a: [Double], _ b: [Double]) -> Int {
        guard a.count == b.count else { return max(a.count, b.count) }
        return zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }

    static func missingDirections(_ trees: [TreeNodes]) -> Set<Bool> {
        Set(trees.flatMap { tree in
            let (feature, missing) = (tree.feature, tree.missingGoesLeft)
            return feature.indices.filter { feature[$0] >= 0 }.map { missing[$0] }
        })
    }

    @Test(arguments: [1, 2])
    func forestClassifierMatchesThePlainWalk(threads: Int) throws {
        let train = Self.data(rows: 800, seed: 1)
        var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 19, seed: 3), threadCount: threads)
        try forest.fit(train.x, train.classes, classCount: 3)
        #expect(Self.missingDirections(forest.trees) == [true, false])
        let x = Self.testRows(forest.trees, seed: 5)
        let batch = forest.predictProbabilities(x)
        let scale = 1 / Double(forest.trees.count)
        var expected = [Double](), rowByRow = [Double]()
        var out = [Double](repeating: 0, count: 3)
        for r in 0..<x.rows {
            expected += Self.walk(forest.trees, x.row(r), outputs: 3, start: [0, 0, 0]).map { $0 * scale }
            out.withUnsafeMutableBufferPointer { forest.predictProbabilities(row: x.row(r), into: $0) }
            rowByRow += out
        }
        #expect(Self.differences(batch.values, expected) == 0)
        #expect(Self.differences(rowByRow, expected) == 0)
        // Fewer than 16 rows take the row-by-row path.
        let few = Matrix(rows: 5, columns: 6, values: Array(x.values[0..<30]))
        #expect(Self.differences(forest.predictProbabilities(few).values, Array(batch.values[0..<15])) == 0)
    }

    @Test(arguments: [1, 2])
    func forestRegressorMatchesThePlainWalk(threads: Int) throws {
        let train = Self.data(rows: 800, seed: 11)
        var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 21, seed: 4), threadCount: threads)
        try forest.fit(train.x, train.targets)
        #expect(Self.missingDirections(forest.trees) == [true, false])
        let x = Self.testRows(forest.trees, seed: 6)
        let expected = (0..<x.rows).map { Self.walk(forest.trees, x.row($0), outputs: 1, start: [0])[0] / Double(forest.trees.count) }
        #expect(Self.differences(forest.predict(x), expected) == 0)
        #expect(Self.differences((0..<x.rows).map { forest.predict(row: x.row($0)) }, expected) == 0)
    }

    @Test func decisionTreesMatchThePlainWalk() throws {
        let train = Self.data(rows: 800, seed: 21)
        var classifier = DecisionTreeClassifier()
        try classifier.fit(train.x, train.classes, classCount: 3)
        var regressor = DecisionTreeRegressor()
        try regressor.fit(train.x, train.targets)
        #expect(Self.missingDirections([classifier.tree, regressor.tree]) == [true, false])
        let x = Self.testRows([classifier.tree, regressor.tree], seed: 7)
        let probabilities = (0..<x.rows).flatMap { r in
            let leaf = classifier.tree.leaf(for: x.row(r))
            return classifier.tree.values[(leaf * 3)..<(leaf * 3 + 3)]
        }
        #expect(Self.differences(classifier.predictProbabilities(x).values, probabilities) == 0)
        let values = (0..<x.rows).map { regressor.tree.values[regressor.tree.leaf(for: x.row($0))] }
        #expect(Self.differences(regressor.predict(x), values) == 0)
        #expect(Self.differences((0..<x.rows).map { regressor.predict(row: x.row($0)) }, values) == 0)
    }

    @Test(arguments: [1, 2])
    func boostingMatchesThePlainWalk(threads: Int) throws {
        let train = Self.data(rows: 800, seed: 31)
        let params = HistGradientBoostingHyperparameters(maxIterations: 20, earlyStopping: .off)
        for classCount in [2, 3] {
            var model = HistGradientBoostingClassifier(params, threadCount: threads)
            try model.fit(train.x, train.classes.map { min($0, classCount - 1) }, classCount: classCount)
            let trees = model.ensemble.trees.flatMap { $0 }
            #expect(Self.missingDirections(trees) == [true, false])
            let x = Self.testRows(trees, seed: 8)
            var expected = [Double](), rowByRow = [Double]()
            var out = [Double](repeating: 0, count: classCount)
            for r in 0..<x.rows {
                let raw = Self.walk(trees, x.row(r), outputs: 1, start: model.ensemble.baseline)
                if classCount == 2 {
                    let p = 1 / (1 + Foundation.exp(-raw[0]))
                    expected += [1 - p, p]
                } else {
                    let top = raw.max() ?? 0
                    let e = raw.map { Foundation.exp($0 - top) }
                    var sum = 0.0
                    for v in e { sum += v }
                    expected += e.map { $0 / sum }
                }
                out.withUnsafeMutableBufferPointer { model.predictProbabilities(row: x.row(r), into: $0) }
                rowByRow += out
            }
            #expect(Self.differences(model.predictProbabilities(x).values, expected) == 0)
            #expect(Self.differences(rowByRow, expected) == 0)
        }
        var regressor = HistGradientBoostingRegressor(params, threadCount: threads)
        try regressor.fit(train.x, train.targets)
        let trees = regressor.ensemble.trees.flatMap { $0 }
        let x = Self.testRows(trees, seed: 9)
        let expected = (0..<x.rows).map { Self.walk(trees, x.row($0), outputs: 1, start: regressor.ensemble.baseline)[0] }
        var raw = [0.0]
        let viaRaw = (0..<x.rows).map { r in
            x.row(r).withUnsafeBufferPointer { row in raw.withUnsafeMutableBufferPointer { regressor.ensemble.raw(row: row, into: $0) } }
            return raw[0]
        }
        #expect(Self.differences(viaRaw, expected) == 0)
        #expect(Self.differences(regressor.predict(x), expected) == 0)
        #expect(Self.differences((0..<x.rows).map { regressor.predict(row: x.row($0)) }, expected) == 0)
    }

    /// Decoded trees may hold what fitting never makes: NaN and infinite thresholds, a root leaf.
    @Test func decodedEdgeCasesMatchThePlainWalk() throws {
        let train = Self.data(rows: 300, seed: 41)
        var forest = RandomForestRegressor(RandomForestHyperparameters(treeCount: 17, seed: 2), threadCount: 1)
        try forest.fit(train.x, train.targets)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var object = try #require(JSONSerialization.jsonObject(with: encoder.encode(forest)) as? [String: Any])
        var trees = try #require(object["trees"] as? [[String: Any]])
        var random = SeededRandom(seed: 9)
        for t in trees.indices {
            var threshold = try #require(trees[t]["threshold"] as? [Any])
            var missing = try #require(trees[t]["missingGoesLeft"] as? [Bool])
            let feature = try #require(trees[t]["feature"] as? [Int])
            for i in feature.indices where feature[i] >= 0 {
                switch random.below(8) {
                case 0: threshold[i] = "nan"
                case 1: threshold[i] = "inf"
                case 2: threshold[i] = "-inf"
                default: break
                }
                missing[i] = random.below(2) == 0
            }
            trees[t]["threshold"] = threshold
            trees[t]["missingGoesLeft"] = missing
        }
        // The last tree is a single leaf.
        trees[trees.count - 1] = ["feature": [-1], "threshold": [0], "left": [-1], "right": [-1], "missingGoesLeft": [false],
                                  "values": [0.25], "outputCount": 1]
        object["trees"] = trees
        let edited = try decoder.decode(RandomForestRegressor.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(edited.trees.contains { $0.threshold.contains(where: \.isNaN) })
        let x = Self.testRows(edited.trees, seed: 10)
        let expected = (0..<x.rows).map { Self.walk(edited.trees, x.row($0), outputs: 1, start: [0])[0] / Double(edited.trees.count) }
        #expect(Self.differences(edited.predict(x), expected) == 0)
        #expect(Self.differences((0..<x.rows).map { edited.predict(row: x.row($0)) }, expected) == 0)
    }

    @Test func decodingRejectsSharedNodesAndMismatchedOutputs() throws {
        // Node 1 is both children of node 0: not a tree.
        let shared = #"{"feature":[0,-1,-1],"threshold":[0.5,0,0],"left":[1,-1,-1],"right":[1,-1,-1],"missingGoesLeft":[true,false,false],"values":[1,2,3],"outputCount":1}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TreeNodes.self, from: Data(shared.utf8)) }
        let train = Self.data(rows: 200, seed: 51)
        var forest = RandomForestClassifier(RandomForestHyperparameters(treeCount: 3, seed: 1), threadCount: 1)
        try forest.fit(train.x, train.classes, classCount: 3)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(forest), as: UTF8.self)
        let decoded = try JSONDecoder().decode(RandomForestClassifier.self, from: Data(json.utf8))
        #expect(try encoder.encode(decoded) == Data(json.utf8))
        #expect(decoded.predictProbabilities(train.x) == forest.predictProbabilities(train.x))
        // Trees answering 3 values per leaf under a 2-class header would read past their values.
        let wrong = json.replacingOccurrences(of: #""classCount":3"#, with: #""classCount":2"#)
        #expect(wrong != json)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RandomForestClassifier.self, from: Data(wrong.utf8)) }
    }
}
