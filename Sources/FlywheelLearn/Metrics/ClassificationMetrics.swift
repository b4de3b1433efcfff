import FlywheelCore
import Foundation

/// Classification metrics over class indices, equal to scikit-learn's on the same inputs.
///
/// Where a score divides by zero (precision of a class never predicted, recall of a class never
/// present) it is 0, scikit-learn's default `zero_division="warn"` result.
///
/// ```swift
/// let f1 = try ClassificationMetrics.f1(yTrue: y, yPred: model.predict(x), average: .macro)
/// ```
public enum ClassificationMetrics: Sendable {
    /// The fraction of rows predicted correctly.
    public static func accuracy(yTrue: [Int], yPred: [Int]) -> Double {
        precondition(yTrue.count == yPred.count, "yTrue and yPred must have the same length")
        guard !yTrue.isEmpty else { return 0 }
        let right = zip(yTrue, yPred).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(right) / Double(yTrue.count)
    }

    /// The mean recall over the classes present in `yTrue` (robust to class imbalance).
    public static func balancedAccuracy(yTrue: [Int], yPred: [Int]) -> Double {
        let cm = ConfusionMatrix(yTrue: yTrue, yPred: yPred)
        let support = cm.support
        let tp = cm.truePositives
        var sum = 0.0
        var present = 0
        for i in 0..<cm.labels.count where support[i] > 0 {
            sum += Double(tp[i]) / Double(support[i])
            present += 1
        }
        return present == 0 ? 0 : sum / Double(present)
    }

    /// Precision, recall and F1 together.
    public struct Scores: Hashable, Sendable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
    }

    /// Precision, recall and F1 averaged as asked.
    ///
    /// - Parameters:
    ///   - labels: classes to score; nil means every class appearing in `yTrue` or `yPred`.
    ///   - positiveLabel: the class scored when `average == .binary`.
    /// - Throws: `invalidArgument` for `.binary` when more than two classes appear.
    public static func scores(
        yTrue: [Int], yPred: [Int], average: Averaging, labels: [Int]? = nil, positiveLabel: Int = 1
    ) throws -> Scores {
        precondition(yTrue.count == yPred.count, "yTrue and yPred must have the same length")
        let present = Set(yTrue).union(yPred)
        let chosen: [Int]
        if average == .binary {
            if present.count > 2 {
                throw FlywheelError.invalidArgument(
                    "binary averaging needs at most two classes, found \(present.count); use micro, macro or weighted")
            }
            if present.count == 2 && !present.contains(positiveLabel) {
                throw FlywheelError.invalidArgument("positive label \(positiveLabel) is not one of the two classes present")
            }
            chosen = [positiveLabel]
        } else {
            chosen = labels ?? present.sorted()
        }
        let cm = ConfusionMatrix(yTrue: yTrue, yPred: yPred, labels: Array(present.union(chosen)).sorted())
        let index = Dictionary(uniqueKeysWithValues: cm.labels.enumerated().map { ($1, $0) })
        let allTP = cm.truePositives, allSupport = cm.support, allPredicted = cm.predictedCounts
        // invariant: every chosen label was added to the confusion matrix's labels just above.
        var tp = chosen.map { Double(allTP[index[$0]!]) }
        var support = chosen.map { Double(allSupport[index[$0]!]) }
        var predicted = chosen.map { Double(allPredicted[index[$0]!]) }
        if average == .micro {
            tp = [tp.reduce(0, +)]
            support = [support.reduce(0, +)]
            predicted = [predicted.reduce(0, +)]
        }
        func divide(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }
        let precision = zip(tp, predicted).map { divide($0, $1) }
        let recall = zip(tp, support).map { divide($0, $1) }
        let f1 = (0..<tp.count).map { divide(2 * tp[$0], support[$0] + predicted[$0]) }
        func fold(_ values: [Double]) -> Double {
            switch average {
            case .binary, .micro:
                return values.first ?? 0
            case .macro:
                return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
            case .weighted:
                let total = support.reduce(0, +)
                guard total > 0 else { return 0 }
                return zip(values, support).reduce(0) { $0 + $1.0 * $1.1 } / total
            }
        }
        return Scores(precision: fold(precision), recall: fold(recall), f1: fold(f1))
    }

    /// Precision: of the rows predicted as a class, the fraction that truly are.
    public static func precision(yTrue: [Int], yPred: [Int], average: Averaging, labels: [Int]? = nil, positiveLabel: Int = 1) throws -> Double {
        try scores(yTrue: yTrue, yPred: yPred, average: average, labels: labels, positiveLabel: positiveLabel).precision
    }

    /// Recall: of the rows of a class, the fraction predicted as it.
    public static func recall(yTrue: [Int], yPred: [Int], average: Averaging, labels: [Int]? = nil, positiveLabel: Int = 1) throws -> Double {
        try scores(yTrue: yTrue, yPred: yPred, average: average, labels: labels, positiveLabel: positiveLabel).recall
    }

    /// F1: the harmonic mean of precision and recall, `2·TP / (2·TP + FP + FN)` per class.
    public static func f1(yTrue: [Int], yPred: [Int], average: Averaging, labels: [Int]? = nil, positiveLabel: Int = 1) throws -> Double {
        try scores(yTrue: yTrue, yPred: yPred, average: average, labels: labels, positiveLabel: positiveLabel).f1
    }

    /// Mean cross-entropy of the true classes under `probabilities` (one column per class
    /// index), each probability clipped to `[ε, 1 − ε]` with ε the `Double` machine epsilon,
    /// as scikit-learn clips.
    public static func logLoss(yTrue: [Int], probabilities: Matrix) throws -> Double {
        guard yTrue.count == probabilities.rows else {
            throw FlywheelError.invalidArgument("\(yTrue.count) labels but \(probabilities.rows) probability rows")
        }
        guard !yTrue.isEmpty else { throw FlywheelError.invalidArgument("log loss of zero rows") }
        let eps = Double.ulpOfOne
        var total = 0.0
        for (r, t) in yTrue.enumerated() {
            guard t >= 0 && t < probabilities.columns else {
                throw FlywheelError.invalidArgument("label \(t) has no probability column")
            }
            let p = min(max(probabilities[r, t], eps), 1 - eps)
            total -= log(p)
        }
        return total / Double(yTrue.count)
    }
}
