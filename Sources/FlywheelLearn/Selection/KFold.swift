import FlywheelCore

/// k-fold cross-validation: the rows cut into `foldCount` nearly equal parts, each held out once.
///
/// Without shuffling the parts are consecutive runs of rows; with it, rows are first permuted by
/// a generator seeded with `seed`. The first `n mod k` folds hold one row more than the rest.
///
/// ```swift
/// for fold in try KFold(foldCount: 5, shuffle: true, seed: 7).splits(rowCount: x.rows) { … }
/// ```
public struct KFold: Codable, Hashable, Sendable {
    /// The number of folds, at least 2.
    public var foldCount: Int
    /// Permute the rows before cutting them.
    public var shuffle: Bool
    /// Fixes the permutation when `shuffle` is on.
    public var seed: UInt64

    public init(foldCount: Int = 5, shuffle: Bool = false, seed: UInt64 = 0) {
        self.foldCount = foldCount
        self.shuffle = shuffle
        self.seed = seed
    }

    /// The folds of `rowCount` rows, in order.
    public func splits(rowCount: Int) throws -> [Fold] {
        guard foldCount >= 2 else { throw FlywheelError.invalidArgument("k-fold needs at least 2 folds, got \(foldCount)") }
        guard rowCount >= foldCount else {
            throw FlywheelError.invalidArgument("cannot cut \(rowCount) rows into \(foldCount) folds")
        }
        var rows = Array(0..<rowCount)
        if shuffle {
            var rng = SeededRandom(seed: seed)
            rng.shuffle(&rows)
        }
        var folds = [Fold]()
        var start = 0
        for f in 0..<foldCount {
            let size = rowCount / foldCount + (f < rowCount % foldCount ? 1 : 0)
            let test = rows[start..<(start + size)]
            let train = rows[..<start] + rows[(start + size)...]
            folds.append(Fold(train: train.sorted(), test: test.sorted()))
            start += size
        }
        return folds
    }
}
