import FlywheelCore

extension ClassificationMetrics {
    /// Area under the ROC curve for a two-class problem: the trapezoid rule over the curve's
    /// points at each distinct score, so tied scores count as half right (scikit-learn's value).
    ///
    /// - Parameters:
    ///   - scores: higher means more likely `positiveLabel`.
    /// - Throws: `invalidArgument` when `yTrue` holds only one class (the area is undefined).
    public static func rocAUC(yTrue: [Int], scores: [Double], positiveLabel: Int = 1) throws -> Double {
        guard yTrue.count == scores.count else {
            throw FlywheelError.invalidArgument("\(yTrue.count) labels but \(scores.count) scores")
        }
        if scores.contains(where: { $0.isNaN }) { throw FlywheelError.invalidArgument("ROC AUC scores contain NaN") }
        let positives = yTrue.reduce(0) { $0 + ($1 == positiveLabel ? 1 : 0) }
        let negatives = yTrue.count - positives
        guard positives > 0, negatives > 0 else {
            throw FlywheelError.invalidArgument("ROC AUC is undefined when only one class is present in yTrue")
        }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0.0, fp = 0.0
        var prevTP = 0.0, prevFP = 0.0
        var area = 0.0
        var i = 0
        while i < order.count {
            let s = scores[order[i]]
            // Every row with this score crosses the threshold together.
            while i < order.count && scores[order[i]] == s {
                if yTrue[order[i]] == positiveLabel { tp += 1 } else { fp += 1 }
                i += 1
            }
            area += (fp - prevFP) * (tp + prevTP) / 2
            prevTP = tp
            prevFP = fp
        }
        return area / (Double(positives) * Double(negatives))
    }

    /// One-vs-rest ROC AUC for `probabilities` with one column per class index: each class
    /// against the rest, averaged `.macro` or `.weighted` by support (scikit-learn's
    /// `roc_auc_score(multi_class="ovr")`). With two columns it is the binary AUC of column 1.
    ///
    /// - Throws: `invalidArgument` when a class has no row in `yTrue` or the average is not
    ///   macro or weighted.
    public static func rocAUC(yTrue: [Int], probabilities: Matrix, average: Averaging = .macro) throws -> Double {
        guard yTrue.count == probabilities.rows else {
            throw FlywheelError.invalidArgument("\(yTrue.count) labels but \(probabilities.rows) probability rows")
        }
        let k = probabilities.columns
        if k == 2 {
            return try rocAUC(yTrue: yTrue, scores: (0..<probabilities.rows).map { probabilities[$0, 1] }, positiveLabel: 1)
        }
        guard average == .macro || average == .weighted else {
            throw FlywheelError.invalidArgument("one-vs-rest ROC AUC averages macro or weighted, not \(average.rawValue)")
        }
        var support = [Int](repeating: 0, count: k)
        for t in yTrue {
            guard t >= 0 && t < k else { throw FlywheelError.invalidArgument("label \(t) has no probability column") }
            support[t] += 1
        }
        if let missing = support.firstIndex(of: 0) {
            throw FlywheelError.invalidArgument("class \(missing) has no row in yTrue; one-vs-rest ROC AUC needs every class")
        }
        var sum = 0.0
        for c in 0..<k {
            let auc = try rocAUC(yTrue: yTrue.map { $0 == c ? 1 : 0 }, scores: (0..<probabilities.rows).map { probabilities[$0, c] })
            sum += average == .weighted ? auc * Double(support[c]) : auc
        }
        return average == .weighted ? sum / Double(yTrue.count) : sum / Double(k)
    }
}
