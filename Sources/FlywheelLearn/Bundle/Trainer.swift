import FlywheelCore
import FlywheelData
import Foundation

/// What to train.
public struct TrainingRequest: Sendable {
    public var target: String
    /// Input columns; nil means every column but the target.
    public var features: [String]?
    public var model: String
    public var params: [String: String]
    public var seed: UInt64
    /// Share of rows held out for evaluation (stratified for classification); 0 trains on all.
    public var testFraction: Double
    /// k-fold cross-validation on the training rows, when ≥ 2.
    public var cvFolds: Int?
    /// Hyperparameter search, when set.
    public var tuning: TuningRequest?
    public var trainingDataDigest: String?
    public var flywheelVersion: String

    public init(target: String, features: [String]? = nil, model: String, params: [String: String] = [:], seed: UInt64 = 42,
                testFraction: Double = 0.2, cvFolds: Int? = nil, tuning: TuningRequest? = nil, trainingDataDigest: String? = nil,
                flywheelVersion: String = "0") {
        self.target = target
        self.features = features
        self.model = model
        self.params = params
        self.seed = seed
        self.testFraction = testFraction
        self.cvFolds = cvFolds
        self.tuning = tuning
        self.trainingDataDigest = trainingDataDigest
        self.flywheelVersion = flywheelVersion
    }
}

public struct TuningRequest: Sendable {
    public var strategy: SearchStrategy
    public var trials: Int
    /// nil: the model's default space (``Trainer/defaultSpace(for:)``).
    public var space: SearchSpace?
    public init(strategy: SearchStrategy, trials: Int, space: SearchSpace? = nil) {
        self.strategy = strategy
        self.trials = trials
        self.space = space
    }
}

/// The outcome: the bundle, its metrics, and the tuning trials if any.
public struct TrainingResult: Sendable {
    public var bundle: ModelBundle
    public var metrics: [String: Double]
    public var trials: [Trial]
}

/// Trains a model from a table: splits, fits preprocessing and the estimator on the training
/// rows, evaluates on held-out rows, optionally cross-validates and tunes, and packs a bundle.
public enum Trainer {
    public static func train(
        _ table: Table, _ r: TrainingRequest, onTrial: (Trial, [String: Double]) throws -> Void = { _, _ in }
    ) throws -> TrainingResult {
        let targetColumn = try table.requireColumn(r.target)
        let features = try r.features ?? table.columnNames.filter { $0 != r.target }
        guard !features.isEmpty else { throw FlywheelError.invalidArgument("no feature columns: the table has only the target '\(r.target)'") }
        if features.contains(r.target) { throw FlywheelError.invalidArgument("the target '\(r.target)' cannot also be a feature") }
        for f in features { _ = try table.requireColumn(f) }
        guard (0..<1).contains(r.testFraction) else {
            throw FlywheelError.invalidArgument("test fraction \(r.testFraction) is out of range: expected 0 ≤ f < 1")
        }

        // Rows with a missing target cannot teach anything.
        let labelled = (0..<table.rowCount).filter { !targetColumn.isMissing($0) }
        guard labelled.count >= 2 else { throw FlywheelError.invalidArgument("the target '\(r.target)' has fewer than 2 values") }
        let data = table.selecting(rows: labelled)
        let target = try data.requireColumn(r.target)
        let task: LearningTask = target.type == .numeric ? .regression : .classification
        var classes: [String]?
        var y = Targets.values([])
        switch task {
        case .classification:
            let texts = (0..<data.rowCount).map { target.text($0) ?? "" }
            let cls = Set(texts).sorted()
            guard cls.count >= 2 else { throw FlywheelError.invalidArgument("the target '\(r.target)' has a single class '\(cls.first ?? "")': nothing to learn") }
            let index = Dictionary(uniqueKeysWithValues: cls.enumerated().map { ($1, $0) })
            classes = cls
            y = .classes(texts.map { index[$0] ?? 0 }, cls.count)
        case .regression:
            guard case .numeric(let v) = target.storage else { throw FlywheelError.internal("numeric target without numbers") }
            y = .values(v)
        }

        // Hold-out split.
        var trainRows = Array(0..<data.rowCount), testRows: [Int] = []
        if r.testFraction > 0 {
            let split = TrainTestSplit(testFraction: r.testFraction, seed: r.seed)
            let fold = try y.classIndices.map { try split.split(labels: $0) } ?? split.split(rowCount: data.rowCount)
            trainRows = fold.train
            testRows = fold.test
        }
        let options = defaultPreprocessing(r.model)
        let train = data.selecting(rows: trainRows)
        let yTrain = y.selecting(trainRows)

        // Tuning: cross-validated search on the training rows.
        var params = r.params
        var trials: [Trial] = []
        if let tuning = r.tuning {
            let space = try tuning.space ?? defaultSpace(for: r.model)
            let folds = max(r.cvFolds ?? 3, 2)
            trials = try Tuner(space: space, strategy: tuning.strategy, trials: tuning.trials, seed: r.seed).run { index, p in
                var trialParams = params
                for (k, v) in p { trialParams[k] = v.description }
                let scores = try crossValidate(train, yTrain, features: features, model: r.model, params: trialParams, seed: r.seed,
                                               folds: folds, options: options)
                let loss = -(scores[task == .classification ? "cv_accuracy" : "cv_r2"] ?? -.infinity)
                try onTrial(Trial(index: index, params: p, loss: loss), scores)
                return loss
            }
            if let best = trials.min(by: { $0.loss < $1.loss }) {
                for (k, v) in best.params { params[k] = v.description }
            }
        }

        var metrics: [String: Double] = [:]
        if let k = r.cvFolds, k >= 2 {
            metrics.merge(try crossValidate(train, yTrain, features: features, model: r.model, params: params, seed: r.seed,
                                            folds: k, options: options)) { $1 }
        }
        let pre = try Preprocessor(fitting: train, features: features, options: options)
        var model = try ModelCatalog.make(r.model, task: task, params: params, seed: r.seed)
        try fit(&model, try pre.transform(train).matrix, yTrain)
        if !testRows.isEmpty {
            let test = data.selecting(rows: testRows)
            metrics.merge(try evaluate(model, try pre.transform(test).matrix, y.selecting(testRows))) { $1 }
        }

        let fullProfile = Profile(of: try train.selecting(columns: features + [r.target]))
        let signature = features.map { name -> SignatureField in
            let col = train.column(named: name)
            let cp = fullProfile.column(named: name)
            var cats: [String]?
            if col?.type == .categorical, let input = pre.inputs.first(where: { $0.name == name }) { cats = input.encoder?.categories }
            return SignatureField(name: name, type: col?.type ?? .numeric, categories: cats, nullable: (cp?.missing ?? 0) > 0)
        }
        let bundle = ModelBundle(
            format: ModelBundle.formatName, formatVersion: ModelBundle.currentVersion, task: task, modelName: r.model,
            target: r.target, signature: signature, preprocessor: pre, model: model, classes: classes, profile: fullProfile,
            metadata: .init(flywheelVersion: r.flywheelVersion, seed: r.seed, trainingDataDigest: r.trainingDataDigest,
                            trainingRows: trainRows.count, hyperparameters: params, metrics: metrics))
        return TrainingResult(bundle: bundle, metrics: metrics, trials: trials)
    }

