/// A parsed run search filter, e.g.
/// `metrics.accuracy > 0.9 and params.model = 'rf' and labels.team = 'ml'`, with `or`, `not`,
/// parentheses, `IN (…)`, `BETWEEN a AND b` (both ends included) and `IS [NOT] NULL`.
///
/// Backends translate the tree into their own query language with bound parameters; nothing the
/// user typed is ever spliced into SQL. A comparison on a value a run does not have is false, so
/// `not metrics.x > 1` matches runs without `x`.
public indirect enum RunFilter: Hashable, Sendable {
    case and(RunFilter, RunFilter)
    case or(RunFilter, RunFilter)
    case not(RunFilter)
    case compare(RunField, ComparisonOperator, FilterValue)
    case membership(RunField, negated: Bool, [FilterValue])
    /// The run has no value for the field (`metrics.x IS NULL`; `IS NOT NULL` is its negation).
    case missing(RunField)
}

/// What a filter or ordering can refer to.
public enum RunField: Hashable, Sendable, CustomStringConvertible {
    case metric(String)
    case param(String)
    case tag(String)
    case label(String)
    case attribute(RunAttribute)

    public var description: String {
        switch self {
        case .metric(let k): "metrics.\(k)"
        case .param(let k): "params.\(k)"
        case .tag(let k): "tags.\(k)"
        case .label(let k): "labels.\(k)"
        case .attribute(let a): "attributes.\(a.rawValue)"
        }
    }

    /// Whether the field holds numbers (compared with `<`, `>`) rather than strings.
    public var isNumeric: Bool {
        switch self {
        case .metric: true
        case .attribute(let a): a.isNumeric
        default: false
        }
    }
}

/// The run columns a filter can use.
public enum RunAttribute: String, Hashable, Sendable, CaseIterable {
    case runID = "run_id"
    case runName = "run_name"
    case status
    case startTime = "start_time"
    case endTime = "end_time"
    case experimentID = "experiment_id"
    case parentRunID = "parent_run_id"

    var isNumeric: Bool { self == .startTime || self == .endTime }

    static func named(_ name: String) -> RunAttribute? {
        switch name.lowercased() {
        case "run_id", "id", "run_uuid": .runID
        case "run_name", "name": .runName
        case "status": .status
        case "start_time", "created": .startTime
        case "end_time": .endTime
        case "experiment_id": .experimentID
        case "parent_run_id", "parent_id": .parentRunID
        default: nil
        }
    }
}

public enum ComparisonOperator: String, Hashable, Sendable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case like = "LIKE"
    case ilike = "ILIKE"
}

public enum FilterValue: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    case string(String)
    public var description: String {
        switch self {
        case .number(let d): "\(d)"
        case .string(let s): "'\(s)'"
        }
    }
}

extension RunFilter {
    /// Parses a filter; an error names the offending token and its column.
    public init(parsing text: String) throws {
        var p = FilterParser(text: text)
        self = try p.parseFilter()
    }

    /// Evaluates the filter against one run, as the in-memory backend does; SQL backends must agree.
    public func matches(_ detail: RunDetail) -> Bool {
        switch self {
        case .and(let a, let b): return a.matches(detail) && b.matches(detail)
        case .or(let a, let b): return a.matches(detail) || b.matches(detail)
        case .not(let a): return !a.matches(detail)
        case .compare(let field, let op, let value):
            guard let actual = detail.value(of: field) else { return false }
            return actual.compare(op, value)
        case .membership(let field, let negated, let values):
            guard let actual = detail.value(of: field) else { return false }
            let found = values.contains { actual.compare(.equal, $0) }
            return negated ? !found : found
        case .missing(let field):
            return detail.value(of: field) == nil
        }
    }
}

/// The value a run has for a field, for in-memory evaluation and ordering.
public enum FieldValue: Sendable {
    case number(Double)
    case string(String)

