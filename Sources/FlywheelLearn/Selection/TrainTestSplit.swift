import FlywheelCore

/// A seeded split of rows into training and test sets, optionally stratified by class.
///
/// The test set has `⌈testFraction · n⌉` rows. Stratified, each class contributes
/// `⌊test · nᶜ / n⌋` rows plus one more for the classes with the largest remainders, so the
/// class counts in both parts are as proportional as whole rows allow.
///
/// ```swift
/// let fold = try TrainTestSplit(testFraction: 0.25, seed: 42).split(labels: y)
/// let xTrain = x.selecting(rows: fold.train)
/// ```
public struct TrainTestSplit: Codable, Hashable, Sendable {
    /// The share of rows held out, in (0, 1).
    public var testFraction: Double
    /// Fixes which rows go where.
    public var seed: UInt64

    public init(testFraction: Double = 0.25, seed: UInt64 = 0) {
        self.testFraction = testFraction
        self.seed = seed
    }

    private func testCount(_ n: Int) throws -> Int {
        guard testFraction > 0, testFraction < 1 else {
            throw FlywheelError.invalidArgument("testFraction must be between 0 and 1, got \(testFraction)")
        }
        let t = Int((testFraction * Double(n)).rounded(.up))
        guard t >= 1, t < n else {
            throw FlywheelError.invalidArgument("a test fraction of \(testFraction) of \(n) rows leaves an empty part")
        }
        return t
    }

    /// A random split of `rowCount` rows.
    public func split(rowCount: Int) throws -> Fold {
        let t = try testCount(rowCount)
        var rows = Array(0..<rowCount)
        var rng = SeededRandom(seed: seed)
        rng.shuffle(&rows)
        return Fold(train: rows[t...].sorted(), test: rows[..<t].sorted())
    }

    /// A split that keeps each class's share of rows (classes are the values of `labels`).
    public func split(labels: [Int]) throws -> Fold {
        let n = labels.count
        let t = try testCount(n)
        var byClass = [Int: [Int]]()
        for (r, l) in labels.enumerated() { byClass[l, default: []].append(r) }
        let classes = byClass.keys.sorted()
        // Largest-remainder allocation of the test rows to classes.
        var quota = [Int](repeating: 0, count: classes.count)
        var remainders = [(Double, Int)]()
        for (i, c) in classes.enumerated() {
            let exact = Double(t) * Double(byClass[c, default: []].count) / Double(n)
            quota[i] = Int(exact.rounded(.down))
            remainders.append((exact - Double(quota[i]), i))
        }
        remainders.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        var left = t - quota.reduce(0, +)
        for (_, i) in remainders where left > 0 && quota[i] < byClass[classes[i], default: []].count {
            quota[i] += 1
            left -= 1
        }
        let rng = SeededRandom(seed: seed)
        var train = [Int](), test = [Int]()
        for (i, c) in classes.enumerated() {
            var rows = byClass[c, default: []]
            var g = rng.derived(i)
            g.shuffle(&rows)
            test.append(contentsOf: rows[..<quota[i]])
            train.append(contentsOf: rows[quota[i]...])
        }
        return Fold(train: train.sorted(), test: test.sorted())
    }
}
