import FlywheelCore
import Foundation

/// L2-regularized logistic regression: a sigmoid for two classes, a softmax (multinomial) for more.
///
/// It minimizes `½‖W‖² + C · Σᵢ loss(xᵢ, yᵢ)` over the coefficients `W`, leaving the intercepts
/// unpenalized — scikit-learn's `LogisticRegression(penalty="l2")` objective — with L-BFGS until
/// the largest gradient component of the per-row-averaged objective is below `tolerance`.
/// Features should be on comparable scales (standardize first) for fast convergence.
///
/// ```swift
/// var model = LogisticRegression(hyperparameters: .init(c: 1.0, maxIterations: 1000))
/// try model.fit(x, labels, classCount: 3)
/// let probabilities = model.predictProbabilities(xNew)
/// ```
public struct LogisticRegression: Classifier, Hashable {
    /// Settings of a logistic regression.
    public struct Hyperparameters: Codable, Hashable, Sendable {
        /// Inverse regularization strength: larger means a weaker L2 penalty.
        public var c: Double
        /// Upper bound on L-BFGS iterations.
        public var maxIterations: Int
        /// Convergence threshold on the largest absolute gradient component of
        /// `mean loss + ‖W‖² / (2·C·n)` (scikit-learn's `tol`).
        public var tolerance: Double
        /// Fit one unpenalized intercept per class.
        public var fitIntercept: Bool

        public init(c: Double = 1.0, maxIterations: Int = 100, tolerance: Double = 1e-4, fitIntercept: Bool = true) {
            self.c = c
            self.maxIterations = maxIterations
            self.tolerance = tolerance
            self.fitIntercept = fitIntercept
        }
    }

    public var hyperparameters: Hyperparameters
    /// Coefficients: one row for a binary model (the log-odds of class 1), one row per class otherwise.
    public private(set) var coefficients = Matrix(rows: 0, columns: 0)
    /// Intercepts, one per coefficient row.
    public private(set) var intercepts: [Double] = []
    /// The number of classes seen at `fit`.
    public private(set) var classCount = 0
    /// L-BFGS iterations the last `fit` took.
    public private(set) var iterations = 0
    /// Whether the last `fit` met the tolerance within `maxIterations`.
    public private(set) var converged = false

    public init(hyperparameters: Hyperparameters = .init()) {
        self.hyperparameters = hyperparameters
    }

    /// Fits on `x` (no missing values) and class indices `y` in `0..<classCount`.
    public mutating func fit(_ x: Matrix, _ y: [Int], classCount: Int) throws {
        guard x.rows == y.count else {
            throw FlywheelError.invalidArgument("x has \(x.rows) rows but y has \(y.count) labels")
        }
        guard x.rows > 0 else { throw FlywheelError.invalidArgument("cannot fit on zero rows") }
        guard classCount >= 1 else { throw FlywheelError.invalidArgument("classCount must be at least 1") }
        guard hyperparameters.c > 0, hyperparameters.c.isFinite else {
            throw FlywheelError.invalidArgument("C must be a finite number > 0")
        }
        if let bad = y.first(where: { $0 < 0 || $0 >= classCount }) {
            throw FlywheelError.invalidArgument("label \(bad) is outside 0..<\(classCount)")
        }
        if x.values.contains(where: { !$0.isFinite }) {
            throw FlywheelError.invalidArgument("logistic regression needs finite values; impute missing values first")
        }
        self.classCount = classCount
        let p = x.columns
        let k = classCount == 2 ? 1 : classCount
        if classCount == 1 {
            coefficients = Matrix(rows: 1, columns: p)
            intercepts = [0]
            iterations = 0
            converged = true
            return
        }
        let stride = p + 1
        let n = x.rows
        let penalty = 1 / (hyperparameters.c * Double(n))
        let fitIntercept = hyperparameters.fitIntercept
        let xs = x.values
        let objective: ([Double], inout [Double]) -> Double = { w, grad in
            Self.lossAndGradient(
                w: w, grad: &grad, x: xs, y: y, rows: n, features: p, outputs: k,
                penalty: penalty, fitIntercept: fitIntercept)
        }
        var solver = LBFGS()
        solver.maxIterations = hyperparameters.maxIterations
        solver.gradientTolerance = hyperparameters.tolerance
        let result = solver.minimize(from: [Double](repeating: 0, count: k * stride), objective)
        var coef = Matrix(rows: k, columns: p)
        var b = [Double](repeating: 0, count: k)
        for j in 0..<k {
            for c in 0..<p { coef[j, c] = result.x[j * stride + c] }
            b[j] = fitIntercept ? result.x[j * stride + p] : 0
        }
        coefficients = coef
        intercepts = b
        iterations = result.iterations
        converged = result.converged
    }

