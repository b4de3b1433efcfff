import FlywheelCore

/// How a missing value is filled.
public enum ImputeStrategy: Hashable, Codable, Sendable {
    case mean
    case median
    case mostFrequent
    case constant(Double)
}

/// Fills missing (NaN) values of one numeric column with a value learned at fit time.
public struct Imputer: Hashable, Codable, Sendable {
    public var strategy: ImputeStrategy
    /// The fill value; NaN before fitting or when the training column had no values.
    public private(set) var fill: Double = .nan

    public init(strategy: ImputeStrategy) { self.strategy = strategy }

    public mutating func fit(_ values: [Double]) {
        let present = values.filter { !$0.isNaN }
        switch strategy {
        case .constant(let c): fill = c
        case .mean: fill = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
        case .median:
            let s = present.sorted()
            fill = s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        case .mostFrequent:
            // Ties go to the smallest value, as scikit-learn's SimpleImputer.
            var counts: [Double: Int] = [:]
            for v in present { counts[v, default: 0] += 1 }
            fill = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
        }
    }

    public func transform(_ v: Double) -> Double { v.isNaN ? fill : v }
}

/// How numeric features are scaled.
public enum Scaling: String, Hashable, Codable, Sendable {
    case none
    /// (x − mean) / population std, as scikit-learn's StandardScaler; a constant column stays 0.
    case standard
    /// (x − min) / (max − min) into [0, 1], as MinMaxScaler.
    case minMax = "min_max"
}

/// A fitted affine map `(x − offset) / scale` for one column.
public struct Scaler: Hashable, Codable, Sendable {
    public var kind: Scaling
    public private(set) var offset = 0.0
    public private(set) var scale = 1.0

    public init(_ kind: Scaling) { self.kind = kind }

    public mutating func fit(_ values: [Double]) {
        let present = values.filter { !$0.isNaN }
        guard !present.isEmpty else { return }
        switch kind {
        case .none: break
        case .standard:
            let mean = present.reduce(0, +) / Double(present.count)
            let variance = present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(present.count)
            offset = mean
            scale = variance > 0 ? variance.squareRoot() : 1
        case .minMax:
            let lo = present.min() ?? 0, hi = present.max() ?? 0
            offset = lo
            scale = hi > lo ? hi - lo : 1
        }
    }

    public func transform(_ v: Double) -> Double { (v - offset) / scale }
}

/// How a categorical feature becomes numbers.
public enum CategoricalEncoding: String, Hashable, Codable, Sendable {
    /// One 0/1 column per training category; an unseen category is all zeros (and counted).
    case oneHot = "one_hot"
    /// One column holding the category's index in sorted order; unseen is NaN (missing).
    case ordinal
}

/// Maps the categories of one column, learned at fit time, to codes.
public struct CategoryEncoder: Hashable, Codable, Sendable {
    public var encoding: CategoricalEncoding
    /// Training categories, sorted (scikit-learn's order).
    public private(set) var categories: [String] = []
    private var index: [String: Int] = [:]

    public init(_ encoding: CategoricalEncoding) { self.encoding = encoding }

    public mutating func fit(_ values: [String?]) {
        categories = Set(values.compactMap { $0 }).sorted()
        index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
    }

    /// Output columns this encoder produces.
    public var width: Int { encoding == .oneHot ? categories.count : 1 }

    /// The category's code, or nil when unseen or missing.
    public func code(_ value: String?) -> Int? { value.flatMap { index[$0] } }
}
