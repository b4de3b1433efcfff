import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension RunsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", 
            abstract: "Search runs with a filter, order them, page through them.",
            discussion: prose("""
                Filter: comparisons joined by and/or/not, with parentheses:
                  metrics.accuracy > 0.9 and params.model = 'rf' and labels.team = 'ml'
                  tags.stage in ('prod', 'staging') or attributes.status = 'failed'
                  params.optimizer LIKE 'ad%'
                  metrics.loss BETWEEN 0.1 AND 0.3 and tags.reviewed IS NULL
                Fields: metrics.KEY (numbers), params.KEY, tags.KEY, labels.KEY (strings), and the
                attributes run_id, run_name, status, start_time, end_time, experiment_id,
                parent_run_id. Quote keys with spaces in backticks: metrics.`val loss` < 1.
                Order: 'metrics.accuracy desc, params.lr' — runs lacking a value come last.
                """))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(name: [.short, .customLong("experiment")], help: "Only runs of this experiment (name or ID; repeatable).")
        var experiments: [String] = []
        @Option(help: "A filter expression (see above).") var filter: String?
        @Option(name: .customLong("order-by"), help: "Ordering, e.g. 'metrics.accuracy desc'.") var orderBy: String?
        @Option(help: "At most this many runs.") var limit = 100
        @Option(name: .customLong("page-token"), help: "The token a previous page printed.") var pageToken: String?
        @Option(help: "Which runs by deletion (MLflow's delete_run): active, deleted or all.")
        var view: String = "active"

        func validate() throws {
            guard RunLifecycle(rawValue: view) != nil else {
                throw ValidationError("--view '\(view)' is not valid: expected active, deleted or all")
            }
        }

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
                RunQuery(
                    experimentIDs: ids, filter: filter, orderBy: order, limit: limit, pageToken: pageToken,
                    lifecycle: RunLifecycle(rawValue: view) ?? .active))
            if output.json { return try Output.json(View(runs: page.runs, nextPageToken: page.nextPageToken)) }
            var metricKeys: [String] = order.compactMap { if case .metric(let k) = $0.field { return k } else { return nil } }
            for k in Set(page.runs.flatMap { $0.data.latestMetrics.keys }).sorted() where !metricKeys.contains(k) {
                metricKeys.append(k)
            }
            metricKeys = Array(metricKeys.prefix(6))
            Output.table(
                ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION"] + metricKeys,
                page.runs.map { d in
                    [d.run.id.rawValue, d.run.name, d.run.status.rawValue + (d.run.deletedAt == nil ? "" : " (deleted)"), Output.time(d.run.startTime),
                     Output.duration(d.run.startTime, d.run.endTime)]
                        + metricKeys.map { k in d.data.latestMetrics[k].map { Output.number($0.value) } ?? "-" }
                })
            if let next = page.nextPageToken { Output.note("more runs: --page-token \(next)") }
        }
    }
}
