import FlywheelCore
import Foundation

/// Everything a runs table shows, as it sits in the URL: filter, sort, page, page size, chosen
/// columns and which runs by deletion state. Links that change one thing keep the rest.
struct RunsTableState: Sendable {
    static let defaultSize = 100
    static let sizes = [25, 50, 100, 250, 500, 1000]

    var filter: String = ""
    var order: String = ""
    var page: String = ""
    var size: Int = RunsTableState.defaultSize
    /// Columns as fields (`metrics.acc`, `params.lr`); empty means "pick from the page".
    var columns: [String] = []
    var view: RunLifecycle = .active

    init() {}

    init(_ r: UIRequest) {
        filter = r.value("filter") ?? ""
        order = r.value("order") ?? ""
        page = r.value("page") ?? ""
        if let s = r.value("size").flatMap(Int.init) { size = min(max(s, 1), 1000) }
        columns = r.values("col").filter { !$0.isEmpty }
        view = r.value("view").flatMap(RunLifecycle.init(rawValue:)) ?? .active
    }

    var query: [(String, String)] {
        var q: [(String, String)] = [("filter", filter), ("order", order), ("page", page)]
        if size != RunsTableState.defaultSize { q.append(("size", String(size))) }
        if view != .active { q.append(("view", view.rawValue)) }
        q += columns.map { ("col", $0) }
        return q
    }

    func with(_ change: (inout RunsTableState) -> Void) -> RunsTableState {
        var copy = self
        change(&copy)
        return copy
    }

    /// The same table sorted by `field`: descending first for metrics (best first), ascending for
    /// the rest; a second click on the sorted column flips it.
    func sorted(by field: String) -> RunsTableState {
        with { s in
            let current = s.order.trimmingCharacters(in: .whitespaces)
            let desc = field + " DESC"
            let asc = field + " ASC"
            if current.caseInsensitiveCompare(desc) == .orderedSame {
                s.order = asc
            } else if current.caseInsensitiveCompare(asc) == .orderedSame {
                s.order = desc
            } else {
                s.order = field.hasPrefix("metrics.") ? desc : asc
            }
            s.page = ""
        }
    }

    /// The same table with `clause` ANDed onto the filter (click a cell to filter by it).
    func narrowed(by clause: String) -> RunsTableState {
        with { s in
            s.filter = s.filter.trimmingCharacters(in: .whitespaces).isEmpty ? clause : "(\(s.filter)) and \(clause)"
            s.page = ""
        }
    }

    /// The sort direction shown on a column's header, if it is the sorted one.
    func direction(of field: String) -> StaticString? {
        let current = order.trimmingCharacters(in: .whitespaces).lowercased()
        if current == field.lowercased() + " desc" { return " ▼" }
        if current == field.lowercased() + " asc" || current == field.lowercased() { return " ▲" }
        return nil
    }
}

/// A column of the runs table.
enum RunColumn: Hashable, Sendable {
    case metric(String), param(String), tag(String), label(String)

    init?(field: String) {
        guard let dot = field.firstIndex(of: ".") else { return nil }
        let key = String(field[field.index(after: dot)...])
        guard !key.isEmpty else { return nil }
        switch field[..<dot].lowercased() {
        case "metrics", "metric": self = .metric(key)
        case "params", "param": self = .param(key)
        case "tags", "tag": self = .tag(key)
        case "labels", "label": self = .label(key)
        default: return nil
        }
    }

    var key: String {
        switch self {
        case .metric(let k), .param(let k), .tag(let k), .label(let k): k
        }
    }

    /// The field as the filter language and `order` write it; keys that are not plain words are
    /// back-quoted.
    var field: String {
        let plain = key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        let k = plain ? key : "`" + key.replacingOccurrences(of: "`", with: "") + "`"
        switch self {
        case .metric: return "metrics." + k
        case .param: return "params." + k
        case .tag: return "tags." + k
        case .label: return "labels." + k
        }
    }

    /// The value a run shows in this column.
    func value(in d: RunDetail) -> String? {
        switch self {
        case .metric(let k): d.data.latestMetrics[k].map { Format.number($0.value) }
        case .param(let k): d.data.params[k]
        case .tag(let k): d.data.tags[k]
        case .label(let k): d.run.labels[k]
        }
    }

    /// The filter clause that keeps runs with this cell's value: params, tags and labels (the
    /// values people filter by); a metric's exact value is a poor filter, and its column sorts.
    func clause(for d: RunDetail) -> String? {
        switch self {
        case .metric:
            return nil
        default:
            guard let v = value(in: d) else { return nil }
            return "\(field)='\(v.replacingOccurrences(of: "'", with: "''"))'"
        }
    }
}
