import FlywheelCore

/// k-fold cross-validation that keeps each class's share of rows in every fold.
///
/// The rows of each class (shuffled by `seed` if asked) are dealt to the folds in turn, each class
/// continuing where the previous one stopped, so every fold gets each class's count to within one
/// row and the fold sizes differ by at most one.
///
/// ```swift
/// let folds = try StratifiedKFold(foldCount: 5, shuffle: true, seed: 1).splits(labels: y)
/// ```
public struct StratifiedKFold: Codable, Hashable, Sendable {
    /// The number of folds, at least 2.
    public var foldCount: Int
    /// Shuffle each class's rows before dealing them.
    public var shuffle: Bool
    /// Fixes the shuffle.
    public var seed: UInt64

    public init(foldCount: Int = 5, shuffle: Bool = false, seed: UInt64 = 0) {
        self.foldCount = foldCount
        self.shuffle = shuffle
        self.seed = seed
    }

    /// The folds for rows whose classes are `labels`, in order.
    public func splits(labels: [Int]) throws -> [Fold] {
        guard foldCount >= 2 else { throw FlywheelError.invalidArgument("k-fold needs at least 2 folds, got \(foldCount)") }
        guard labels.count >= foldCount else {
            throw FlywheelError.invalidArgument("cannot cut \(labels.count) rows into \(foldCount) folds")
        }
        var byClass = [Int: [Int]]()
        for (r, l) in labels.enumerated() { byClass[l, default: []].append(r) }
        let root = SeededRandom(seed: seed)
        var assignment = [Int](repeating: 0, count: labels.count)
        var next = 0
        for (i, c) in byClass.keys.sorted().enumerated() {
            var rows = byClass[c, default: []]
            if shuffle {
                var g = root.derived(i)
                g.shuffle(&rows)
            }
            for r in rows {
                assignment[r] = next
                next = (next + 1) % foldCount
            }
        }
        return (0..<foldCount).map { f in
            Fold(
                train: labels.indices.filter { assignment[$0] != f },
                test: labels.indices.filter { assignment[$0] == f })
        }
    }
}
