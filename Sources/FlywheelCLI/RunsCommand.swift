import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Start runs, log params/metrics/tags, end, search, show and compare them.",
        discussion: """
            A shell script can track a run:
              id=$(flywheel runs create -e iris --param lr=0.1 --input data/iris.csv)
              flywheel runs log $id --metric acc=0.93 --step 1
              flywheel runs end $id
            """,
        subcommands: [Create.self, Log.self, End.self, List.self, Show.self, Compare.self, History.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a run and print its ID.",
            discussion: """
                Records what makes the run reproducible: the git commit and dirty flag of the
                current folder (when it is a repository), the command line, host, OS, Swift
                version, user, and the SHA-256 of every --input file (also as lineage).
                The experiment is created when it does not exist yet.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("experiment")], help: "The experiment's name or ID.") var experiment: String
        @Option(help: "A name for the run (default: a generated one).") var name: String?
        @Option(name: .customLong("param"), help: ArgumentHelp("A param KEY=VALUE (repeatable; write-once).", valueName: "key=value"))
        var params: [String] = []
        @Option(name: .customLong("tag"), help: ArgumentHelp("A tag KEY=VALUE (repeatable).", valueName: "key=value"))
        var tags: [String] = []
        @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable).", valueName: "key=value"))
        var labels: [String] = []
        @Option(name: .customLong("input"), help: ArgumentHelp("A file the run reads (repeatable); its digest is recorded.", valueName: "file"))
        var inputs: [String] = []
        @Option(help: "The parent run's ID (for a nested run).") var parent: String?
        @Option(help: "The random seed the run uses, recorded for reproduction.") var seed: UInt64?

        func run() async throws {
            let params = try parseDictionary(self.params, flag: "--param")
            let tags = try parseDictionary(self.tags, flag: "--tag")
            let labels = try parseLabels(self.labels)
            let parent = try self.parent.map(parseRunID)
            let ws = try global.open()
            let exp: Experiment
            if let found = try? await ws.tracking.experiment(experiment) {
                exp = found
            } else {
                exp = try await ws.tracking.ensureExperiment(named: experiment)
            }
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let env = RunEnvironment.capture(
                commandLine: CommandLine.arguments, workingDirectory: cwd, user: ProcessInfo.processInfo.environment["USER"],
                flywheelVersion: FlywheelCommand.version, seed: seed)
            let run = try await ws.tracking.startRun(
                in: exp.id, name: name, parent: parent, labels: labels, params: params, tags: tags, environment: env,
                inputs: inputs.map { URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL })
            Output.line(run.id.rawValue)
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log metrics, params and tags to a run, all in one transaction.",
            discussion: """
                --batch FILE (or - for standard input) reads JSON Lines, one record a line:
                  {"metric": "loss", "value": 0.31, "step": 3}        (timestamp optional, ms)
                  {"param": "lr", "value": "0.1"}
                  {"tag": "note", "value": "baseline"}
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's ID.") var runID: String
        @Option(name: .customLong("metric"), help: ArgumentHelp("A metric KEY=NUMBER (repeatable).", valueName: "key=value"))
        var metrics: [String] = []
        @Option(help: "The step of the --metric values.") var step: Int64 = 0
        @Option(name: .customLong("param"), help: ArgumentHelp("A param KEY=VALUE (repeatable; write-once).", valueName: "key=value"))
        var params: [String] = []
        @Option(name: .customLong("tag"), help: ArgumentHelp("A tag KEY=VALUE (repeatable).", valueName: "key=value"))
        var tags: [String] = []
        @Option(help: ArgumentHelp("A JSON Lines file of records, or - for standard input.", valueName: "file"))
        var batch: String?

        func validate() throws {
            if metrics.isEmpty && params.isEmpty && tags.isEmpty && batch == nil {
                throw ValidationError("nothing to log: give --metric, --param, --tag or --batch")
            }
        }

        func run() async throws {
            let id = try parseRunID(runID)
            let now = Timestamp(Date())
            var ms: [Metric] = try parsePairs(metrics, flag: "--metric").map { k, v in
                guard let d = Double(v) else {
                    throw ValidationError("--metric '\(k)=\(v)' is not valid: '\(v)' is not a number")
                }
                return Metric(key: k, value: d, step: step, timestamp: now)
            }
            var ps = try parseDictionary(params, flag: "--param").map { Param(key: $0.key, value: $0.value) }
            var ts = try parseDictionary(tags, flag: "--tag").map { Tag(key: $0.key, value: $0.value) }
            if let batch {
                let records = try BatchFile.read(batch, now: now)
                ms += records.metrics
                ps += records.params
                ts += records.tags
            }
            let ws = try global.open()
            try await ws.tracking.logBatch(id, metrics: ms, params: ps, tags: ts)
        }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a run.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's ID.") var runID: String
        @Option(help: "finished, failed or killed.") var status = "finished"

        func run() async throws {
            let id = try parseRunID(runID)
            let s = try RunStatus(parsing: status)
            guard s.isTerminal else { throw ValidationError("--status must be finished, failed or killed to end a run") }
            let ws = try global.open()
            try await ws.tracking.endRun(id, status: s)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search runs with a filter, order them, page through them.",
            discussion: """
                Filter: comparisons joined by and/or/not, with parentheses:
                  metrics.accuracy > 0.9 and params.model = 'rf' and labels.team = 'ml'
                  tags.stage in ('prod', 'staging') or attributes.status = 'failed'
                  params.optimizer LIKE 'ad%'
                Fields: metrics.KEY (numbers), params.KEY, tags.KEY, labels.KEY (strings), and the
                attributes run_id, run_name, status, start_time, end_time, experiment_id,
                parent_run_id. Quote keys with spaces in backticks: metrics.`val loss` < 1.
                Order: 'metrics.accuracy desc, params.lr' — runs lacking a value come last.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(name: [.short, .customLong("experiment")], help: "Only runs of this experiment (name or ID; repeatable).")
        var experiments: [String] = []
        @Option(help: "A filter expression (see above).") var filter: String?
        @Option(name: .customLong("order-by"), help: "Ordering, e.g. 'metrics.accuracy desc'.") var orderBy: String?
        @Option(help: "At most this many runs.") var limit = 100
        @Option(name: .customLong("page-token"), help: "The token a previous page printed.") var pageToken: String?

        struct View: Encodable {
            var runs: [RunDetail]
            var nextPageToken: String?
        }

        func run() async throws {
            let filter = try self.filter.map(RunFilter.init(parsing:))
            let order = try orderBy.map(RunOrder.parseList) ?? []
            let ws = try global.open()
            var ids: [ExperimentID] = []
            for e in experiments { ids.append(try await ws.tracking.experiment(e).id) }
            let page = try await ws.tracking.search(
                RunQuery(experimentIDs: ids, filter: filter, orderBy: order, limit: limit, pageToken: pageToken))
            if output.json { return try Output.json(View(runs: page.runs, nextPageToken: page.nextPageToken)) }
            var metricKeys: [String] = order.compactMap { if case .metric(let k) = $0.field { return k } else { return nil } }
            for k in Set(page.runs.flatMap { $0.data.latestMetrics.keys }).sorted() where !metricKeys.contains(k) {
                metricKeys.append(k)
            }
            metricKeys = Array(metricKeys.prefix(6))
            Output.table(
                ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION"] + metricKeys,
                page.runs.map { d in
                    [d.run.id.rawValue, d.run.name, d.run.status.rawValue, Output.time(d.run.startTime),
                     Output.duration(d.run.startTime, d.run.endTime)]
                        + metricKeys.map { k in d.data.latestMetrics[k].map { Output.number($0.value) } ?? "-" }
                })
            if let next = page.nextPageToken { Output.note("more runs: --page-token \(next)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a run: environment, params, metrics, tags, artifacts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The run's ID.") var runID: String

        struct View: Encodable {
            var run: Run
            var data: RunData
            var artifacts: [ArtifactRecord]
        }

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            let d = try await ws.tracking.detail(id)
            let arts = try await ws.store.artifacts(runID: id, prefix: nil)
            if output.json { return try Output.json(View(run: d.run, data: d.data, artifacts: arts)) }
            let r = d.run
            let exp = try await ws.store.experiment(id: r.experimentID)
            Output.line("Run \(r.id)  \(r.name)")
            Output.line("  experiment: \(exp?.name ?? "?") (ID \(r.experimentID))")
            Output.line("  status:     \(r.status.rawValue)")
            Output.line("  started:    \(Output.time(r.startTime))   ended: \(Output.time(r.endTime))   duration: \(Output.duration(r.startTime, r.endTime))")
            if let p = r.parentID { Output.line("  parent:     \(p)") }
            if !r.labels.isEmpty { Output.line("  labels:     \(r.labels.formatted)") }
            let env = r.environment
            if let c = env.gitCommit {
                Output.line("  git:        \(c)\(env.gitDirty == true ? " (dirty)" : "")\(env.gitBranch.map { " on \($0)" } ?? "")")
            }
            if !env.commandLine.isEmpty { Output.line("  command:    \(env.commandLine.joined(separator: " "))") }
            Output.line("  host:       \(env.host ?? "?")  os: \(env.os ?? "?")  swift: \(env.swiftVersion ?? "?")  user: \(env.user ?? "?")")
            if let s = env.seed { Output.line("  seed:       \(s)") }
            for i in env.inputs { Output.line("  input:      \(i.path)  \(i.digest)  \(i.size) bytes") }
            if !d.data.params.isEmpty {
                Output.line("\nParams")
                Output.table(["KEY", "VALUE"], d.data.params.sorted { $0.key < $1.key }.map { [$0.key, $0.value] })
            }
            if !d.data.latestMetrics.isEmpty {
                Output.line("\nMetrics (latest)")
                Output.table(["KEY", "VALUE", "STEP", "TIME"], d.data.latestMetrics.values.sorted { $0.key < $1.key }.map {
                    [$0.key, Output.number($0.value), String($0.step), Output.time($0.timestamp)]
                })
            }
            if !d.data.tags.isEmpty {
                Output.line("\nTags")
                Output.table(["KEY", "VALUE"], d.data.tags.sorted { $0.key < $1.key }.map { [$0.key, $0.value] })
            }
            if !arts.isEmpty {
                Output.line("\nArtifacts")
                Output.table(["PATH", "SIZE", "DIGEST"], arts.map { [$0.path, String($0.size), $0.digest.description] })
            }
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare runs side by side: one row per run, a column per param and latest metric.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Two or more run IDs.") var runIDs: [String]

        func validate() throws {
            if runIDs.count < 2 { throw ValidationError("give at least two run IDs to compare") }
        }

        func run() async throws {
            let ids = try runIDs.map(parseRunID)
            let ws = try global.open()
            let c = try await ws.tracking.compare(ids)
            if output.json { return try Output.json(c) }
            Output.line(CompareTable.render(c))
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every recorded value of one metric of a run.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The run's ID.") var runID: String
        @Argument(help: "The metric's key.") var key: String

        func run() async throws {
            let id = try parseRunID(runID)
            let ws = try global.open()
            let h = try await ws.store.metricHistory(runID: id, key: key)
            if output.json { return try Output.json(h) }
            Output.table(["STEP", "VALUE", "TIME"], h.map { [String($0.step), Output.number($0.value), Output.time($0.timestamp)] })
        }
    }
}

/// The comparison as a table people can read.
enum CompareTable {
    static func render(_ c: RunComparison) -> String {
        let header = ["RUN", "NAME"] + c.paramKeys.map { "params.\($0)" } + c.metricKeys.map { "metrics.\($0)" }
        let rows = c.runs.map { d in
            [String(d.run.id.rawValue.prefix(12)), d.run.name] + c.paramKeys.map { d.data.params[$0] ?? "-" }
                + c.metricKeys.map { k in d.data.latestMetrics[k].map { Output.number($0.value) } ?? "-" }
        }
        return Output.renderTable(header, rows)
    }
}

/// Reads `runs log --batch` JSON Lines.
enum BatchFile {
    struct Records {
        var metrics: [Metric] = []
        var params: [Param] = []
        var tags: [Tag] = []
    }

    struct Line: Decodable {
        var metric: String?
        var param: String?
        var tag: String?
        var value: JSONValue?
        var step: Int64?
        var timestamp: Int64?
    }

    static func read(_ path: String, now: Timestamp) throws -> Records {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--batch '\(path)': no such file or not readable")
            }
            data = d
        }
        var out = Records()
        let decoder = JSONDecoder()
        var lineNo = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            let trimmed = raw.drop { $0 == 32 || $0 == 9 || $0 == 13 }
            if trimmed.isEmpty { continue }
            let where_ = "--batch \(path == "-" ? "stdin" : path) line \(lineNo)"
            let line: Line
            do { line = try decoder.decode(Line.self, from: Data(raw)) } catch {
                throw ValidationError("\(where_): not a JSON object: expected {\"metric\": KEY, \"value\": NUMBER, \"step\": N}, {\"param\": KEY, \"value\": TEXT} or {\"tag\": KEY, \"value\": TEXT}")
            }
            let named = [line.metric, line.param, line.tag].compactMap { $0 }
            guard named.count == 1 else {
                throw ValidationError("\(where_): expected exactly one of \"metric\", \"param\", \"tag\"")
            }
            if let k = line.metric {
                let v: Double
                switch line.value {
                case .number(let d): v = d
                case .string(let s) where ["NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"].contains(s): v = Double(s.replacingOccurrences(of: "Infinity", with: "inf")) ?? .nan
                default: throw ValidationError("\(where_): metric '\(k)' needs a numeric \"value\"")
                }
                out.metrics.append(Metric(key: k, value: v, step: line.step ?? 0,
                                          timestamp: line.timestamp.map { Timestamp(millisecondsSince1970: $0) } ?? now))
            } else {
                let text: String
                switch line.value {
                case .string(let s): text = s
                case .number(let d): text = Output.number(d)
                case .bool(let b): text = String(b)
                default: throw ValidationError("\(where_): \"value\" must be a string or number")
                }
                if let k = line.param { out.params.append(Param(key: k, value: text)) }
                if let k = line.tag { out.tags.append(Tag(key: k, value: text)) }
            }
        }
        return out
    }
}
