import FlywheelCore
import Foundation

/// What a model predicts.
public enum LearningTask: String, Hashable, Codable, Sendable {
    case classification
    case regression
}

/// A model of any kind Flywheel trains, fitted or not, in one Codable value.
public enum FittedModel: Hashable, Codable, Sendable {
    case linearRegression(LinearRegression)
    case logisticRegression(LogisticRegression)
    case decisionTreeClassifier(DecisionTreeClassifier)
    case decisionTreeRegressor(DecisionTreeRegressor)
    case randomForestClassifier(RandomForestClassifier)
    case randomForestRegressor(RandomForestRegressor)
    case histGradientBoostingClassifier(HistGradientBoostingClassifier)
    case histGradientBoostingRegressor(HistGradientBoostingRegressor)

    public var task: LearningTask {
        switch self {
        case .linearRegression, .decisionTreeRegressor, .randomForestRegressor, .histGradientBoostingRegressor: .regression
        default: .classification
        }
    }

    /// Fits a classifier on class indices.
    public mutating func fit(_ x: Matrix, classes y: [Int], classCount: Int) throws {
        switch self {
        case .logisticRegression(var m): try m.fit(x, y, classCount: classCount); self = .logisticRegression(m)
        case .decisionTreeClassifier(var m): try m.fit(x, y, classCount: classCount); self = .decisionTreeClassifier(m)
        case .randomForestClassifier(var m): try m.fit(x, y, classCount: classCount); self = .randomForestClassifier(m)
        case .histGradientBoostingClassifier(var m): try m.fit(x, y, classCount: classCount); self = .histGradientBoostingClassifier(m)
        default: throw FlywheelError.invalidArgument("this model is a regressor: it needs a numeric target")
        }
    }

    /// Fits a regressor on numeric targets.
    public mutating func fit(_ x: Matrix, values y: [Double]) throws {
        switch self {
        case .linearRegression(var m): try m.fit(x, y); self = .linearRegression(m)
        case .decisionTreeRegressor(var m): try m.fit(x, y); self = .decisionTreeRegressor(m)
        case .randomForestRegressor(var m): try m.fit(x, y); self = .randomForestRegressor(m)
        case .histGradientBoostingRegressor(var m): try m.fit(x, y); self = .histGradientBoostingRegressor(m)
        default: throw FlywheelError.invalidArgument("this model is a classifier: it needs a categorical target")
        }
    }

    /// Class probabilities (classifiers) — nil for regressors.
    public func predictProbabilities(_ x: Matrix) -> Matrix? {
        switch self {
        case .logisticRegression(let m): m.predictProbabilities(x)
        case .decisionTreeClassifier(let m): m.predictProbabilities(x)
        case .randomForestClassifier(let m): m.predictProbabilities(x)
        case .histGradientBoostingClassifier(let m): m.predictProbabilities(x)
        default: nil
        }
    }

    /// Values (regressors) — nil for classifiers.
    public func predictValues(_ x: Matrix) -> [Double]? {
        switch self {
        case .linearRegression(let m): m.predict(x)
        case .decisionTreeRegressor(let m): m.predict(x)
        case .randomForestRegressor(let m): m.predict(x)
        case .histGradientBoostingRegressor(let m): m.predict(x)
        default: nil
        }
    }
}

/// The models `flywheel train --model NAME` knows, and how `--param key=value` sets them.
public enum ModelCatalog {
    public static let names = ["linear_regression", "ridge", "logistic_regression", "decision_tree", "random_forest", "hist_gradient_boosting"]

    /// Keys each model accepts, for help and errors.
    public static func keys(_ name: String, _ task: LearningTask) -> [String] {
        switch name {
        case "linear_regression": []
        case "ridge": ["alpha", "fit_intercept"]
        case "logistic_regression": ["C", "max_iter", "tol", "fit_intercept"]
        case "decision_tree": ["criterion", "max_depth", "min_samples_leaf", "min_samples_split", "max_features", "seed"]
        case "random_forest": ["n_trees", "bootstrap", "max_features", "criterion", "max_depth", "min_samples_leaf", "min_samples_split", "seed"]
        case "hist_gradient_boosting":
            ["learning_rate", "max_iter", "max_leaf_nodes", "max_depth", "min_samples_leaf", "l2_regularization", "max_bins",
             "early_stopping", "validation_fraction", "n_iter_no_change", "tol", "seed"]
        default: []
        }
    }