    func compare(_ op: ComparisonOperator, _ rhs: FilterValue) -> Bool {
        switch (self, rhs) {
        case (.number(let a), .number(let b)):
            if a.isNaN || b.isNaN { return false }
            switch op {
            case .equal: return a == b
            case .notEqual: return a != b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .like, .ilike: return false
            }
        case (.string(let a), .string(let b)):
            switch op {
            case .equal: return a == b
            case .notEqual: return a != b
            case .less: return a.utf8.lexicographicallyPrecedes(b.utf8)
            case .lessOrEqual: return !b.utf8.lexicographicallyPrecedes(a.utf8)
            case .greater: return b.utf8.lexicographicallyPrecedes(a.utf8)
            case .greaterOrEqual: return !a.utf8.lexicographicallyPrecedes(b.utf8)
            case .like: return likeMatch(Array(a.utf8), Array(b.utf8))
            case .ilike: return likeMatch(Array(a.lowercased().utf8), Array(b.lowercased().utf8))
            }
        default:
            return false
        }
    }
}

/// SQL LIKE, case-sensitive: `%` any run of bytes, `_` one character.
func likeMatch(_ s: [UInt8], _ p: [UInt8]) -> Bool {
    var si = 0, pi = 0, starP = -1, starS = 0
    // `_` matches one UTF-8 character: skip continuation bytes after it.
    func nextChar(_ i: Int) -> Int {
        var j = i + 1
        while j < s.count, s[j] & 0xC0 == 0x80 { j += 1 }
        return j
    }
    while si < s.count {
        if pi < p.count, p[pi] == UInt8(ascii: "_") {
            si = nextChar(si)
            pi += 1
        } else if pi < p.count, p[pi] == UInt8(ascii: "%") {
            starP = pi
            starS = si
            pi += 1
        } else if pi < p.count, p[pi] == s[si] {
            si += 1
            pi += 1
        } else if starP >= 0 {
            pi = starP + 1
            starS = nextChar(starS)
            si = starS
        } else {
            return false
        }
    }
    while pi < p.count, p[pi] == UInt8(ascii: "%") { pi += 1 }
    return pi == p.count
}

extension RunDetail {
    /// The run's value for `field`, or nil when it has none.
    public func value(of field: RunField) -> FieldValue? {
        switch field {
        case .metric(let k): return data.latestMetrics[k].map { .number($0.value) }
        case .param(let k): return data.params[k].map { .string($0) }
        case .tag(let k): return data.tags[k].map { .string($0) }
        case .label(let k): return run.labels[k].map { .string($0) }
        case .attribute(let a):
            switch a {
            case .runID: return .string(run.id.rawValue)
            case .runName: return .string(run.name)
            case .status: return .string(run.status.rawValue)
            case .startTime: return .number(Double(run.startTime.millisecondsSince1970))
            case .endTime: return run.endTime.map { .number(Double($0.millisecondsSince1970)) }
            case .experimentID: return .string(run.experimentID.rawValue)
            case .parentRunID: return run.parentID.map { .string($0.rawValue) }
            }
        }
    }
}

/// One ordering key: `metrics.accuracy DESC`.
public struct RunOrder: Hashable, Sendable, CustomStringConvertible {
    public var field: RunField
    public var ascending: Bool
    public init(field: RunField, ascending: Bool) {
        self.field = field
        self.ascending = ascending
    }
    public var description: String { "\(field) \(ascending ? "ASC" : "DESC")" }

    /// Parses `field [ASC|DESC]`, several separated by commas.
    public static func parseList(_ text: String) throws -> [RunOrder] {
        var p = FilterParser(text: text)
        return try p.parseOrderList()
    }
}

/// A run search: which experiments, which runs, in what order, which page.
public struct RunQuery: Hashable, Sendable {
    /// Empty means every experiment.
    public var experimentIDs: [ExperimentID]
    public var filter: RunFilter?
    /// Applied in turn; runs that lack a value sort last. Ties fall back to start time, newest first, then ID.
    public var orderBy: [RunOrder]
    public var limit: Int
    public var pageToken: String?
    /// Which runs by their deletion state: active ones unless asked (MLflow's `run_view_type`).
    public var lifecycle: RunLifecycle
    /// Which values each run's data carries: all of them (nil), or only these keys' — a table
    /// that shows 20 columns of runs with 10,000 keys reads 20 values a run, not 10,000.
    public var only: RunFields?

