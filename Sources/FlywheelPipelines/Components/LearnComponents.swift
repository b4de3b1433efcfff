import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import Foundation

/// Shared by learn/train and learn/tune: the training request from the step's inputs.
enum TrainingInputs {
    static let ports = [
        PortSpec("data", .dataset, required: true, "training rows"),
        PortSpec("target", .string, required: true, "the column to predict"),
        PortSpec("model", .string, default: .string("random_forest"),
                 "random_forest, hist_gradient_boosting, decision_tree, logistic_regression, linear_regression, …"),
        PortSpec("hyperparameters", .object, default: .object([:]), "the estimator's settings, e.g. {n_trees: 100}; 'seed' here sets the seed"),
        PortSpec("seed", .integer, default: .number(42), "the seed for everything random"),
        PortSpec("features", .list, "feature columns (default: every column but the target)"),
        PortSpec("test_size", .number, default: .number(0), "fraction held out for the reported metrics (0: none)"),
        PortSpec("cv", .integer, "cross-validation folds (also reports cv_ metrics)"),
    ]

    static func request(_ inputs: ComponentInputs, digest: Digest?) throws -> TrainingRequest {
        var params: [String: String] = [:]
        var seed = UInt64(max(0, inputs.optionalNumber("seed") ?? 42))
        if case .object(let h)? = inputs.json("hyperparameters") {
            for (k, v) in h {
                if k == "seed", case .number(let d) = v { seed = UInt64(max(0, d)); continue }
                params[k] = PipelineValue.text(v)
            }
        }
        var features: [String]?
        if case .array(let f)? = inputs.json("features") { features = f.map { PipelineValue.text($0) } }
        var r = TrainingRequest(
            target: try inputs.string("target"), features: features, model: inputs.optionalString("model") ?? "random_forest",
            params: params, seed: seed, testFraction: inputs.optionalNumber("test_size") ?? 0)
        r.cvFolds = inputs.optionalNumber("cv").map { Int($0) }
        r.trainingDataDigest = digest?.description
        return r
    }

    /// Trains, logs a tracking run (params, metrics, the bundle), and returns the step's outputs.
    static func train(_ request: TrainingRequest, data: URL, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let result = try await ComponentWork.run { try Trainer.train(try CSVReader().read(contentsOf: data), request) }
        let modelURL = context.workDir.appendingPathComponent("model.fwm")
        try result.bundle.encoded().write(to: modelURL, options: .atomic)
        for (k, v) in result.metrics.sorted(by: { $0.key < $1.key }) { context.log("\(k) = \(PipelineValue.formatNumber(v))") }
        if let experiment = context.experimentID {
            var params = result.bundle.metadata.hyperparameters
            params["model"] = request.model
            params["target"] = request.target
            params["seed"] = String(request.seed)
            let run = try await context.tracking.startRun(
                in: experiment, name: context.step, parent: context.parentRunID,
                labels: ["flywheel.pipeline": context.pipeline, "flywheel.step": context.step], params: params, inputs: [data])
            try await context.tracking.log(run.id, metrics: result.metrics.map { ($0.key, $0.value) })
            try await context.tracking.logArtifact(run.id, from: modelURL, as: "model/model.fwm")
            try await context.tracking.endRun(run.id)
            context.recordRun(run.id)
        }
        var out: [String: PipelineValue] = [
            "model": try await context.output(modelURL, as: .model),
            "metrics": try await context.output(try StepTables.writeJSON(result.metrics, "metrics.json", in: context.workDir), as: .metrics),
        ]
        if !result.trials.isEmpty {
            out["best_params"] = .value(.object(result.bundle.metadata.hyperparameters.mapValues { .string($0) }))
        }
        return out
    }
}

/// learn/train: fits preprocessing and an estimator, packs a model bundle, logs a tracking run.
struct TrainComponent: Component {
    let name = "learn/train"
    let version = "1"
    let summary = "Train a model bundle (preprocessing + estimator) on a dataset; logs a tracking run with params, metrics and the bundle."
    let inputs = TrainingInputs.ports
    let outputs = [PortSpec("model", .model, "the model bundle (.fwm)"), PortSpec("metrics", .metrics, "held-out and cv metrics (JSON)")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let request = try TrainingInputs.request(inputs, digest: inputs.digest("data"))
        return try await TrainingInputs.train(request, data: try inputs.file("data"), context)
    }
}

