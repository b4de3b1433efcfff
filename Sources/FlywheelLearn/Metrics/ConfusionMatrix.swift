/// Counts of (true class, predicted class) pairs: `counts[t][p]` rows of class `t` predicted as `p`.
///
/// The basis of every per-class classification metric; laid out as scikit-learn's
/// `confusion_matrix` (rows true, columns predicted), over `labels` in the given order.
public struct ConfusionMatrix: Codable, Hashable, Sendable {
    /// The class indices the rows and columns stand for, in order.
    public let labels: [Int]
    /// `counts[i][j]`: rows whose true class is `labels[i]` and predicted class is `labels[j]`.
    public let counts: [[Int]]

    /// Tallies `yTrue` against `yPred` over `labels`; pairs with a class outside `labels` are skipped.
    /// `labels == nil` means every class appearing in either array, ascending.
    public init(yTrue: [Int], yPred: [Int], labels: [Int]? = nil) {
        precondition(yTrue.count == yPred.count, "yTrue and yPred must have the same length")
        let labels = labels ?? Array(Set(yTrue).union(yPred)).sorted()
        var position = [Int: Int]()
        for (i, l) in labels.enumerated() where position[l] == nil { position[l] = i }
        var counts = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (t, p) in zip(yTrue, yPred) {
            guard let i = position[t], let j = position[p] else { continue }
            counts[i][j] += 1
        }
        self.labels = labels
        self.counts = counts
    }

    /// Correct predictions of each label (the diagonal).
    public var truePositives: [Int] { (0..<labels.count).map { counts[$0][$0] } }
    /// Rows whose true class is each label (row sums).
    public var support: [Int] { counts.map { $0.reduce(0, +) } }
    /// Rows predicted as each label (column sums).
    public var predictedCounts: [Int] { (0..<labels.count).map { j in counts.reduce(0) { $0 + $1[j] } } }
}
