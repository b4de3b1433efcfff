/// How a per-class score is folded into one number.
public enum Averaging: String, Codable, Hashable, Sendable, CaseIterable {
    /// The score of the positive class only (two-class problems).
    case binary
    /// Pool true/false positives over classes, then score.
    case micro
    /// Unweighted mean of the per-class scores.
    case macro
    /// Mean of the per-class scores weighted by each class's true count (support).
    case weighted
}
