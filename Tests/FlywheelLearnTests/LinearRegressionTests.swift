import FlywheelCore
import Foundation
import FlywheelLearn
import Testing

@Suite struct LinearRegressionTests {
    static func reference(_ key: String) throws -> (coefficients: [Double], intercept: Double, r2: Double) {
        let entry = try #require(LinearFixtures.json("linear_reference.json")[key] as? [String: Any])
        return (
            try #require(entry["coefficients"] as? [Double]), try #require(entry["intercept"] as? Double),
            try #require(entry["test_r2"] as? Double)
        )
    }

    static func sklearnR2(_ key: String) throws -> Double {
        let all = try LinearFixtures.json("sklearn_reference.json")
        let reg = try #require((all["regression"] as? [String: Any])?["diabetes"] as? [String: Any])
        return try #require((reg[key] as? [String: Any])?["r2"] as? Double)
    }

    @Test(arguments: [("linear_regression", 0.0, "linear_regression"), ("ridge_alpha_1", 1.0, "ridge")])
    func diabetesMatchesScikitLearn(key: String, alpha: Double, referenceKey: String) throws {
        let data = try LinearFixtures.dataset("diabetes")
        let y = data.numericTarget
        var model = LinearRegression(hyperparameters: .init(alpha: alpha))
        try model.fit(data.x.selecting(rows: data.trainRows), data.trainRows.map { y[$0] })
        let predicted = model.predict(data.x.selecting(rows: data.testRows))
        let r2 = RegressionMetrics.r2(yTrue: data.testRows.map { y[$0] }, yPred: predicted)
        let ref = try Self.reference(key)
        // The bar is 0.02; a deterministic solver should agree to rounding.
        #expect(abs(r2 - (try Self.sklearnR2(referenceKey))) < 0.02)
        #expect(abs(r2 - ref.r2) < 1e-9, "R² \(r2) vs scikit-learn \(ref.r2)")
        #expect(abs(model.intercept - ref.intercept) < 1e-6 * max(1, abs(ref.intercept)))
        #expect(model.coefficients.count == ref.coefficients.count)
        for (mine, theirs) in zip(model.coefficients, ref.coefficients) {
            #expect(abs(mine - theirs) < 1e-6 * max(1, abs(theirs)), "coefficient \(mine) vs \(theirs)")
        }
    }

    @Test func recoversAnExactLinearFunction() throws {
        var rng = SeededRandom(seed: 3)
        let x = Matrix((0..<50).map { _ in [rng.unit() * 10, rng.unit() - 0.5, rng.unit() * 1000] })
        let y = (0..<50).map { 4 - 2 * x[$0, 0] + 7 * x[$0, 1] + 0.01 * x[$0, 2] }
        var model = LinearRegression()
        try model.fit(x, y)
        #expect(abs(model.intercept - 4) < 1e-9)
        #expect(zip(model.coefficients, [-2, 7, 0.01]).allSatisfy { abs($0 - $1) < 1e-10 })
    }

    @Test func collinearFeaturesGiveTheMinimumNormAnswer() throws {
        // Column 1 duplicates column 0: any split of the slope fits; the minimum-norm one halves it.
        let x = Matrix((0..<20).map { i in [Double(i), Double(i), Double(i % 3)] })
        let y = (0..<20).map { 1 + 3 * Double($0) - Double($0 % 3) }
        var model = LinearRegression()
        try model.fit(x, y)
        #expect(abs(model.coefficients[0] - 1.5) < 1e-9)
        #expect(abs(model.coefficients[1] - 1.5) < 1e-9)
        #expect(abs(model.coefficients[2] + 1) < 1e-9)
        #expect(abs(model.intercept - 1) < 1e-9)
    }

    @Test func ridgeShrinksButDoesNotPenalizeTheIntercept() throws {
        // y = 100 + x: a huge penalty flattens the slope, and the intercept becomes the mean of y.
        let x = Matrix((0..<10).map { [Double($0)] })
        let y = (0..<10).map { 100 + Double($0) }
        var model = LinearRegression(hyperparameters: .init(alpha: 1e12))
        try model.fit(x, y)
        #expect(abs(model.coefficients[0]) < 1e-6)
        #expect(abs(model.intercept - 104.5) < 1e-4)
        // Closed form for one centered feature: slope = Σxy / (Σx² + α).
        var ridge = LinearRegression(hyperparameters: .init(alpha: 5))
        try ridge.fit(x, y)
        #expect(abs(ridge.coefficients[0] - 82.5 / (82.5 + 5)) < 1e-12)
    }

    @Test func rejectsMissingValues() {
        var model = LinearRegression()
        #expect(throws: (any Error).self) { try model.fit(Matrix([[1], [.nan]]), [1, 2]) }
    }
}
