import FlywheelCore
import FlywheelRegistry

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
