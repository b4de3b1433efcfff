import FlywheelCore
import Foundation
import FlywheelLearn
import Testing

@Suite struct LinearLogisticRegressionTests {
    static func referenceAccuracy(_ name: String) throws -> Double {
        let all = try LinearFixtures.json("sklearn_reference.json")
        let cls = try #require((all["classification"] as? [String: Any])?[name] as? [String: Any])
        return try #require((cls["logistic_regression"] as? [String: Any])?["accuracy"] as? Double)
    }

    static func fitStandardized(_ name: String, maxIterations: Int = 1000, tolerance: Double = 1e-4) throws
        -> (model: LogisticRegression, xTest: Matrix, yTest: [Int])
    {
        let data = try LinearFixtures.dataset(name)
        let (y, classes) = data.classIndices
        let xTrainRaw = data.x.selecting(rows: data.trainRows)
        let xTrain = LinearFixtures.standardize(xTrainRaw, using: xTrainRaw)
        let xTest = LinearFixtures.standardize(data.x.selecting(rows: data.testRows), using: xTrainRaw)
        var model = LogisticRegression(hyperparameters: .init(c: 1, maxIterations: maxIterations, tolerance: tolerance))
        try model.fit(xTrain, data.trainRows.map { y[$0] }, classCount: classes.count)
        return (model, xTest, data.testRows.map { y[$0] })
    }

    @Test(arguments: ["iris", "wine", "breast_cancer", "digits"])
    func accuracyParity(name: String) throws {
        let (model, xTest, yTest) = try Self.fitStandardized(name)
        let accuracy = ClassificationMetrics.accuracy(yTrue: yTest, yPred: model.predict(xTest))
        let reference = try Self.referenceAccuracy(name)
        #expect(model.converged)
        #expect(accuracy >= reference - 0.02, "\(name): accuracy \(accuracy) vs scikit-learn \(reference)")
    }

    /// Tightly converged, both solvers must land on the same (unique, strictly convex) optimum.
    @Test(arguments: ["iris", "breast_cancer"])
    func coefficientsMatchScikitLearnAtTheOptimum(name: String) throws {
        let ref = try #require(LinearFixtures.json("linear_reference.json")["logistic_\(name)"] as? [String: Any])
        let coef = try #require(ref["coefficients"] as? [[Double]])
        let intercepts = try #require(ref["intercepts"] as? [Double])
        let firstProbabilities = try #require(ref["test_probabilities_first5"] as? [[Double]])
        let (model, xTest, _) = try Self.fitStandardized(name, maxIterations: 5000, tolerance: 1e-9)
        #expect(model.converged)
        #expect(model.coefficients.rows == coef.count)
        for (j, row) in coef.enumerated() {
            for (c, want) in row.enumerated() {
                #expect(abs(model.coefficients[j, c] - want) < 1e-4, "\(name) coef[\(j),\(c)] \(model.coefficients[j, c]) vs \(want)")
            }
            #expect(abs(model.intercepts[j] - intercepts[j]) < 1e-4)
        }
        let p = model.predictProbabilities(xTest.selecting(rows: Array(0..<5)))
        for r in 0..<5 {
            for c in 0..<p.columns { #expect(abs(p[r, c] - firstProbabilities[r][c]) < 1e-5) }
        }
    }

    @Test func probabilitiesSumToOneAndSeparableDataIsLearned() throws {
        let x = Matrix((0..<40).map { (i: Int) -> [Double] in
            let cls = Double(i % 4)
            let jitter: Double = 0.1 * Double(i / 4)
            return [cls + jitter, -cls]
        })
        let y = (0..<40).map { $0 % 4 }
        var model = LogisticRegression(hyperparameters: .init(c: 100, maxIterations: 500))
        try model.fit(x, y, classCount: 4)
        let p = model.predictProbabilities(x)
        for r in 0..<p.rows { #expect(abs(p.row(r).reduce(0, +) - 1) < 1e-12) }
        #expect(model.predict(x) == y)
    }

    @Test func strongerPenaltyShrinksCoefficients() throws {
        var rng = SeededRandom(seed: 11)
        let x = Matrix((0..<100).map { _ in [rng.unit() * 4 - 2, rng.unit() * 4 - 2] })
        let y = (0..<100).map { x[$0, 0] + 0.5 * x[$0, 1] > 0 ? 1 : 0 }
        var weak = LogisticRegression(hyperparameters: .init(c: 10, maxIterations: 500))
        var strong = LogisticRegression(hyperparameters: .init(c: 0.01, maxIterations: 500))
        try weak.fit(x, y, classCount: 2)
        try strong.fit(x, y, classCount: 2)
        #expect(weak.coefficients.rows == 1)
        #expect(abs(strong.coefficients[0, 0]) < abs(weak.coefficients[0, 0]) / 5)
    }

    @Test func codableRoundTripPredictsTheSame() throws {
        let (model, xTest, _) = try Self.fitStandardized("iris")
        let data = try JSONEncoder().encode(model)
        let back = try JSONDecoder().decode(LogisticRegression.self, from: data)
        #expect(back.predictProbabilities(xTest) == model.predictProbabilities(xTest))
    }
}
