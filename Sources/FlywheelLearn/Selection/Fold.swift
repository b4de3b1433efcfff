import FlywheelCore
/// One split of row indices into a training part and a held-out part, each ascending.
public struct Fold: Codable, Hashable, Sendable {
    /// Rows to fit on.
    public var train: [Int]
    /// Rows to evaluate on.
    public var test: [Int]

    public init(train: [Int], test: [Int]) {
        self.train = train
        self.test = test
    }
}

extension SeededRandom {
    /// Fisher–Yates shuffle driven only by this generator, so a seed gives the same order on every
    /// platform and Swift version (the standard library's `shuffle` makes no such promise).
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if i != j { items.swapAt(i, j) }
        }
    }
}
