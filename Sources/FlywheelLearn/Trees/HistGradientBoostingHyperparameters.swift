import FlywheelCore

/// When gradient boosting stops early on a held-out validation fraction.
public enum EarlyStopping: String, Codable, Sendable, Hashable {
    /// On from 10,000 training rows, as scikit-learn's `'auto'`.
    case auto
    /// Always hold out a validation fraction and stop when its loss stalls.
    case on
    /// Always run `maxIterations` iterations on all rows.
    case off
}

/// Settings of histogram gradient boosting (scikit-learn's names in brackets).
public struct HistGradientBoostingHyperparameters: Codable, Sendable, Hashable {
    /// Shrinkage applied to every tree's leaf values [learning_rate].
    public var learningRate: Double
    /// Boosting iterations; a multiclass model grows one tree per class per iteration [max_iter].
    public var maxIterations: Int
    /// Most leaves per tree, grown best-first; `nil` for no limit [max_leaf_nodes].
    public var maxLeafNodes: Int?
    /// Deepest a leaf may be; `nil` for no limit [max_depth].
    public var maxDepth: Int?
    /// Fewest training rows in a leaf [min_samples_leaf].
    public var minSamplesLeaf: Int
    /// L2 penalty on leaf values, added to the hessian sum [l2_regularization].
    public var l2Regularization: Double
    /// Bins per feature for non-missing values (at most 255); missing values get a bin of their own [max_bins].
    public var maxBins: Int
    /// Whether to stop early on a validation fraction [early_stopping].
    public var earlyStopping: EarlyStopping
    /// Share of the training rows held out for early stopping [validation_fraction].
    public var validationFraction: Double
    /// Stop after this many iterations without an improvement larger than `tolerance` [n_iter_no_change].
    public var iterationsWithoutChange: Int
    /// Smallest improvement of the validation loss that counts [tol].
    public var tolerance: Double
    /// Seed of the validation split.
    public var seed: UInt64

    /// Settings with scikit-learn's defaults unless given.
    public init(learningRate: Double = 0.1, maxIterations: Int = 100, maxLeafNodes: Int? = 31, maxDepth: Int? = nil,
                minSamplesLeaf: Int = 20, l2Regularization: Double = 0, maxBins: Int = 255,
                earlyStopping: EarlyStopping = .auto, validationFraction: Double = 0.1,
                iterationsWithoutChange: Int = 10, tolerance: Double = 1e-7, seed: UInt64 = 0) {
        self.learningRate = learningRate
        self.maxIterations = maxIterations
        self.maxLeafNodes = maxLeafNodes
        self.maxDepth = maxDepth
        self.minSamplesLeaf = minSamplesLeaf
        self.l2Regularization = l2Regularization
        self.maxBins = maxBins
        self.earlyStopping = earlyStopping
        self.validationFraction = validationFraction
        self.iterationsWithoutChange = iterationsWithoutChange
        self.tolerance = tolerance
        self.seed = seed
    }

    func validate() throws {
        guard learningRate > 0 else { throw FlywheelError.invalidArgument("learning_rate must be positive") }
        guard maxIterations >= 1 else { throw FlywheelError.invalidArgument("max_iter must be at least 1") }
        if let l = maxLeafNodes, l < 2 { throw FlywheelError.invalidArgument("max_leaf_nodes must be at least 2") }
        if let d = maxDepth, d < 1 { throw FlywheelError.invalidArgument("max_depth must be at least 1") }
        guard minSamplesLeaf >= 1 else { throw FlywheelError.invalidArgument("min_samples_leaf must be at least 1") }
        guard l2Regularization >= 0 else { throw FlywheelError.invalidArgument("l2_regularization must be at least 0") }
        guard (2...255).contains(maxBins) else { throw FlywheelError.invalidArgument("max_bins must be in 2...255") }
        guard validationFraction > 0 && validationFraction < 1 else {
            throw FlywheelError.invalidArgument("validation_fraction must be in (0, 1)")
        }
        guard iterationsWithoutChange >= 1 else { throw FlywheelError.invalidArgument("n_iter_no_change must be at least 1") }
    }

    func usesEarlyStopping(rows: Int) -> Bool {
        switch earlyStopping {
        case .on: true
        case .off: false
        case .auto: rows >= 10_000
        }
    }
}
