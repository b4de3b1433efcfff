import FlywheelLearn
import Foundation
import Testing

/// A fixture dataset split as scikit-learn's reference script split it.
struct TreeFixtureDataset {
    var trainX: Matrix
    var testX: Matrix
    /// Class indices (labels sorted as strings, as scikit-learn's `classes_`) for classification.
    var trainClasses: [Int] = []
    var testClasses: [Int] = []
    var classCount = 0
    /// Targets for regression.
    var trainTargets: [Double] = []
    var testTargets: [Double] = []
}

/// Test-only loader for the numeric fixture CSVs (header, features, label last).
enum TreeFixtures {
    static func directory() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    }

    static func load(_ name: String, regression: Bool = false) throws -> TreeFixtureDataset {
        let dir = try directory().appendingPathComponent("data")
        let text = try String(contentsOf: dir.appendingPathComponent("\(name).csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        lines.removeFirst()
        var features = [[Double]]()
        var labels = [String]()
        for line in lines where !line.isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            features.append(try fields.dropLast().map { try #require(Double($0)) })
            labels.append(try #require(fields.last))
        }
        let testText = try String(contentsOf: dir.appendingPathComponent("\(name).test_idx.txt"), encoding: .utf8)
        let testRows = try testText.split(whereSeparator: \.isNewline).map { try #require(Int($0)) }
        let testSet = Set(testRows)
        let trainRows = (0..<features.count).filter { !testSet.contains($0) }
        let x = Matrix(features)
        var ds = TreeFixtureDataset(trainX: x.selecting(rows: trainRows), testX: x.selecting(rows: testRows))
        if regression {
            let y = try labels.map { try #require(Double($0)) }
            ds.trainTargets = trainRows.map { y[$0] }
            ds.testTargets = testRows.map { y[$0] }
        } else {
            let classes = Array(Set(labels)).sorted()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            ds.classCount = classes.count
            ds.trainClasses = trainRows.map { index[labels[$0]] ?? -1 }
            ds.testClasses = testRows.map { index[labels[$0]] ?? -1 }
        }
        return ds
    }

    /// scikit-learn's score (accuracy or R²) for `estimator` on `dataset`: for randomized
    /// estimators its mean over 20 seeds (`seed_mean`), which is what a seed-averaged score of
    /// ours compares with; otherwise its one deterministic score.
    static func reference(_ task: String, _ dataset: String, _ estimator: String) throws -> Double {
        let data = try Data(contentsOf: directory().appendingPathComponent("sklearn_reference.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tasks = try #require(root[task] as? [String: Any])
        let sets = try #require(tasks[dataset] as? [String: Any])
        let entry = try #require(sets[estimator] as? [String: Any])
        return try #require((entry["seed_mean"] ?? entry["accuracy"] ?? entry["r2"]) as? Double)
    }

    static func accuracy(_ predicted: [Int], _ truth: [Int]) -> Double {
        Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
    }

    static func r2(_ predicted: [Double], _ truth: [Double]) -> Double {
        let mean = truth.reduce(0, +) / Double(truth.count)
        let residual = zip(predicted, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let total = truth.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return 1 - residual / total
    }

    static let classificationSets = ["iris", "wine", "breast_cancer", "digits"]
    /// Seeds averaged over for randomized learners, so no lucky seed decides a parity test.
    static let seeds: [UInt64] = [0, 1, 2, 3, 4]

    /// Seeds for an expensive learner: all five on a small test set (one iris row is 2.6 points),
    /// two where one row moves the score by under a point (breast_cancer, digits, diabetes).
    static func seeds(testRows: Int) -> [UInt64] { testRows < 100 ? seeds : Array(seeds.prefix(2)) }
}