    /// One row per input row, one column per class.
    public func predictProbabilities(_ x: Matrix) -> Matrix {
        precondition(classCount > 0, "predict before fit")
        precondition(x.columns == coefficients.columns, "the model was fitted on \(coefficients.columns) features, not \(x.columns)")
        var out = Matrix(rows: x.rows, columns: classCount)
        if classCount == 1 {
            for r in 0..<x.rows { out[r, 0] = 1 }
            return out
        }
        let k = coefficients.rows
        var z = [Double](repeating: 0, count: k)
        for r in 0..<x.rows {
            for j in 0..<k {
                var s = intercepts[j]
                for (c, v) in x.row(r).enumerated() { s += v * coefficients[j, c] }
                z[j] = s
            }
            if classCount == 2 {
                let p1 = Self.sigmoid(z[0])
                out[r, 0] = 1 - p1
                out[r, 1] = p1
            } else {
                let m = z.max() ?? 0
                var total = 0.0
                for j in 0..<k { z[j] = exp(z[j] - m); total += z[j] }
                for j in 0..<k { out[r, j] = z[j] / total }
            }
        }
        return out
    }

    static func sigmoid(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
    }

    /// log(1 + eᶻ) without overflow.
    static func softplus(_ z: Double) -> Double {
        z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
    }

    /// The averaged loss `mean(loss) + penalty/2 · ‖W‖²` and its gradient; `w` holds `outputs`
    /// blocks of `features` coefficients followed by the intercept.
    static func lossAndGradient(
        w: [Double], grad: inout [Double], x: [Double], y: [Int], rows n: Int, features p: Int,
        outputs k: Int, penalty: Double, fitIntercept: Bool
    ) -> Double {
        let stride = p + 1
        var loss = 0.0
        for i in 0..<grad.count { grad[i] = 0 }
        var z = [Double](repeating: 0, count: k)
        w.withUnsafeBufferPointer { W in
            x.withUnsafeBufferPointer { X in
                grad.withUnsafeMutableBufferPointer { G in
                    z.withUnsafeMutableBufferPointer { Z in
                        for r in 0..<n {
                            let row = r * p
                            for j in 0..<k {
                                let wb = j * stride
                                var s = fitIntercept ? W[wb + p] : 0
                                for c in 0..<p { s += X[row + c] * W[wb + c] }
                                Z[j] = s
                            }
                            if k == 1 {
                                let target = y[r] == 1 ? 1.0 : 0.0
                                loss += softplus(Z[0]) - target * Z[0]
                                let e = sigmoid(Z[0]) - target
                                for c in 0..<p { G[c] += e * X[row + c] }
                                G[p] += e
                            } else {
                                var m = -Double.infinity
                                for j in 0..<k { m = max(m, Z[j]) }
                                var total = 0.0
                                for j in 0..<k { total += exp(Z[j] - m) }
                                let logTotal = m + log(total)
                                loss += logTotal - Z[y[r]]
                                for j in 0..<k {
                                    let e = exp(Z[j] - logTotal) - (y[r] == j ? 1 : 0)
                                    let gb = j * stride
                                    for c in 0..<p { G[gb + c] += e * X[row + c] }
                                    G[gb + p] += e
                                }
                            }
                        }
                    }
                }
            }
        }
        let inv = 1 / Double(n)
        var norm2 = 0.0
        for j in 0..<k {
            for c in 0..<p {
                let i = j * stride + c
                norm2 += w[i] * w[i]
                grad[i] = grad[i] * inv + penalty * w[i]
            }
            grad[j * stride + p] = fitIntercept ? grad[j * stride + p] * inv : 0
        }
        return loss * inv + 0.5 * penalty * norm2
    }
}
