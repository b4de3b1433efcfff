import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation

/// data/load: reads a CSV or JSON Lines file, checks it parses, and hands it on as a dataset.
struct LoadComponent: Component {
    let name = "data/load"
    let version = "1"
    let summary = "Read a CSV or JSON Lines file (header required) and pass it on as a dataset; fails with the line of any malformed row."
    let inputs = [PortSpec("path", .file, required: true, "the file, relative to the workspace")]
    let outputs = [
        PortSpec("table", .dataset, "the rows as CSV"),
        PortSpec("rows", .integer, "number of rows"),
        PortSpec("columns", .list, "column names"),
    ]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let url = try inputs.file("path")
        let original = inputs.optionalString("path") ?? url.path
        let jsonLines = BatchPrediction.isJSONLines(original)
        let table = try await ComponentWork.run { try StepTables.read(url, jsonLines: jsonLines) }
        context.log("loaded \(table.rowCount) rows × \(table.columns.count) columns")
        // A CSV passes through byte for byte (same digest as the file); JSON Lines becomes CSV.
        let out = jsonLines ? try StepTables.write(table, "table.csv", in: context.workDir) : url
        return [
            "table": try await context.output(out, as: .dataset),
            "rows": .value(.number(Double(table.rowCount))),
            "columns": .value(.array(table.columnNames.map { .string($0) })),
        ]
    }
}

/// data/validate: checks a dataset against a schema (YAML) and reports anomalies.
struct ValidateComponent: Component {
    let name = "data/validate"
    let version = "1"
    let summary = "Check a dataset against a schema: missing or extra columns, types, missing fractions, ranges, unseen categories."
    let inputs = [
        PortSpec("data", .dataset, required: true, "the rows to check"),
        PortSpec("schema", .file, required: true, "a schema YAML file (flywheel data infer-schema writes one)"),
        PortSpec("fail_on_anomaly", .boolean, default: .bool(true), "fail the step when there is any anomaly"),
    ]
    let outputs = [
        PortSpec("report", .metrics, "the anomaly report (JSON)"),
        PortSpec("passed", .boolean, "true when there are no anomalies"),
        PortSpec("anomalies", .integer, "number of anomalies"),
    ]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let schema = try SchemaYAML.load(try inputs.file("schema"))
        let dataURL = try inputs.file("data")
        let declared = Dictionary(uniqueKeysWithValues: schema.columns.filter { $0.type == .categorical }.map { ($0.name, ColumnType.categorical) })
        let report = try await ComponentWork.run { schema.validate(try CSVReader(types: declared).readLenient(contentsOf: dataURL)) }
        for a in report.anomalies { context.log("anomaly: \(a.message)") }
        context.log(report.isValid ? "\(report.rows) rows fit the schema" : "\(report.anomalies.count) anomalies in \(report.rows) rows")
        if !report.isValid && inputs.bool("fail_on_anomaly", default: true) {
            throw FlywheelError.failedPrecondition(
                "the data breaks the schema: " + report.anomalies.prefix(5).map { a in
                    a.message + (a.examples.isEmpty ? "" : " (e.g. \(a.examples.prefix(3).joined(separator: ", ")))")
                }.joined(separator: "; ")
                    + (report.anomalies.count > 5 ? "; and \(report.anomalies.count - 5) more" : ""))
        }
        return [
            "report": try await context.output(try StepTables.writeJSON(report, "report.json", in: context.workDir), as: .metrics),
            "passed": .value(.bool(report.isValid)),
            "anomalies": .value(.number(Double(report.anomalies.count))),
        ]
    }
}

/// data/profile: per-column statistics, the reference for drift monitoring.
struct ProfileComponent: Component {
    let name = "data/profile"
    let version = "1"
    let summary = "Profile a dataset: counts, missing, mean, std, quantiles, histograms, category frequencies (JSON)."
    let inputs = [PortSpec("data", .dataset, required: true, "the rows to profile")]
    let outputs = [PortSpec("profile", .metrics, "the profile (JSON)")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let url = try inputs.file("data")
        let profile = try await ComponentWork.run { try CSVReader().profile(contentsOf: url) }
        context.log("profiled \(profile.rows) rows, \(profile.columns.count) columns")
        return ["profile": try await context.output(try StepTables.writeJSON(profile, "profile.json", in: context.workDir), as: .metrics)]
    }
}

/// data/split: a seeded train/test split, stratified on a column if asked.
struct SplitComponent: Component {
    let name = "data/split"
    let version = "1"
    let summary = "Split a dataset into train and test rows, seeded, optionally stratified by a column."
    let inputs = [
        PortSpec("data", .dataset, required: true, "the rows to split"),
        PortSpec("test_size", .number, default: .number(0.25), "fraction of rows for the test set (0 < f < 1)"),
        PortSpec("stratify", .string, "a column whose class shares both parts keep"),
        PortSpec("seed", .integer, default: .number(42), "the shuffle's seed"),
    ]
    let outputs = [PortSpec("train", .dataset, "training rows"), PortSpec("test", .dataset, "test rows")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let url = try inputs.file("data")
        let fraction = try inputs.number("test_size")
        guard fraction > 0, fraction < 1 else { throw FlywheelError.invalidArgument("data/split: test_size \(fraction) must be between 0 and 1") }
        let seed = UInt64(max(0, try inputs.number("seed")))
        let stratify = inputs.optionalString("stratify")
        let dir = context.workDir
        let (train, test) = try await ComponentWork.run { () throws -> (URL, URL) in
            let table = try CSVReader().read(contentsOf: url)
            let split = TrainTestSplit(testFraction: fraction, seed: seed)
            let fold: Fold
            if let stratify {
                let column = try table.requireColumn(stratify)
                let texts = (0..<table.rowCount).map { column.text($0) ?? "" }
                let index = Dictionary(uniqueKeysWithValues: Set(texts).sorted().enumerated().map { ($1, $0) })
                fold = try split.split(labels: texts.map { index[$0] ?? 0 })
            } else {
                fold = try split.split(rowCount: table.rowCount)
            }
            return (try StepTables.write(table.selecting(rows: fold.train), "train.csv", in: dir),
                    try StepTables.write(table.selecting(rows: fold.test), "test.csv", in: dir))
        }
        context.log("split into train and test\(stratify.map { " stratified by \($0)" } ?? "")")
        return ["train": try await context.output(train, as: .dataset), "test": try await context.output(test, as: .dataset)]
    }
}
