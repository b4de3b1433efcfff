import ArgumentParser
import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import Foundation

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a CSV or JSON Lines file and write a model bundle.",
        discussion: prose("""
            Models: \(ModelCatalog.names.joined(separator: ", ")). The target's type picks the task:
            a numeric target is regression, anything else classification.
            Holds out --test-size of the rows (stratified) for evaluation; --cv K adds K-fold
            cross-validation; --tune searches hyperparameters by cross-validation.
            Inside a workspace the training is logged as a run (params, metrics, the data's digest,
            the bundle as artifact model/model.fwm); --register NAME also registers it as a new
            version of model NAME.
            """))

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Training data (CSV or JSON Lines).") var data: String
    @Option(help: "The column to predict.") var target: String
    @Option(help: "The model: \(ModelCatalog.names.joined(separator: ", ")).") var model = "random_forest"
    @Option(name: .customLong("param"), help: ArgumentHelp("A hyperparameter KEY=VALUE (repeatable).", valueName: "key=value"))
    var params: [String] = []
    @Option(help: "Comma-separated input columns (default: all but the target).") var features: String?
    @Option(name: .customLong("test-size"), help: "Share of rows held out for evaluation (0 to train on all).") var testSize = 0.2
    @Option(help: "K-fold cross-validation on the training rows.") var cv: Int?
    @Option(help: "Search hyperparameters: grid, random or bayes.") var tune: String?
    @Option(help: "Trials for --tune.") var trials = 20
    @Option(help: "The random seed (split, model, search).") var seed: UInt64 = 42
    @Option(name: [.short, .long], help: "Where to write the model bundle (optional with --register: the registry keeps it).") var out: String?
    @Option(name: [.short, .long], help: "The experiment to log the run in (inside a workspace).") var experiment = "training"
    @Option(help: "Register the bundle as a new version of this model (needs a workspace).") var register: String?
    @Option(help: "With --register: point this alias at the new version.") var alias: String?

    func validate() throws {
        if let cv, cv < 2 { throw ValidationError("--cv must be at least 2") }
        if let tune, SearchStrategy(rawValue: tune) == nil { throw ValidationError("--tune '\(tune)' is not valid: expected grid, random or bayes") }
        if trials < 1 { throw ValidationError("--trials must be at least 1") }
        if !(0..<1).contains(testSize) { throw ValidationError("--test-size must be at least 0 and below 1") }
        if alias != nil && register == nil { throw ValidationError("--alias needs --register NAME") }
        if out == nil && register == nil { throw ValidationError("give --out FILE to write the model, or --register NAME to keep it in the registry (or both)") }
        if !ModelCatalog.names.contains(model) {
            throw ValidationError("--model '\(model)' is not valid: expected one of \(ModelCatalog.names.joined(separator: ", "))")
        }
    }

    struct Summary: Encodable {
        var out: String
        var task: String
        var metrics: [String: Double]
        var hyperparameters: [String: String]
        var runID: String?
        var registered: String?
    }

    func run() async throws {
        BatchMemory.prepare()
        let hyper = try parseDictionary(params, flag: "--param")
        let url = try DataFile.url(data)
        let started = Date()
        let table = try DataFile.read(data)
        let digest = try Digest.ofFile(at: url).digest
        // A workspace is optional: without one the bundle is simply written.
        let ws: Workspace?
        do { ws = try global.open() } catch let e as FlywheelError
            where e.code == .notFound && global.workspace == nil && ProcessInfo.processInfo.environment["FLYWHEEL_WORKSPACE"] == nil
        {
            ws = nil  // none found upwards: train without logging; a named or broken workspace is an error
        }
        if register != nil, ws == nil {
            throw FlywheelError.notFound("--register needs a workspace: run 'flywheel init' or pass --workspace")
        }
        var parent: Run?
        if let ws {
            let exp = try await ws.tracking.ensureExperiment(named: experiment)
            let env = RunEnvironment.capture(
                commandLine: CommandLine.arguments, workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                user: ProcessInfo.processInfo.environment["USER"], flywheelVersion: FlywheelCommand.version, seed: seed)
            parent = try await ws.tracking.startRun(
                in: exp.id, params: ["model": model, "target": target, "seed": String(seed)].merging(hyper) { $1 },
                environment: env, inputs: [url])
        }
        let trialRuns = TrialLogger(ws: ws, parent: parent)
        let request = TrainingRequest(
            target: target, features: features.map { $0.split(separator: ",").map { String($0).trimmingWhitespaceAndQuotes() } },
            model: model, params: hyper, seed: seed, testFraction: testSize, cvFolds: cv,
            tuning: tune.flatMap(SearchStrategy.init(rawValue:)).map { TuningRequest(strategy: $0, trials: trials) },
            trainingDataDigest: digest.description, flywheelVersion: FlywheelCommand.version)
        let result: TrainingResult
        do {
            result = try Trainer.train(table, request) { trial, scores in trialRuns.record(trial, scores) }
        } catch {
            if let ws, let parent { try? await ws.tracking.endRun(parent.id, status: .failed) }
            throw error
        }
        try await trialRuns.flush()
        let bytes = try result.bundle.encoded()
        // Without --out the bundle only passes through a temporary file on its way to the blob store.
        let outURL = out.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-\(UUID().uuidString).fwm")
        defer { if out == nil { try? FileManager.default.removeItem(at: outURL) } }
        do { try bytes.write(to: outURL, options: .atomic) } catch {
            throw FlywheelError.invalidArgument("cannot write '\(outURL.path)': \(error.localizedDescription)")
        }
        var registered: String?
        if let ws, let parent {
            try await ws.tracking.log(parent.id, metrics: result.metrics.map { ($0.key, $0.value) },
                                      params: result.bundle.metadata.hyperparameters.filter { hyper[$0.key] == nil })
            try await ws.tracking.logArtifact(parent.id, from: outURL, as: "model/model.fwm")
            try await ws.tracking.endRun(parent.id)
            if let name = register {
                if try await ws.store.model(named: name) == nil { try await ws.registry.createModel(name: name) }
                let who = Attribution(actor: GlobalOptions.actor(), reason: "flywheel train")
                let v = try await ws.registry.createVersion(
                    model: name, run: parent.id, source: .runArtifact("model/model.fwm"), signature: result.bundle.signatureJSON,
                    description: "\(model) on \(url.lastPathComponent)", by: who)
                if let alias { try await ws.registry.setAlias(alias, model: name, version: v.version, by: who) }
                registered = "models:/\(name)/\(v.version)"
            }
        }
        if output.json {
            return try Output.json(Summary(out: out ?? "", task: result.bundle.task.rawValue, metrics: result.metrics,
                                           hyperparameters: result.bundle.metadata.hyperparameters, runID: parent?.id.rawValue,
                                           registered: registered))
        }
        Output.line("trained \(model) (\(result.bundle.task.rawValue)) on \(result.bundle.metadata.trainingRows) rows of \(data) in \(String(format: "%.2f", Date().timeIntervalSince(started)))s")
        if !result.trials.isEmpty, let best = result.trials.min(by: { $0.loss < $1.loss }) {
            Output.line("tuned over \(result.trials.count) trials; best: \(best.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
        Output.table(["METRIC", "VALUE"], result.metrics.sorted { $0.key < $1.key }.map { [$0.key, Output.number($0.value)] })
        if let out { Output.line("wrote \(out) (\(bytes.count) bytes)") }
        if let parent { Output.line("run \(parent.id)") }
        if let registered { Output.line("registered \(registered)\(alias.map { " as @\($0)" } ?? "")") }
    }
}

/// Logs each tuning trial as a nested run (collected during training, written afterwards).
final class TrialLogger: @unchecked Sendable {
    let ws: Workspace?
    let parent: Run?
    private var pending: [(Trial, [String: Double])] = []

    init(ws: Workspace?, parent: Run?) {
        self.ws = ws
        self.parent = parent
    }

    func record(_ t: Trial, _ scores: [String: Double]) { pending.append((t, scores)) }

    func flush() async throws {
        guard let ws, let parent else { return }
        for (t, scores) in pending {
            let child = try await ws.tracking.startRun(
                in: parent.experimentID, name: "\(parent.name)-trial-\(t.index)", parent: parent.id,
                params: Dictionary(uniqueKeysWithValues: t.params.map { ($0.key, $0.value.description) }))
            try await ws.tracking.log(child.id, metrics: scores.map { ($0.key, $0.value) } + [("loss", t.loss)])
            try await ws.tracking.endRun(child.id)
        }
    }
}

extension String {
    func trimmingWhitespaceAndQuotes() -> String { trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }
}