    /// Targets as class indices or values.
    enum Targets {
        case classes([Int], Int)
        case values([Double])

        var classIndices: [Int]? { if case .classes(let c, _) = self { return c } else { return nil } }

        func selecting(_ rows: [Int]) -> Targets {
            switch self {
            case .classes(let c, let k): .classes(rows.map { c[$0] }, k)
            case .values(let v): .values(rows.map { v[$0] })
            }
        }
    }

    static func fit(_ model: inout FittedModel, _ x: Matrix, _ y: Targets) throws {
        switch y {
        case .classes(let c, let k): try model.fit(x, classes: c, classCount: k)
        case .values(let v): try model.fit(x, values: v)
        }
    }

    /// Held-out metrics: accuracy, balanced accuracy, macro F1, log loss and ROC AUC; or MSE,
    /// RMSE, MAE and R².
    static func evaluate(_ model: FittedModel, _ x: Matrix, _ y: Targets) throws -> [String: Double] {
        switch y {
        case .classes(let truth, let k):
            guard let p = model.predictProbabilities(x) else { return [:] }
            let pred = p.argmaxPerRow()
            var m: [String: Double] = [
                "accuracy": ClassificationMetrics.accuracy(yTrue: truth, yPred: pred),
                "balanced_accuracy": ClassificationMetrics.balancedAccuracy(yTrue: truth, yPred: pred),
                "f1_macro": try ClassificationMetrics.f1(yTrue: truth, yPred: pred, average: .macro),
            ]
            if Set(truth).count == k {
                m["log_loss"] = try? ClassificationMetrics.logLoss(yTrue: truth, probabilities: p)
                m["roc_auc"] = k == 2
                    ? try? ClassificationMetrics.rocAUC(yTrue: truth, scores: (0..<p.rows).map { p[$0, 1] })
                    : try? ClassificationMetrics.rocAUC(yTrue: truth, probabilities: p, average: .macro)
            }
            return m
        case .values(let truth):
            let pred = model.predictValues(x) ?? []
            return [
                "mse": RegressionMetrics.meanSquaredError(yTrue: truth, yPred: pred),
                "rmse": RegressionMetrics.rootMeanSquaredError(yTrue: truth, yPred: pred),
                "mae": RegressionMetrics.meanAbsoluteError(yTrue: truth, yPred: pred),
                "r2": RegressionMetrics.r2(yTrue: truth, yPred: pred),
            ]
        }
    }