    /// An unfitted model of kind `name` for `task`, with `params` applied (unknown keys are errors).
    public static func make(_ name: String, task: LearningTask, params: [String: String], seed: UInt64) throws -> FittedModel {
        var p = Params(model: name, values: params)
        let model: FittedModel
        switch (name, task) {
        case ("linear_regression", .regression):
            model = .linearRegression(LinearRegression())
        case ("ridge", .regression):
            model = .linearRegression(LinearRegression(hyperparameters: .init(
                alpha: try p.double("alpha", 1.0), fitIntercept: try p.bool("fit_intercept", true))))
        case ("logistic_regression", .classification):
            model = .logisticRegression(LogisticRegression(hyperparameters: .init(
                c: try p.double("C", 1.0), maxIterations: try p.int("max_iter", 1000), tolerance: try p.double("tol", 1e-4),
                fitIntercept: try p.bool("fit_intercept", true))))
        case ("decision_tree", _):
            let h = DecisionTreeHyperparameters(
                criterion: try p.criterion(task), maxDepth: try p.optionalInt("max_depth"), minSamplesLeaf: try p.int("min_samples_leaf", 1),
                minSamplesSplit: try p.int("min_samples_split", 2), maxFeatures: try p.maxFeatures() ?? .all, seed: try p.seed(seed))
            model = task == .classification ? .decisionTreeClassifier(DecisionTreeClassifier(h)) : .decisionTreeRegressor(DecisionTreeRegressor(h))
        case ("random_forest", _):
            let h = RandomForestHyperparameters(
                treeCount: try p.int("n_trees", 100), bootstrap: try p.bool("bootstrap", true), maxFeatures: try p.maxFeatures(),
                criterion: try p.criterion(task), maxDepth: try p.optionalInt("max_depth"), minSamplesLeaf: try p.int("min_samples_leaf", 1),
                minSamplesSplit: try p.int("min_samples_split", 2), seed: try p.seed(seed))
            model = task == .classification ? .randomForestClassifier(RandomForestClassifier(h)) : .randomForestRegressor(RandomForestRegressor(h))
        case ("hist_gradient_boosting", _):
            let es = try p.string("early_stopping", "auto")
            guard let early = EarlyStopping(rawValue: es) else {
                throw FlywheelError.invalidArgument("hyperparameter early_stopping='\(es)' is not valid: expected auto, on or off")
            }
            let h = HistGradientBoostingHyperparameters(
                learningRate: try p.double("learning_rate", 0.1), maxIterations: try p.int("max_iter", 100),
                maxLeafNodes: try p.optionalInt("max_leaf_nodes", default: 31), maxDepth: try p.optionalInt("max_depth"),
                minSamplesLeaf: try p.int("min_samples_leaf", 20), l2Regularization: try p.double("l2_regularization", 0),
                maxBins: try p.int("max_bins", 255), earlyStopping: early, validationFraction: try p.double("validation_fraction", 0.1),
                iterationsWithoutChange: try p.int("n_iter_no_change", 10), tolerance: try p.double("tol", 1e-7), seed: try p.seed(seed))
            model = task == .classification
                ? .histGradientBoostingClassifier(HistGradientBoostingClassifier(h)) : .histGradientBoostingRegressor(HistGradientBoostingRegressor(h))
        case ("linear_regression", .classification), ("ridge", .classification):
            throw FlywheelError.invalidArgument("\(name) predicts numbers, but the target is categorical: use logistic_regression or a tree model")
        case ("logistic_regression", .regression):
            throw FlywheelError.invalidArgument("logistic_regression predicts classes, but the target is numeric: use linear_regression, ridge or a tree model")
        default:
            throw FlywheelError.invalidArgument("unknown model '\(name)': expected one of \(names.joined(separator: ", "))")
        }
        try p.finish()
        return model
    }

    /// Reads `--param` values by key, naming the key and the expected form on error.
    struct Params {
        let model: String
        var values: [String: String]

        mutating func take(_ key: String) -> String? { values.removeValue(forKey: key) }

        func bad(_ key: String, _ v: String, _ expected: String) -> FlywheelError {
            .invalidArgument("hyperparameter \(key)='\(v)' is not valid for \(model): expected \(expected)")
        }
        mutating func double(_ key: String, _ d: Double) throws -> Double {
            guard let v = take(key) else { return d }
            guard let x = Double(v), x.isFinite else { throw bad(key, v, "a number") }
            return x
        }
        mutating func int(_ key: String, _ d: Int) throws -> Int {
            guard let v = take(key) else { return d }
            guard let x = Int(v) else { throw bad(key, v, "a whole number") }
            return x
        }
        mutating func optionalInt(_ key: String, default d: Int? = nil) throws -> Int? {
            guard let v = take(key) else { return d }
            if ["none", "null", ""].contains(v.lowercased()) { return nil }
            guard let x = Int(v) else { throw bad(key, v, "a whole number or none") }
            return x
        }
        mutating func bool(_ key: String, _ d: Bool) throws -> Bool {
            guard let v = take(key) else { return d }
            switch v.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw bad(key, v, "true or false")
            }
        }
        mutating func string(_ key: String, _ d: String) throws -> String { take(key) ?? d }
        mutating func seed(_ d: UInt64) throws -> UInt64 {
            guard let v = take("seed") else { return d }
            guard let x = UInt64(v) else { throw bad("seed", v, "a non-negative whole number") }
            return x
        }
        mutating func criterion(_ task: LearningTask) throws -> SplitCriterion {
            guard let v = take("criterion") else { return .gini }
            if task == .regression {
                guard v == "squared_error" else { throw bad("criterion", v, "squared_error for a numeric target") }
                return .gini
            }
            guard let c = SplitCriterion(rawValue: v) else { throw bad("criterion", v, "gini or entropy") }
            return c
        }
        mutating func maxFeatures() throws -> MaxFeatures? {
            guard let v = take("max_features") else { return nil }
            switch v {
            case "sqrt": return .sqrt
            case "log2": return .log2
            case "all", "none", "1.0": return .all
            default:
                if let i = Int(v), i >= 1 { return .count(i) }
                if let f = Double(v), f > 0, f <= 1 { return .fraction(f) }
                throw bad("max_features", v, "sqrt, log2, all, a count ≥ 1 or a fraction in (0, 1]")
            }
        }
        func finish() throws {
            if let k = values.keys.sorted().first {
                let known = ModelCatalog.keys(model, .classification) + ModelCatalog.keys(model, .regression)
                throw FlywheelError.invalidArgument(
                    "unknown hyperparameter '\(k)' for \(model): expected \(known.isEmpty ? "none" : "one of " + Array(Set(known)).sorted().joined(separator: ", "))")
            }
        }
    }
}
