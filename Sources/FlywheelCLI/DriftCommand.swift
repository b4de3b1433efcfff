import ArgumentParser
import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelMonitoring
import Foundation

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare two datasets column by column: drift scores, verdicts and the dataset's verdict.",
        discussion: prose("""
            Each column present in both files is tested. With --method auto (the default) the
            test is chosen as Evidently chooses it: for a reference of at most 1,000 rows,
            Kolmogorov–Smirnov for numbers with more than 5 distinct values, else chi-square (more
            than 2 categories) or the two-proportion z-test; for larger references, Wasserstein
            distance normed by the reference's standard deviation for numbers and Jensen–Shannon
            distance for categories. Thresholds: p-values 0.05 (drift below), distances 0.1 (drift
            at or above). The dataset drifts when at least --drift-share of the tested columns do.
            Missing values are dropped first; a column with too few values, only on one side, or
            numeric on one side and categorical on the other gets a status instead of a score.
            Methods: \(DriftMethod.allCases.map(\.rawValue).joined(separator: ", ")).
            """))
    @OptionGroup var global: GlobalOptions
    @Argument(help: "REF CUR: the reference data (CSV or JSON Lines, e.g. the training set) and the current data; with --model, CUR only.")
    var files: [String] = []
    @Option(help: "Use this model's training profile as the reference (a .fwm file, NAME@ALIAS or NAME/VERSION).") var model: String?
    @Option(help: "auto, or one method for every column.") var method = "auto"
    @Option(name: .customLong("column-method"), help: ArgumentHelp("A method for one column (repeatable).", valueName: "column=method"))
    var columnMethods: [String] = []
    @Option(name: .customLong("threshold"), help: ArgumentHelp("A threshold for a method (repeatable).", valueName: "method=value"))
    var thresholds: [String] = []
    @Option(help: "Comma-separated columns to compare (default: all).") var columns: String?
    @Option(name: .customLong("drift-share"), help: "The share of drifted columns that makes the dataset drift.") var driftShare = 0.5
    @Option(name: .customLong("min-rows"), help: "Fewer values than this on a side is 'insufficient data'.") var minRows = 5
    @Flag(help: "Compute every measure for every column, not only the chosen one.") var all = false
    @Flag(help: "Print JSON for scripts.") var json = false
    @Option(help: "Also write an HTML page with a chart of the scores.") var html: String?

    func options() throws -> DriftOptions {
        var o = DriftOptions()
        if method != "auto" {
            guard let m = DriftMethod(rawValue: method) else {
                throw ValidationError("--method '\(method)' is not valid: expected auto or one of \(DriftMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            o.method = m
        }
        for (col, m) in try parsePairs(columnMethods, flag: "--column-method") {
            guard let dm = DriftMethod(rawValue: m) else { throw ValidationError("--column-method \(col)=\(m): '\(m)' is not a method") }
            o.columnMethods[col] = dm
        }
        for (m, v) in try parsePairs(thresholds, flag: "--threshold") {
            guard let dm = DriftMethod(rawValue: m) else { throw ValidationError("--threshold \(m)=\(v): '\(m)' is not a method") }
            guard let d = Double(v), d.isFinite, d >= 0 else { throw ValidationError("--threshold \(m)=\(v): '\(v)' is not a number ≥ 0") }
            o.thresholds[dm] = d
        }
        guard (0...1).contains(driftShare) else { throw ValidationError("--drift-share must be between 0 and 1") }
        guard minRows >= 1 else { throw ValidationError("--min-rows must be at least 1") }
        o.driftShare = driftShare
        o.minimumRows = minRows
        o.allMeasures = all
        return o
    }

    func validate() throws {
        _ = try options()
        if model != nil {
            guard files.count == 1 else { throw ValidationError("with --model, give one file: the current data") }
        } else {
            guard files.count == 2 else { throw ValidationError("give two files, REF and CUR (or --model M and CUR)") }
        }
    }

    func run() async throws {
        BatchMemory.prepare()
        let options = try options()
        let started = Date()
        let current = files[files.count - 1]
        let cur = try DataFile.read(current)
        let names = columns.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let report: DriftReport
        let title: String
        var readDone = Date()
        if let model {
            let bundle = try await ModelFile.bundle(model, global: global)
            readDone = Date()
            let profile = bundle.profile
            let known = profile.columns.map(\.name)
            for n in names ?? [] where !known.contains(n) && cur.column(named: n) == nil {
                throw FlywheelError.invalidArgument("--columns: '\(n)' is in neither the training profile nor the file (profile: \(known.joined(separator: ", ")))")
            }
            // By default the model's inputs: the profile also holds the target, which serving data lacks.
            let inputs = bundle.signature.map(\.name)
            report = DriftReport.compare(reference: profile, current: cur, columns: names ?? inputs, options: options)
            title = "\(model) training data → \(current)"
        } else {
            let ref = try DataFile.read(files[0])
            readDone = Date()
            for n in names ?? [] where ref.column(named: n) == nil && cur.column(named: n) == nil {
                throw FlywheelError.invalidArgument("--columns: '\(n)' is in neither file (columns: \(ref.columnNames.joined(separator: ", ")))")
            }
            report = DriftReport.compare(reference: ref, current: cur, columns: names, options: options)
            title = "\(files[0]) → \(current)"
        }
        let compared = Date()
        let readSeconds = readDone.timeIntervalSince(started), compareSeconds = compared.timeIntervalSince(readDone)
        if let html { try DriftHTML.write(report, title: title, to: URL(fileURLWithPath: html)) }
        if json {
            struct Out: Encodable {
                var report: DriftReport
                var readSeconds: Double
                var compareSeconds: Double
                func encode(to encoder: any Encoder) throws {
                    try report.encode(to: encoder)
                    enum Keys: String, CodingKey { case readSeconds, compareSeconds }
                    var c = encoder.container(keyedBy: Keys.self)
                    try c.encode(readSeconds, forKey: .readSeconds)
                    try c.encode(compareSeconds, forKey: .compareSeconds)
                }
            }
            return try Output.json(Out(report: report, readSeconds: readSeconds, compareSeconds: compareSeconds))
        }
        Output.table(["COLUMN", "TYPE", "METHOD", "SCORE", "THRESHOLD", "DRIFT", "STATUS"], report.columns.map { c in
            [c.column, c.kind, c.result?.method.rawValue ?? "-", c.result.map { Output.number($0.score) } ?? "-",
             c.result.map { Output.number($0.threshold) } ?? "-", c.result.map { $0.drifted ? "yes" : "no" } ?? "-",
             c.status == .ok ? "ok" : "\(c.status.rawValue): \(c.message ?? "")"]
        })
        Output.line(
            "dataset drift: \(report.datasetDrift ? "yes" : "no") (\(report.driftedColumns) of \(report.testedColumns) tested columns drifted, "
                + "share \(Output.number(report.driftShare)), threshold \(Output.number(report.driftShareThreshold)); "
                + "\(report.referenceRows) reference rows, \(report.currentRows) current)")
        Output.note(String(format: "read in %.2f s, compared in %.2f s", readSeconds, compareSeconds))
        if let html { Output.note("wrote \(html)") }
    }
}