/// learn/tune: searches hyperparameters by cross-validation, then trains on all the rows.
struct TuneComponent: Component {
    let name = "learn/tune"
    let version = "1"
    let summary = "Search hyperparameters (grid, random or bayes/TPE) by cross-validation, then train the best; one tracking run."
    let inputs = TrainingInputs.ports + [
        PortSpec("strategy", .string, default: .string("bayes"), "grid, random or bayes"),
        PortSpec("trials", .integer, default: .number(20), "how many settings to try"),
    ]
    let outputs = [
        PortSpec("model", .model, "the model bundle with the best settings"),
        PortSpec("metrics", .metrics, "metrics (JSON)"),
        PortSpec("best_params", .object, "the settings chosen"),
    ]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        var request = try TrainingInputs.request(inputs, digest: inputs.digest("data"))
        let name = inputs.optionalString("strategy") ?? "bayes"
        guard let strategy = SearchStrategy(rawValue: name) else {
            throw FlywheelError.invalidArgument("learn/tune: strategy '\(name)' is not grid, random or bayes")
        }
        let trials = Int(inputs.optionalNumber("trials") ?? 20)
        guard trials >= 1 else { throw FlywheelError.invalidArgument("learn/tune: trials must be at least 1") }
        request.tuning = TuningRequest(strategy: strategy, trials: trials)
        var out = try await TrainingInputs.train(request, data: try inputs.file("data"), context)
        if out["best_params"] == nil { out["best_params"] = .value(.object([:])) }
        return out
    }
}

/// learn/evaluate: a bundle's metrics on labelled rows.
struct EvaluateComponent: Component {
    let name = "learn/evaluate"
    let version = "1"
    let summary = "Score a model on labelled rows: accuracy, balanced accuracy, F1, log loss, ROC AUC; or MSE, RMSE, MAE, R²."
    let inputs = [PortSpec("model", .model, required: true, "a model bundle"), PortSpec("data", .dataset, required: true, "labelled rows")]
    let outputs = [PortSpec("metrics", .metrics, "the metrics (JSON); fields are readable as steps.S.outputs.metrics.NAME")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let modelURL = try inputs.file("model"), dataURL = try inputs.file("data")
        let metrics = try await ComponentWork.run { try Trainer.evaluate(try StepTables.bundle(modelURL), on: try CSVReader().read(contentsOf: dataURL)) }
        for (k, v) in metrics.sorted(by: { $0.key < $1.key }) { context.log("\(k) = \(PipelineValue.formatNumber(v))") }
        return ["metrics": try await context.output(try StepTables.writeJSON(metrics, "metrics.json", in: context.workDir), as: .metrics)]
    }
}

/// batch/predict: predictions for a whole dataset, streamed in chunks.
struct BatchPredictComponent: Component {
    let name = "batch/predict"
    let version = "1"
    let summary = "Predict every row of a dataset with a model bundle; writes the rows with prediction (and proba_<class>) columns."
    let inputs = [PortSpec("model", .model, required: true, "a model bundle"), PortSpec("data", .dataset, required: true, "rows to predict")]
    let outputs = [PortSpec("predictions", .dataset, "the rows with their predictions"), PortSpec("rows", .integer, "rows predicted")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let modelURL = try inputs.file("model"), dataURL = try inputs.file("data")
        let out = context.workDir.appendingPathComponent("predictions.csv")
        let summary = try await ComponentWork.run {
            try BatchPrediction.run(try StepTables.bundle(modelURL), input: dataURL, inputIsJSONLines: false, output: out, outputIsJSONLines: false)
        }
        context.log("predicted \(summary.rows) rows")
        return ["predictions": try await context.output(out, as: .dataset), "rows": .value(.number(Double(summary.rows)))]
    }
}