    public static let maxLimit = 50_000

    public init(
        experimentIDs: [ExperimentID] = [], filter: RunFilter? = nil, orderBy: [RunOrder] = [], limit: Int = 1000,
        pageToken: String? = nil, lifecycle: RunLifecycle = .active
    ) {
        self.experimentIDs = experimentIDs
        self.filter = filter
        self.orderBy = orderBy
        self.limit = limit
        self.pageToken = pageToken
        self.lifecycle = lifecycle
    }

    /// A copy of `data` holding only the keys named in `only` (all of it when nil).
    public static func select(_ data: RunData, _ only: RunFields?) -> RunData {
        guard let only else { return data }
        var out = RunData()
        for k in only.metrics { out.latestMetrics[k] = data.latestMetrics[k] }
        for k in only.params { out.params[k] = data.params[k] }
        for k in only.tags { out.tags[k] = data.tags[k] }
        return out
    }

    /// Where a page starts: a number of rows to skip, or (in the default order: newest start
    /// first, then by id) just after the last run of the previous page — a keyset, so runs
    /// started meanwhile neither repeat nor push rows off the next page, and a deep page costs
    /// what the first does.
    public enum Cursor: Hashable, Sendable {
        case offset(Int)
        case after(startTime: Int64, id: RunID)
    }

    /// The cursor encoded in `pageToken` (`o<offset>`, or `k<start ms>.<run id>` for the default
    /// order); `.offset(0)` when there is none.
    public func cursor() throws -> Cursor {
        guard let token = pageToken, !token.isEmpty else { return .offset(0) }
        func invalid() -> FlywheelError {
            FlywheelError.invalidArgument("page token '\(token)' is not valid: pass the next_page_token a previous search returned")
        }
        if token.hasPrefix("o"), let n = Int(token.dropFirst()), n >= 0 { return .offset(n) }
        if token.hasPrefix("k"), let dot = token.firstIndex(of: "."), let ms = Int64(token[token.index(after: token.startIndex)..<dot]) {
            let id = String(token[token.index(after: dot)...])
            guard !id.isEmpty else { throw invalid() }
            guard orderBy.isEmpty else {
                throw FlywheelError.invalidArgument("page token '\(token)' belongs to a search without an order: pass the token of this search")
            }
            return .after(startTime: ms, id: RunID(rawValue: id))
        }
        throw invalid()
    }

    /// The offset encoded in `pageToken`, or 0 (a keyset token has none: 0).
    public func offset() throws -> Int {
        if case .offset(let n) = try cursor() { return n }
        return 0
    }

    /// The token of the page after `page`: a keyset in the default order, an offset otherwise.
    public func nextToken(after page: [Run], offset: Int, hasMore: Bool) -> String? {
        guard hasMore else { return nil }
        if orderBy.isEmpty, let last = page.last { return "k\(last.startTime.millisecondsSince1970).\(last.id.rawValue)" }
        return "o\(offset + page.count)"
    }

    /// Whether `run` comes after the keyset `(startTime, id)` in the default order.
    public static func isAfter(_ run: Run, startTime: Int64, id: RunID) -> Bool {
        let t = run.startTime.millisecondsSince1970
        return t < startTime || (t == startTime && run.id.rawValue > id.rawValue)
    }

    public func validate() throws {
        guard limit >= 1, limit <= RunQuery.maxLimit else {
            throw FlywheelError.invalidArgument("limit \(limit) is out of range: expected 1 to \(RunQuery.maxLimit)")
        }
        _ = try offset()
    }
}

/// Which runs a search sees by deletion state.
public enum RunLifecycle: String, Hashable, Sendable, CaseIterable {
    case active, deleted, all

    public func admits(_ run: Run) -> Bool {
        switch self {
        case .active: run.deletedAt == nil
        case .deleted: run.deletedAt != nil
        case .all: true
        }
    }
}

/// A page of search results.
public struct RunPage: Hashable, Sendable {
    public var runs: [RunDetail]
    public var nextPageToken: String?
    public init(runs: [RunDetail], nextPageToken: String?) {
        self.runs = runs
        self.nextPageToken = nextPageToken
    }
}