    /// Mean of each metric over k folds (stratified for classification), keys prefixed `cv_`.
    static func crossValidate(
        _ table: Table, _ y: Targets, features: [String], model name: String, params: [String: String], seed: UInt64, folds k: Int,
        options: PreprocessingOptions
    ) throws -> [String: Double] {
        let folds = try y.classIndices.map { try StratifiedKFold(foldCount: k, shuffle: true, seed: seed).splits(labels: $0) }
            ?? KFold(foldCount: k, shuffle: true, seed: seed).splits(rowCount: table.rowCount)
        var sums: [String: Double] = [:]
        let task: LearningTask = y.classIndices == nil ? .regression : .classification
        for f in folds {
            let train = table.selecting(rows: f.train), test = table.selecting(rows: f.test)
            let pre = try Preprocessor(fitting: train, features: features, options: options)
            var m = try ModelCatalog.make(name, task: task, params: params, seed: seed)
            try fit(&m, try pre.transform(train).matrix, y.selecting(f.train))
            for (key, v) in try evaluate(m, try pre.transform(test).matrix, y.selecting(f.test)) { sums["cv_" + key, default: 0] += v }
        }
        return sums.mapValues { $0 / Double(folds.count) }
    }

    /// Trees need no scaling and split ordinal codes well; linear models want standardised,
    /// one-hot inputs.
    public static func defaultPreprocessing(_ model: String) -> PreprocessingOptions {
        switch model {
        case "decision_tree", "random_forest", "hist_gradient_boosting":
            PreprocessingOptions(numericImpute: .median, scaling: .none, categorical: .ordinal)
        default:
            PreprocessingOptions(numericImpute: .median, scaling: .standard, categorical: .oneHot)
        }
    }

    /// The search space `--tune` uses for each model.
    public static func defaultSpace(for model: String) throws -> SearchSpace {
        switch model {
        case "ridge": try SearchSpace([("alpha", .real(low: 1e-3, high: 1e3, log: true))])
        case "logistic_regression": try SearchSpace([("C", .real(low: 1e-3, high: 1e3, log: true))])
        case "decision_tree":
            try SearchSpace([("max_depth", .int(low: 1, high: 20, log: false)), ("min_samples_leaf", .int(low: 1, high: 20, log: false))])
        case "random_forest":
            try SearchSpace([
                ("max_depth", .choice([.string("none"), .int(8), .int(16), .int(24)])), ("min_samples_leaf", .int(low: 1, high: 8, log: false)),
                ("max_features", .choice([.string("sqrt"), .string("log2"), .real(0.5)])),
            ])
        case "hist_gradient_boosting":
            try SearchSpace([
                ("learning_rate", .real(low: 0.01, high: 0.3, log: true)), ("max_leaf_nodes", .int(low: 8, high: 64, log: true)),
                ("l2_regularization", .real(low: 1e-4, high: 10, log: true)), ("min_samples_leaf", .int(low: 5, high: 50, log: true)),
            ])
        default:
            throw FlywheelError.invalidArgument("model '\(model)' has no default search space: it has no hyperparameters worth tuning")
        }
    }
}

extension Trainer {
    /// Scores a fitted bundle on a labelled table (the target column the bundle was trained for):
    /// the same metrics training reports on its held-out rows. Rows with a missing target are left out.
    public static func evaluate(_ bundle: ModelBundle, on table: Table) throws -> [String: Double] {
        let target = try table.requireColumn(bundle.target)
        let rows = (0..<table.rowCount).filter { !target.isMissing($0) }
        guard !rows.isEmpty else { throw FlywheelError.invalidArgument("the target '\(bundle.target)' has no values to evaluate against") }
        let data = table.selecting(rows: rows)
        let truth = try data.requireColumn(bundle.target)
        let y: Targets
        switch bundle.task {
        case .classification:
            let classes = bundle.classes ?? []
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            var labels: [Int] = []
            labels.reserveCapacity(data.rowCount)
            for r in 0..<data.rowCount {
                let text = truth.text(r) ?? ""
                guard let i = index[text] else {
                    throw FlywheelError.invalidArgument(
                        "label '\(text)' in '\(bundle.target)' was not a class in training (classes: \(classes.joined(separator: ", ")))")
                }
                labels.append(i)
            }
            y = .classes(labels, classes.count)
        case .regression:
            guard case .numeric(let v) = truth.storage else {
                throw FlywheelError.invalidArgument("the target '\(bundle.target)' must be numeric for a regression model")
            }
            y = .values(v)
        }
        let x = try bundle.preprocessor.transform(data).matrix
        var m = try evaluate(bundle.model, x, y)
        m["rows"] = Double(data.rowCount)
        return m
    }
}
