import FlywheelCore

/// Ordinary least squares, or ridge regression when `alpha > 0`.
///
/// The intercept is never penalized: the data are centered, the slope solved on the centered
/// data, and the intercept recovered from the means — the same problem scikit-learn's
/// `LinearRegression` and `Ridge` solve. The solve goes through QR and an SVD of the triangular
/// factor rather than the normal equations, so collinear features (a full one-hot block beside
/// the intercept) give the minimum-norm OLS answer instead of a failure.
///
/// ```swift
/// var model = LinearRegression(hyperparameters: .init(alpha: 1.0))
/// try model.fit(x, y)
/// let yHat = model.predict(xNew)
/// ```
public struct LinearRegression: Regressor, Hashable {
    /// Settings of a linear regression.
    public struct Hyperparameters: Codable, Hashable, Sendable {
        /// L2 penalty on the coefficients (not the intercept); 0 is ordinary least squares.
        public var alpha: Double
        /// Fit an intercept; when false the model goes through the origin.
        public var fitIntercept: Bool

        public init(alpha: Double = 0, fitIntercept: Bool = true) {
            self.alpha = alpha
            self.fitIntercept = fitIntercept
        }
    }

    public var hyperparameters: Hyperparameters
    /// One coefficient per feature; empty before `fit`.
    public private(set) var coefficients: [Double] = []
    /// The intercept (0 when `fitIntercept` is false).
    public private(set) var intercept: Double = 0

    public init(hyperparameters: Hyperparameters = .init()) {
        self.hyperparameters = hyperparameters
    }

    /// Fits on `x` (no missing values) and targets `y`.
    public mutating func fit(_ x: Matrix, _ y: [Double]) throws {
        guard x.rows == y.count else {
            throw FlywheelError.invalidArgument("x has \(x.rows) rows but y has \(y.count) values")
        }
        guard x.rows > 0 else { throw FlywheelError.invalidArgument("cannot fit on zero rows") }
        guard hyperparameters.alpha >= 0, hyperparameters.alpha.isFinite else {
            throw FlywheelError.invalidArgument("alpha must be a finite number ≥ 0")
        }
        if x.values.contains(where: { !$0.isFinite }) || y.contains(where: { !$0.isFinite }) {
            throw FlywheelError.invalidArgument("linear regression needs finite values; impute missing values first")
        }
        let n = x.rows, p = x.columns
        var xMean = [Double](repeating: 0, count: p)
        var yMean = 0.0
        if hyperparameters.fitIntercept {
            for r in 0..<n {
                for c in 0..<p { xMean[c] += x[r, c] }
                yMean += y[r]
            }
            for c in 0..<p { xMean[c] /= Double(n) }
            yMean /= Double(n)
        }
        var a = [Double](repeating: 0, count: n * p)
        for r in 0..<n {
            for c in 0..<p { a[c * n + r] = x[r, c] - xMean[c] }
        }
        let b = y.map { $0 - yMean }
        let w = LeastSquares.solve(columnMajor: a, rows: n, columns: p, rhs: b, alpha: hyperparameters.alpha)
        coefficients = w
        var dot = 0.0
        for c in 0..<p { dot += xMean[c] * w[c] }
        intercept = hyperparameters.fitIntercept ? yMean - dot : 0
    }

    /// `intercept + x·coefficients` for each row.
    public func predict(_ x: Matrix) -> [Double] {
        precondition(x.columns == coefficients.count, "the model was fitted on \(coefficients.count) features, not \(x.columns)")
        return (0..<x.rows).map { r in
            var s = intercept
            for (c, v) in x.row(r).enumerated() { s += v * coefficients[c] }
            return s
        }
    }
}
