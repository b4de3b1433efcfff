// `flywheel-bench learn …`: times FlywheelData and FlywheelLearn on the 100k-row sets, for
// bench/learn.sh, which runs the same work in scikit-learn (bench/learn_sklearn.py).
//
//   learn csv   --file F.csv [--repeats N] [--threads N]
//       CSVReader on F, N times: median wall and CPU seconds, MB/s (--threads: parse threads,
//       every core by default).
//   learn fit   --task classification|regression --data F.csv --test-idx F.txt
//               --model random_forest|hist_gradient_boosting|decision_tree|linear
//               [--repeats N] [--predict-repeats N] [--trees 100] [--threads N] [--seed 0]
//               [--early-stopping off|auto|on] [--predict-all-repeats N]  (N > 0: also predict every row of the file)
//       fits the estimator on the training rows N times, predicts the test rows, scores them.
//       `linear` is LogisticRegression on standardized features (classification) or
//       LinearRegression (regression).
//   learn serve --data F.csv --test-idx F.txt [--calls 10000] [--batch-repeats 3] [--trees 100] [--seed 0]
//       trains a random-forest bundle through Trainer on the training rows, then times
//       single-row prediction three ways and batch prediction of every row of F (on every core
//       and on one thread, and through Predictor).
import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation

func runLearn(_ arguments: [String]) throws {
    switch arguments.first {
    case "csv": try learnCSV(Array(arguments.dropFirst()))
    case "fit": try learnFit(Array(arguments.dropFirst()))
    case "serve": try learnServe(Array(arguments.dropFirst()))
    default: fail("usage: flywheel-bench learn csv|fit|serve [options]")
    }
}

// MARK: - Data

/// A CSV data set with its features as a matrix and the benchmark's train/test split.
struct BenchDataset {
    let table: Table
    let featureNames: [String]
    /// Every row, features only, in file order.
    let x: Matrix
    /// The target column as numbers (class labels 0, 1, … for the classification set).
    let y: [Double]
    let trainRows: [Int]
    let testRows: [Int]

