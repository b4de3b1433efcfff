/// Regression metrics, equal to scikit-learn's on the same inputs.
public enum RegressionMetrics: Sendable {
    /// Mean squared error.
    public static func meanSquaredError(yTrue: [Double], yPred: [Double]) -> Double {
        precondition(yTrue.count == yPred.count && !yTrue.isEmpty, "need equal, non-empty arrays")
        return zip(yTrue, yPred).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(yTrue.count)
    }

    /// Root of the mean squared error, in the target's units.
    public static func rootMeanSquaredError(yTrue: [Double], yPred: [Double]) -> Double {
        meanSquaredError(yTrue: yTrue, yPred: yPred).squareRoot()
    }

    /// Mean absolute error.
    public static func meanAbsoluteError(yTrue: [Double], yPred: [Double]) -> Double {
        precondition(yTrue.count == yPred.count && !yTrue.isEmpty, "need equal, non-empty arrays")
        return zip(yTrue, yPred).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(yTrue.count)
    }

    /// Coefficient of determination: 1 − SS_res / SS_tot. A constant `yTrue` gives 1 for a perfect
    /// prediction and 0 otherwise (scikit-learn's `force_finite`).
    public static func r2(yTrue: [Double], yPred: [Double]) -> Double {
        precondition(yTrue.count == yPred.count && !yTrue.isEmpty, "need equal, non-empty arrays")
        let mean = yTrue.reduce(0, +) / Double(yTrue.count)
        let ssTot = yTrue.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let ssRes = zip(yTrue, yPred).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        if ssTot == 0 { return ssRes == 0 ? 1 : 0 }
        return 1 - ssRes / ssTot
    }
}
