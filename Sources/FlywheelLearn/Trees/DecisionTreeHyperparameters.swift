import FlywheelCore
import Foundation

/// How a classification tree measures the impurity of a node.
public enum SplitCriterion: String, Codable, Sendable, Hashable, CaseIterable {
    /// Gini impurity, 1 − Σ pₖ² (scikit-learn's default).
    case gini
    /// Shannon entropy, −Σ pₖ log pₖ.
    case entropy
}

/// How many features a split may consider: forests draw a random subset at every node.
public enum MaxFeatures: Codable, Sendable, Hashable {
    /// Every feature (a plain decision tree; scikit-learn's regression forests).
    case all
    /// ⌊√d⌋ features (scikit-learn's classification forests).
    case sqrt
    /// ⌊log₂ d⌋ features.
    case log2
    /// A fixed number of features (clamped to 1…d).
    case count(Int)
    /// A fraction of the features, at least one.
    case fraction(Double)

    /// The number of features to draw from `d`.
    public func resolve(_ d: Int) -> Int {
        let n: Int
        switch self {
        case .all: n = d
        case .sqrt: n = Int(Double(d).squareRoot())
        case .log2: n = d > 0 ? Int(Foundation.log2(Double(d))) : 0
        case .count(let k): n = k
        case .fraction(let f): n = Int(f * Double(d))
        }
        return min(max(n, 1), max(d, 1))
    }

    /// Encoded as `"all"`, `"sqrt"`, `"log2"`, `{"count": n}` or `{"fraction": f}`.
    enum CodingKeys: String, CodingKey { case count, fraction }

    public init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self) {
            switch s {
            case "all": self = .all
            case "sqrt": self = .sqrt
            case "log2": self = .log2
            default: throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown max_features '\(s)'"))
            }
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let n = try c.decodeIfPresent(Int.self, forKey: .count) {
            self = .count(n)
        } else {
            self = .fraction(try c.decode(Double.self, forKey: .fraction))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .all, .sqrt, .log2:
            var c = encoder.singleValueContainer()
            try c.encode(self == .all ? "all" : (self == .sqrt ? "sqrt" : "log2"))
        case .count(let n):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(n, forKey: .count)
        case .fraction(let f):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(f, forKey: .fraction)
        }
    }
}

/// Settings of a CART decision tree (scikit-learn's names in brackets).
public struct DecisionTreeHyperparameters: Codable, Sendable, Hashable {
    /// Impurity measure for classification [criterion]; regression always uses squared error.
    public var criterion: SplitCriterion
    /// Deepest a leaf may be; `nil` grows until leaves are pure or too small [max_depth].
    public var maxDepth: Int?
    /// Fewest training rows in a leaf [min_samples_leaf].
    public var minSamplesLeaf: Int
    /// Fewest training rows a node needs to be split [min_samples_split].
    public var minSamplesSplit: Int
    /// Features considered at each split; forests use fewer than all [max_features].
    public var maxFeatures: MaxFeatures
    /// Seed of the feature order at each split (ties between equally good splits depend on it).
    public var seed: UInt64

    /// Settings with scikit-learn's defaults unless given.
    public init(criterion: SplitCriterion = .gini, maxDepth: Int? = nil, minSamplesLeaf: Int = 1,
                minSamplesSplit: Int = 2, maxFeatures: MaxFeatures = .all, seed: UInt64 = 0) {
        self.criterion = criterion
        self.maxDepth = maxDepth
        self.minSamplesLeaf = minSamplesLeaf
        self.minSamplesSplit = minSamplesSplit
        self.maxFeatures = maxFeatures
        self.seed = seed
    }

    func validate() throws {
        if let d = maxDepth, d < 0 { throw FlywheelError.invalidArgument("max_depth must be at least 0, got \(d)") }
        guard minSamplesLeaf >= 1 else { throw FlywheelError.invalidArgument("min_samples_leaf must be at least 1, got \(minSamplesLeaf)") }
        guard minSamplesSplit >= 2 else { throw FlywheelError.invalidArgument("min_samples_split must be at least 2, got \(minSamplesSplit)") }
    }
}