extension RunQuery {
    /// Sorts, pages and filters runs in memory exactly as SQL backends must.
    public func apply(to all: [RunDetail]) throws -> RunPage {
        try validate()
        let ids = Set(experimentIDs)
        var rows = all.filter {
            (ids.isEmpty || ids.contains($0.run.experimentID)) && lifecycle.admits($0.run) && (filter?.matches($0) ?? true)
        }
        let order = orderBy
        rows.sort { a, b in
            for o in order {
                let va = a.value(of: o.field)?.orderable, vb = b.value(of: o.field)?.orderable
                switch (va, vb) {
                case (nil, nil): continue
                case (nil, _): return false
                case (_, nil): return true
                case (.some(let x), .some(let y)):
                    if let c = FieldValue.ordering(x, y), c != 0 { return o.ascending ? c < 0 : c > 0 }
                }
            }
            if a.run.startTime != b.run.startTime { return a.run.startTime > b.run.startTime }
            return a.run.id < b.run.id
        }
        var offset = 0
        switch try cursor() {
        case .offset(let n): offset = n
        case .after(let t, let id): rows = rows.filter { RunQuery.isAfter($0.run, startTime: t, id: id) }
        }
        let page = Array(rows.dropFirst(offset).prefix(limit))
        let more = rows.count > offset + page.count
        return RunPage(runs: page, nextPageToken: nextToken(after: page.map(\.run), offset: offset, hasMore: more))
    }
}

extension FieldValue {
    /// nil for NaN, which sorts with the missing values (SQL stores NaN as NULL).
    var orderable: FieldValue? {
        if case .number(let d) = self, d.isNaN { return nil }
        return self
    }

    /// -1, 0, 1; NaN sorts after every number, as SQLite sorts its NULL-encoded NaN last.
    static func ordering(_ a: FieldValue, _ b: FieldValue) -> Int? {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.string(let x), .string(let y)):
            return x == y ? 0 : (x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1)
        default: return nil
        }
    }
}

/// Some metric, param and tag keys of runs: which values to read (``RunQuery/only``), or which
/// keys runs have (``RunKeys``).
public struct RunFields: Hashable, Sendable {
    public var metrics: [String]
    public var params: [String]
    public var tags: [String]

    public init(metrics: [String] = [], params: [String] = [], tags: [String] = []) {
        self.metrics = metrics
        self.params = params
        self.tags = tags
    }

    public var isEmpty: Bool { metrics.isEmpty && params.isEmpty && tags.isEmpty }
}

/// The distinct keys some runs have, each kind sorted and cut at a limit, with how many there are
/// in all (``MetadataStore/runKeys(ids:containing:limit:)``).
public struct RunKeys: Hashable, Sendable {
    public var keys: RunFields
    public var metricCount: Int
    public var paramCount: Int
    public var tagCount: Int

    public init(keys: RunFields = RunFields(), metricCount: Int = 0, paramCount: Int = 0, tagCount: Int = 0) {
        self.keys = keys
        self.metricCount = metricCount
        self.paramCount = paramCount
        self.tagCount = tagCount
    }

    /// ASCII letters lowercased, the rest as is: SQL's `lower()` does the same, so every store
    /// matches a key search alike.
    public static func fold(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Computed from the runs' whole data (the in-memory store's way; SQL stores ask the database).
    public init(_ data: some Sequence<RunData>, containing needle: String?, limit: Int) {
        var m = Set<String>(), p = Set<String>(), t = Set<String>()
        for d in data {
            m.formUnion(d.latestMetrics.keys)
            p.formUnion(d.params.keys)
            t.formUnion(d.tags.keys)
        }
        let n = Self.fold(needle ?? "")
        func pick(_ s: Set<String>) -> [String] { s.filter { n.isEmpty || Self.fold($0).contains(n) }.sorted() }
        let (pm, pp, pt) = (pick(m), pick(p), pick(t))
        self.init(
            keys: RunFields(metrics: Array(pm.prefix(limit)), params: Array(pp.prefix(limit)), tags: Array(pt.prefix(limit))),
            metricCount: pm.count, paramCount: pp.count, tagCount: pt.count)
    }
}
