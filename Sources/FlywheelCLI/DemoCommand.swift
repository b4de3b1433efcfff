import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Make a workspace, track an experiment of a few training runs, register the best, compare.",
        discussion: prose("""
            Trains a small linear model by gradient descent on a generated dataset with four
            settings, logging params, per-epoch metrics, the dataset's digest and the model file
            as artifacts; registers the run with the lowest validation RMSE as version 1 of model
            'demo-regressor' with alias 'production', and prints the comparison.
            """))

    @Option(help: "Where to make the workspace (default: a new temporary folder).") var dir: String?
    @OptionGroup var output: OutputOptions

    struct Summary: Encodable {
        var workspace: String
        var experiment: String
        var runs: RunComparison
        var best: RunID
        var registered: String
    }

    func run() async throws {
        let root: URL
        if let dir {
            root = URL(fileURLWithPath: dir).standardizedFileURL
        } else {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-demo-\(UUID().uuidString.prefix(8).lowercased())")
        }
        let say: (String) -> Void = output.json ? { _ in } : { Output.line($0) }
        try Workspace.initialize(at: root)
        let ws = try Workspace.open(root)
        say("workspace   \(root.path)")

        // A dataset with a known linear relationship, written as the runs' input file.
        let data = DemoData.generate(rows: 1000, seed: 7)
        let csv = root.appendingPathComponent("data.csv")
        try data.csv().write(to: csv, atomically: true, encoding: .utf8)
        say("dataset     \(csv.path) (1000 rows, 3 features)")

        let exp = try await ws.tracking.ensureExperiment(named: "demo-regression")
        let settings: [(lr: Double, l2: Double)] = [(0.01, 0), (0.05, 0), (0.2, 0), (0.2, 0.1)]
        var ids: [RunID] = []
        let env = RunEnvironment.capture(
            commandLine: CommandLine.arguments, workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            user: ProcessInfo.processInfo.environment["USER"], flywheelVersion: FlywheelCommand.version, seed: 7)
        for (lr, l2) in settings {
            let run = try await ws.tracking.startRun(
                in: exp.id, labels: ["demo": "true"], params: ["learning_rate": Output.number(lr), "l2": Output.number(l2), "epochs": "40"],
                environment: env, inputs: [csv])
            let model = try await DemoData.train(data, learningRate: lr, l2: l2, epochs: 40) { epoch, trainMSE, valRMSE in
                try await ws.tracking.log(run.id, metrics: [("train_mse", trainMSE), ("val_rmse", valRMSE)], step: Int64(epoch))
            }
            try await ws.tracking.log(run.id, metrics: [("val_r2", model.valR2)], step: 40)
            let file = root.appendingPathComponent("model-\(run.id.rawValue.prefix(8)).json")
            try JSONEncoder().encode(model.weights).write(to: file)
            try await ws.tracking.logArtifact(run.id, from: file, as: "model/weights.json")
            try FileManager.default.removeItem(at: file)
            try await ws.tracking.endRun(run.id)
            ids.append(run.id)
            say("run         \(run.id)  lr=\(Output.number(lr)) l2=\(Output.number(l2))  val_rmse=\(Output.number(model.valRMSE))")
        }

        let best = try await ws.tracking.search(RunQuery(
            experimentIDs: [exp.id], filter: try RunFilter(parsing: "labels.demo = 'true' and status = 'finished'"),
            orderBy: [RunOrder(field: .metric("val_rmse"), ascending: true)], limit: 1)).runs[0].run.id
        let who = Attribution(actor: GlobalOptions.actor(), reason: "lowest val_rmse in the demo")
        if try await ws.store.model(named: "demo-regressor") == nil {
            try await ws.registry.createModel(name: "demo-regressor", description: "Linear model from flywheel demo")
        }
        let signature: JSONValue = .object(["inputs": .array(["x1", "x2", "x3"].map { .object(["name": .string($0), "type": .string("double")]) })])
        let v = try await ws.registry.createVersion(
            model: "demo-regressor", run: best, source: .runArtifact("model/weights.json"), signature: signature, by: who)
        try await ws.registry.setAlias("production", model: "demo-regressor", version: v.version, by: who)
        let uri = "models:/demo-regressor@production"
        say("registered  \(uri) -> version \(v.version) from run \(best)")

        let comparison = try await ws.tracking.compare(ids)
        if output.json {
            return try Output.json(Summary(workspace: root.path, experiment: exp.name, runs: comparison, best: best, registered: uri))
        }
        say("")
        say(CompareTable.render(comparison))
        say("")
        say("Look around:")
        say("  cd \(root.path)")
        say("  flywheel runs list -e demo-regression --order-by 'metrics.val_rmse asc'")
        say("  flywheel runs show \(best)")
        say("  flywheel models show demo-regressor")
        say("  flywheel lineage show \(uri)")
    }
}

/// The demo's generated data and its tiny gradient-descent trainer.
enum DemoData {
    struct Dataset {
        var x: [[Double]]
        var y: [Double]

        func csv() -> String {
            var s = "x1,x2,x3,y\n"
            for (row, t) in zip(x, y) { s += row.map { String($0) }.joined(separator: ",") + ",\(t)\n" }
            return s
        }
    }

    struct Model {
        var weights: [Double]  // bias first
        var valRMSE: Double
        var valR2: Double
    }

    /// A standard normal draw (Box–Muller) from the seeded generator, so the demo gives the same
    /// numbers everywhere.
    static func normal(_ rng: inout SeededRandom) -> Double {
        let u = max(rng.unit(), 1e-300), v = rng.unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    static func generate(rows: Int, seed: UInt64) -> Dataset {
        var rng = SeededRandom(seed: seed)
        var x: [[Double]] = []
        var y: [Double] = []
        for _ in 0..<rows {
            let r = [normal(&rng), normal(&rng), normal(&rng)]
            x.append(r)
            y.append(1.5 + 3 * r[0] - 2 * r[1] + 0.5 * r[2] + 0.5 * normal(&rng))
        }
        return Dataset(x: x, y: y)
    }

    static func train(
        _ d: Dataset, learningRate: Double, l2: Double, epochs: Int,
        report: (Int, Double, Double) async throws -> Void
    ) async rethrows -> Model {
        let split = d.x.count * 4 / 5
        var w = [Double](repeating: 0, count: 4)
        func predict(_ r: [Double]) -> Double { w[0] + w[1] * r[0] + w[2] * r[1] + w[3] * r[2] }
        func valStats() -> (rmse: Double, r2: Double) {
            let ys = d.y[split...]
            let mean = ys.reduce(0, +) / Double(ys.count)
            var sse = 0.0, sst = 0.0
            for i in split..<d.x.count {
                sse += pow(predict(d.x[i]) - d.y[i], 2)
                sst += pow(d.y[i] - mean, 2)
            }
            return ((sse / Double(ys.count)).squareRoot(), 1 - sse / sst)
        }
        for epoch in 1...epochs {
            var grad = [Double](repeating: 0, count: 4)
            var mse = 0.0
            for i in 0..<split {
                let err = predict(d.x[i]) - d.y[i]
                mse += err * err
                grad[0] += err
                for j in 0..<3 { grad[j + 1] += err * d.x[i][j] }
            }
            for j in 0..<4 { w[j] -= learningRate * (2 * grad[j] / Double(split) + (j > 0 ? 2 * l2 * w[j] : 0)) }
            try await report(epoch, mse / Double(split), valStats().rmse)
        }
        let s = valStats()
        return Model(weights: w, valRMSE: s.rmse, valR2: s.r2)
    }
}