    init(table: Table, target: String, testIndexFile: String) throws {
        self.table = table
        featureNames = table.columnNames.filter { $0 != target }
        let n = table.rowCount
        let d = featureNames.count
        var values = [Double](repeating: 0, count: n * d)
        for (c, name) in featureNames.enumerated() {
            guard case .numeric(let v) = try table.requireColumn(name).storage else { fail("feature \(name) is not numeric") }
            for r in 0..<n { values[r * d + c] = v[r] }
        }
        x = Matrix(rows: n, columns: d, values: values)
        let t = try table.requireColumn(target)
        switch t.storage {
        case .numeric(let v): y = v
        default: y = (0..<n).map { Double(t.text($0) ?? "") ?? .nan }
        }
        let text = try String(contentsOfFile: testIndexFile, encoding: .utf8)
        let test = text.split(whereSeparator: \.isNewline).map { line -> Int in
            guard let i = Int(line.trimmingCharacters(in: .whitespaces)), (0..<n).contains(i) else {
                fail("bad row index '\(line)' in \(testIndexFile)")
            }
            return i
        }
        let inTest = Set(test)
        testRows = test
        trainRows = (0..<n).filter { !inTest.contains($0) }
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

// MARK: - csv

func learnCSV(_ arguments: [String]) throws {
    let o = OptionBag(arguments, known: ["file", "repeats", "threads"], mode: "learn csv")
    let path = o.string("file")
    let repeats = max(1, o.int("repeats", 5))
    var reader = CSVReader()
    reader.tuning.threads = o.optionalInt("threads")
    let url = URL(fileURLWithPath: path)
    let bytes = fileSize(path)
    var samples: [Sample] = []
    var rows = 0, columns = 0
    for i in 0..<repeats {
        let (table, s) = try measure { try reader.read(contentsOf: url) }
        rows = table.rowCount
        columns = table.columns.count
        samples.append(s)
        note("csv \(i + 1)/\(repeats): \(String(format: "%.3f", s.wall)) s")
    }
    var out = summary(samples)
    let wall = median(samples.map(\.wall))
    out["bytes"] = bytes
    out["rows"] = rows
    out["columns"] = columns
    out["mb_per_second"] = Double(bytes) / 1e6 / wall
    try printJSON(out)
}

// MARK: - fit

func learnFit(_ arguments: [String]) throws {
    let o = OptionBag(arguments, known: ["task", "data", "test-idx", "model", "repeats", "predict-repeats", "trees", "threads",
                                        "seed", "early-stopping", "target", "predict-all-repeats"], mode: "learn fit")
    let task = o.string("task")
    let model = o.string("model")
    let repeats = max(1, o.int("repeats", 3))
    let predictRepeats = max(1, o.int("predict-repeats", 5))
    let predictAllRepeats = max(0, o.int("predict-all-repeats", 0))
    let trees = o.int("trees", 100)
    let threads = o.optionalInt("threads")
    let seed = UInt64(o.int("seed", 0))
    guard let early = EarlyStopping(rawValue: o.string("early-stopping", "off")) else { fail("--early-stopping is off, auto or on") }
    guard task == "classification" || task == "regression" else { fail("--task is classification or regression") }

    let ((data, xTrain, xTest), load) = try measure { () throws -> (BenchDataset, Matrix, Matrix) in
        let table = try CSVReader().read(contentsOf: URL(fileURLWithPath: o.string("data")))
        let data = try BenchDataset(table: table, target: o.string("target", "target"), testIndexFile: o.string("test-idx"))
        return (data, data.x.selecting(rows: data.trainRows), data.x.selecting(rows: data.testRows))
    }
    var out: [String: Any] = [
        "side": "flywheel", "task": task, "model": model, "train_rows": data.trainRows.count, "test_rows": data.testRows.count,
        "features": data.featureNames.count, "load_seconds": load.wall, "threads": threads ?? ProcessInfo.processInfo.activeProcessorCount,
    ]

    if task == "classification" {
        let yTrain = data.trainRows.map { Int(data.y[$0]) }
        let yTest = data.testRows.map { Int(data.y[$0]) }
        let classCount = (yTrain.max() ?? 0) + 1
        var fitX = xTrain, testX = xTest
        if model == "linear" {
            // Standardize with the training rows' mean and population std (StandardScaler); not timed as fit.
            let (scaled, s) = measure { standardize(train: xTrain, test: xTest) }
            (fitX, testX) = scaled
            out["standardize_seconds"] = s.wall
        }
        func run<C: Classifier>(_ make: () -> C, extras: (C) -> [String: Any]) throws {
            var fitted = make()
            var fits: [Sample] = []
            for i in 0..<repeats {
                var m = make()
                let (_, s) = try measure { try m.fit(fitX, yTrain, classCount: classCount) }
                fits.append(s)
                fitted = m
                note("\(model) fit \(i + 1)/\(repeats): \(String(format: "%.3f", s.wall)) s wall, \(String(format: "%.3f", s.cpu)) s CPU")
            }
            var predicted: [Int] = []
            var predicts: [Sample] = []
            for _ in 0..<predictRepeats {
                let (p, s) = measure { fitted.predict(testX) }
                predicted = p
                predicts.append(s)
            }
            out["fit"] = summary(fits)
            out["predict"] = summary(predicts)
            out["predict_rows_per_second"] = Double(testX.rows) / median(predicts.map(\.wall))
            out["accuracy"] = ClassificationMetrics.accuracy(yTrue: yTest, yPred: predicted)
            if predictAllRepeats > 0 {
                // Every row of the file (the training rows too), as a batch, for throughput alone.
                var allX = data.x
                if model == "linear" { allX = standardize(train: xTrain, test: data.x).1 }
                let all = (0..<predictAllRepeats).map { _ in measure { fitted.predictProbabilities(allX) }.1 }
                out["predict_all"] = summary(all)
                out["predict_all_rows_per_second"] = Double(allX.rows) / median(all.map(\.wall))
            }
            out["extras"] = extras(fitted)
        }
        switch model {
        case "random_forest":
            try run({ RandomForestClassifier(RandomForestHyperparameters(treeCount: trees, seed: seed), threadCount: threads) }) { m in
                forestExtras(m.trees)
            }
        case "hist_gradient_boosting":
            try run({ HistGradientBoostingClassifier(HistGradientBoostingHyperparameters(earlyStopping: early, seed: seed), threadCount: threads) }) { m in
                ["iterations": m.ensemble.iterationCount, "early_stopping": early.rawValue]
            }
        case "decision_tree":
            try run({ DecisionTreeClassifier(DecisionTreeHyperparameters(seed: seed)) }) { m in
                ["depth": m.tree.depth, "nodes": m.tree.nodeCount, "leaves": m.tree.leaves.count]
            }
        case "linear":
            try run({ LogisticRegression() }) { m in
                ["iterations": m.iterations, "converged": m.converged, "estimator": "LogisticRegression (standardized)"]
            }
        default: fail("unknown --model \(model)")
        }
    } else {
        let yTrain = data.trainRows.map { data.y[$0] }
        let yTest = data.testRows.map { data.y[$0] }
        func run<R: Regressor>(_ make: () -> R, extras: (R) -> [String: Any]) throws {
            var fitted = make()
            var fits: [Sample] = []
            for i in 0..<repeats {
                var m = make()
                let (_, s) = try measure { try m.fit(xTrain, yTrain) }
                fits.append(s)
                fitted = m
                note("\(model) fit \(i + 1)/\(repeats): \(String(format: "%.3f", s.wall)) s wall, \(String(format: "%.3f", s.cpu)) s CPU")
            }
            var predicted: [Double] = []
            var predicts: [Sample] = []
            for _ in 0..<predictRepeats {
                let (p, s) = measure { fitted.predict(xTest) }
                predicted = p
                predicts.append(s)
            }
            out["fit"] = summary(fits)
            out["predict"] = summary(predicts)
            out["predict_rows_per_second"] = Double(xTest.rows) / median(predicts.map(\.wall))
            out["r2"] = RegressionMetrics.r2(yTrue: yTest, yPred: predicted)
            if predictAllRepeats > 0 {
                // Every row of the file (the training rows too), as a batch, for throughput alone.
                let all = (0..<predictAllRepeats).map { _ in measure { fitted.predict(data.x) }.1 }
                out["predict_all"] = summary(all)
                out["predict_all_rows_per_second"] = Double(data.x.rows) / median(all.map(\.wall))
            }
            out["extras"] = extras(fitted)
        }
        switch model {
        case "random_forest":
            try run({ RandomForestRegressor(RandomForestHyperparameters(treeCount: trees, seed: seed), threadCount: threads) }) { m in
                forestExtras(m.trees)
            }
        case "hist_gradient_boosting":
            try run({ HistGradientBoostingRegressor(HistGradientBoostingHyperparameters(earlyStopping: early, seed: seed), threadCount: threads) }) { m in
                ["iterations": m.ensemble.iterationCount, "early_stopping": early.rawValue]
            }
        case "decision_tree":
            try run({ DecisionTreeRegressor(DecisionTreeHyperparameters(seed: seed)) }) { m in
                ["depth": m.tree.depth, "nodes": m.tree.nodeCount, "leaves": m.tree.leaves.count]
            }
        case "linear":
            try run({ LinearRegression() }) { _ in ["estimator": "LinearRegression"] }
        default: fail("unknown --model \(model)")
        }
    }
    try printJSON(out)
}

func forestExtras(_ trees: [TreeNodes]) -> [String: Any] {
    let nodes = trees.map(\.nodeCount)
    let depths = trees.map(\.depth)
    return [
        "trees": trees.count,
        "mean_nodes": Double(nodes.reduce(0, +)) / Double(max(trees.count, 1)),
        "mean_depth": Double(depths.reduce(0, +)) / Double(max(trees.count, 1)),
        "max_depth": depths.max() ?? 0,
    ]
}

/// Standardizes both matrices with the training rows' mean and population standard deviation.
func standardize(train: Matrix, test: Matrix) -> (Matrix, Matrix) {
    var scalers: [Scaler] = []
    for c in 0..<train.columns {
        var s = Scaler(.standard)
        s.fit((0..<train.rows).map { train[$0, c] })
        scalers.append(s)
    }
    func apply(_ m: Matrix) -> Matrix {
        var out = m
        for r in 0..<m.rows {
            for c in 0..<m.columns { out[r, c] = scalers[c].transform(m[r, c]) }
        }
        return out
    }
    return (apply(train), apply(test))
}

// MARK: - serve

func learnServe(_ arguments: [String]) throws {
    let o = OptionBag(arguments, known: ["data", "test-idx", "calls", "batch-repeats", "trees", "seed", "target"], mode: "learn serve")
    let calls = max(1, o.int("calls", 10_000))
    let batchRepeats = max(1, o.int("batch-repeats", 3))
    let trees = o.int("trees", 100)
    let seed = UInt64(o.int("seed", 0))
    let target = o.string("target", "target")

    // The target as text so Trainer treats it as a class label.
    let table = try CSVReader(types: [target: .categorical]).read(contentsOf: URL(fileURLWithPath: o.string("data")))
    let data = try BenchDataset(table: table, target: target, testIndexFile: o.string("test-idx"))
    let d = data.featureNames.count

    // 1. A bundle through Trainer (what `flywheel train` and serving use): preprocessing fitted on
    //    the training rows (median imputation, no scaling), a 100-tree forest on every core.
    let train = table.selecting(rows: data.trainRows)
    let request = TrainingRequest(target: target, model: "random_forest", params: ["n_trees": String(trees)], seed: seed, testFraction: 0)
    let (result, trainSample) = try measure { try Trainer.train(train, request) }
    let bundle = result.bundle
    guard case .randomForestClassifier(let forest) = bundle.model, let classes = bundle.classes else {
        fail("Trainer did not return a random-forest classifier")
    }
    guard bundle.preprocessor.featureNames == data.featureNames else { fail("the bundle's features are not the file's") }
    note("serve: Trainer.train \(String(format: "%.2f", trainSample.wall)) s")
    let classCount = classes.count
    let testLabels = data.testRows.map { r in classes.firstIndex(of: table.column(named: target)?.text(r) ?? "") ?? -1 }
    let testX = data.x.selecting(rows: data.testRows)
    let accuracy = ClassificationMetrics.accuracy(yTrue: testLabels, yPred: forest.predict(testX))

    // Rows cycled through by the single-row loops: the test rows.
    let rowCount = min(calls, data.testRows.count)
    var checksum = 0.0
    func latencies(warmup: Int = 500, _ call: (Int) throws -> Double) rethrows -> [String: Any] {
        for i in 0..<warmup { checksum += try call(i % rowCount) }
        var ns = [Double](repeating: 0, count: calls)
        let cpu0 = processCPUSeconds()
        let start = wallNanos()
        for i in 0..<calls {
            let t0 = wallNanos()
            checksum += try call(i % rowCount)
            ns[i] = Double(wallNanos() - t0)
        }
        let total = Double(wallNanos() - start) / 1e9
        let cpu = processCPUSeconds() - cpu0
        return [
            "calls": calls, "median_us": median(ns) / 1e3, "p90_us": quantile(ns, 0.9) / 1e3, "p99_us": quantile(ns, 0.99) / 1e3,
            "mean_us": ns.reduce(0, +) / Double(calls) / 1e3, "total_seconds": total, "cpu_seconds": cpu,
        ]
    }

    // 2a. The allocation-free per-row API: RandomForestClassifier.predictProbabilities(row:into:).
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: classCount)
    defer { buffer.deallocate() }
    let rowAPI = latencies { i in
        forest.predictProbabilities(row: data.x.row(data.testRows[i]), into: buffer)
        return buffer[1]
    }
    // 2b. predictProbabilities on a 1-row Matrix (the Classifier protocol), matrix built per call.
    let matrixAPI = latencies { i in
        let m = Matrix(rows: 1, columns: d, values: Array(data.x.row(data.testRows[i])))
        return forest.predictProbabilities(m).values[1]
    }
    // 2c. Predictor.predict(records:) on one raw record: signature checks, preprocessing, label and
    //     probabilities by class name — the serving path.
    let predictor = Predictor(bundle: bundle)
    let records: [[String: FeatureValue]] = (0..<rowCount).map { i in
        var rec: [String: FeatureValue] = [:]
        for (c, name) in data.featureNames.enumerated() { rec[name] = .number(data.x[data.testRows[i], c]) }
        return rec
    }
    let predictorAPI = try latencies { i in
        let p = try predictor.predict(records: [records[i]])
        return p[0].probabilities?[classes[1]] ?? 0
    }
    note("serve: single-row medians \(rowAPI["median_us"] ?? 0) / \(matrixAPI["median_us"] ?? 0) / \(predictorAPI["median_us"] ?? 0) µs")

    // 3. Batch prediction of every row of the file (100k rows).
    let all = data.x
    func batch(_ body: () throws -> Double) rethrows -> [String: Any] {
        var samples: [Sample] = []
        for _ in 0..<batchRepeats {
            let (c, s) = try measure(body)
            checksum += c
            samples.append(s)
        }
        var out = summary(samples)
        out["rows"] = all.rows
        out["rows_per_second"] = Double(all.rows) / median(samples.map(\.wall))
        return out
    }
    // 3a. predictProbabilities on the whole matrix, as the library does it (threadCount nil: every core).
    let batchMatrix = batch { forest.predictProbabilities(all).values[1] }
    // 3b. The same on one thread.
    var oneThread = forest
    oneThread.threadCount = 1
    let batchOneThread = batch { oneThread.predictProbabilities(all).values[1] }
    // 3c. Predictor.predict(table:), the path of `flywheel predict` (preprocessing + labels).
    let batchPredictor = try batch { try predictor.predict(table: table).predictions.count > 0 ? 1 : 0 }

    try printJSON([
        "side": "flywheel", "trees": forest.trees.count, "train_rows": data.trainRows.count, "test_accuracy": accuracy,
        "trainer": ["wall_seconds": trainSample.wall, "cpu_seconds": trainSample.cpu],
        "forest": forestExtras(forest.trees),
        "single_row": ["row_api": rowAPI, "matrix_1row": matrixAPI, "predictor_record": predictorAPI],
        "batch": ["matrix": batchMatrix, "matrix_1thread": batchOneThread, "predictor_table": batchPredictor,
                  "threads": ProcessInfo.processInfo.activeProcessorCount],
        "checksum": checksum,
    ])
}
