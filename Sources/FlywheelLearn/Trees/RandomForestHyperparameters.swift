import Dispatch
import FlywheelCore
import Foundation

/// Settings of a random forest (scikit-learn's names in brackets).
public struct RandomForestHyperparameters: Codable, Sendable, Hashable {
    /// Number of trees [n_estimators].
    public var treeCount: Int
    /// Fit each tree on a bootstrap sample (n draws with replacement) [bootstrap].
    public var bootstrap: Bool
    /// Features considered at each split; `nil` means scikit-learn's default:
    /// √d for classification, all for regression [max_features].
    public var maxFeatures: MaxFeatures?
    /// Impurity measure for classification [criterion].
    public var criterion: SplitCriterion
    /// Deepest a leaf may be; `nil` for unlimited [max_depth].
    public var maxDepth: Int?
    /// Fewest training rows in a leaf [min_samples_leaf].
    public var minSamplesLeaf: Int
    /// Fewest training rows a node needs to be split [min_samples_split].
    public var minSamplesSplit: Int
    /// Seed of the whole forest; tree `t` draws from `SeededRandom(seed).derived(t)`, so the
    /// forest is the same whatever the number of threads.
    public var seed: UInt64

    /// Settings with scikit-learn's defaults unless given.
    public init(treeCount: Int = 100, bootstrap: Bool = true, maxFeatures: MaxFeatures? = nil,
                criterion: SplitCriterion = .gini, maxDepth: Int? = nil, minSamplesLeaf: Int = 1,
                minSamplesSplit: Int = 2, seed: UInt64 = 0) {
        self.treeCount = treeCount
        self.bootstrap = bootstrap
        self.maxFeatures = maxFeatures
        self.criterion = criterion
        self.maxDepth = maxDepth
        self.minSamplesLeaf = minSamplesLeaf
        self.minSamplesSplit = minSamplesSplit
        self.seed = seed
    }

    func treeParameters(defaultMaxFeatures: MaxFeatures) -> DecisionTreeHyperparameters {
        DecisionTreeHyperparameters(criterion: criterion, maxDepth: maxDepth, minSamplesLeaf: minSamplesLeaf,
                                    minSamplesSplit: minSamplesSplit, maxFeatures: maxFeatures ?? defaultMaxFeatures,
                                    seed: seed)
    }

    func validate() throws {
        guard treeCount >= 1 else { throw FlywheelError.invalidArgument("n_trees must be at least 1, got \(treeCount)") }
        try treeParameters(defaultMaxFeatures: .all).validate()
    }
}

/// Fits a forest's trees on a bounded number of threads.
///
/// Each tree draws from its own generator derived from the seed and the tree's index, and lands
/// in its own slot, so neither the thread count nor the scheduling order changes the result.
/// This is blocking CPU work on Dispatch's threads: call it off the Swift cooperative pool.
func fitForest(data: CARTData, hyperparameters: RandomForestHyperparameters, defaultMaxFeatures: MaxFeatures,
               threads: Int?) -> [TreeNodes] {
    let params = hyperparameters.treeParameters(defaultMaxFeatures: defaultMaxFeatures)
    let n = data.rowCount
    let count = hyperparameters.treeCount
    let root = SeededRandom(seed: hyperparameters.seed)
    let bootstrap = hyperparameters.bootstrap
    let workers = max(1, min(threads ?? ProcessorCount.active, count))
    let slots = ForestSlots(count: count)

    let fitOne: @Sendable (Int) -> TreeNodes = { t in
        var random = root.derived(t)
        var weights: [Double]
        if bootstrap {
            weights = [Double](repeating: 0, count: n)
            for _ in 0..<n { weights[random.below(n)] += 1 }
        } else {
            weights = [Double](repeating: 1, count: n)
        }
        return CARTBuilder(data: data, params: params).build(weights: weights, random: &random)
    }
    if workers == 1 {
        for t in 0..<count { slots.store(fitOne(t), at: t) }
    } else {
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let t = slots.claim() { slots.store(fitOne(t), at: t) }
        }
    }
    return slots.trees
}

/// The trees of a forest being fit: each worker claims the next index and fills its slot.
private final class ForestSlots: @unchecked Sendable {
    // @unchecked: every access to `next` and `items` holds `lock`.
    private let lock = NSLock()
    private var next = 0
    private var items: [TreeNodes]

    init(count: Int) { items = [TreeNodes](repeating: TreeNodes(outputCount: 0), count: count) }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < items.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ tree: TreeNodes, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        items[index] = tree
    }

    var trees: [TreeNodes] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
