import FlywheelCore
import FlywheelData
import Foundation
import HTTPTypes
import Hummingbird

/// MLflow's JSON shapes: reading request fields the way its protobuf JSON sends them (int64s as
/// numbers or strings) and writing runs, experiments and metrics as its client parses them.
enum MLflowJSON {
    static func response(_ object: [String: JSONValue]) throws -> Response { Response.json(.object(object)) }
    static func empty() -> Response { Response.json(.object([:])) }

    static func string(_ b: JSONValue, _ key: String) throws -> String {
        switch b[key] {
        case .string(let s)?: return s
        case .number(let d)?: return NumberFormatting.shortest(d)
        case nil, .null?: throw FlywheelError.invalidArgument("Missing value for required parameter '\(key)'")
        default: throw FlywheelError.invalidArgument("parameter '\(key)' must be a string")
        }
    }

    /// An int64 field: a JSON number or a string of digits; nil when absent.
    static func int(_ b: JSONValue, _ key: String) throws -> Int? {
        switch b[key] {
        case nil, .null?: return nil
        case .number(let d)? where d == d.rounded() && abs(d) < 9e18: return Int(d)
        case .string(let s)?: if let i = Int(s) { return i }
        default: break
        }
        throw FlywheelError.invalidArgument("parameter '\(key)' must be a whole number")
    }

    static func list(_ b: JSONValue, _ key: String) throws -> [JSONValue] {
        switch b[key] {
        case nil, .null?: return []
        case .array(let a)?: return a
        default: throw FlywheelError.invalidArgument("parameter '\(key)' must be a list")
        }
    }

    static func runID(_ b: JSONValue) throws -> RunID {
        if case .string(let s)? = b["run_id"], !s.isEmpty { return try runID(s) }
        if case .string(let s)? = b["run_uuid"], !s.isEmpty { return try runID(s) }
        throw FlywheelError.invalidArgument("Missing value for required parameter 'run_id'")
    }

    static func runID(_ s: String) throws -> RunID {
        // Bytes, not Characters: this runs on every logging call.
        guard !s.isEmpty, s.utf8.count <= 64, s.utf8.allSatisfy({ c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }) else {
            throw FlywheelError.invalidArgument("run_id '\(s)' is not valid")
        }
        return RunID(s)
    }

    /// A metric from `{key, value, timestamp, step}`; value may be a number or "NaN"/"Infinity" text.
    static func metric(_ m: JSONValue) throws -> Metric {
        let key = try string(m, "key")
        let value: Double
        switch m["value"] {
        case .number(let d)?: value = d
        case .string(let s)?:
            guard let d = Double(s) ?? ["NaN": .nan, "Infinity": .infinity, "-Infinity": -.infinity][s] else {
                throw FlywheelError.invalidArgument("metric '\(key)': value '\(s)' is not a number")
            }
            value = d
        default: throw FlywheelError.invalidArgument("metric '\(key)': Missing value for required parameter 'value'")
        }
        let ts = try int(m, "timestamp").map { Timestamp(millisecondsSince1970: Int64($0)) } ?? SystemWallClock().now()
        return Metric(key: key, value: value, step: Int64(try int(m, "step") ?? 0), timestamp: ts)
    }

    /// A `log-batch` body, read without building a JSON tree (a batch holds up to a thousand
    /// metrics; see ``JSONReader``). Each metric keeps its `model_id` and dataset when it has one.
    struct Batch {
        var runID: RunID?
        var metrics: [Metric] = []
        var links: [MetricLink?] = []
        var params: [Param] = []
        var tags: [Tag] = []
    }

    /// What ties a logged metric to a logged model: the model, and the dataset it was measured on.
    struct MetricLink: Sendable {
        var modelID: String
        var datasetName: String?
        var datasetDigest: String?

        init?(modelID: String?, datasetName: String?, datasetDigest: String?) {
            guard let modelID, !modelID.isEmpty else { return nil }
            self.modelID = modelID
            self.datasetName = datasetName.flatMap { $0.isEmpty ? nil : $0 }
            self.datasetDigest = datasetDigest.flatMap { $0.isEmpty ? nil : $0 }
        }

        init?(_ body: JSONValue) {
            func text(_ k: String) -> String? { if case .string(let s)? = body[k] { s } else { nil } }
            self.init(modelID: text("model_id"), datasetName: text("dataset_name"), datasetDigest: text("dataset_digest"))
        }
    }

    static func batch(_ bytes: some Collection<UInt8>, now: Timestamp) throws -> Batch {
        try JSONReader.read(bytes) { r in
            var b = Batch()
            var runID: String?, runUUID: String?
            try r.objectKeys { r, field in
                switch field {
                case "run_id": runID = try r.text("run_id")
                case "run_uuid": runUUID = try r.text("run_uuid")
                case "metrics":
                    guard try !r.null() else { return }
                    try r.arrayElements { r in
                        var key: String?, value: Double?, timestamp: Double?, step: Double?
                        var model: String?, dataset: String?, digest: String?
                        try r.objectFields { r, k in
                            if k == "key" {
                                key = try r.text("key")
                            } else if k == "value" {
                                value = try r.number("value")
                            } else if k == "timestamp" {
                                timestamp = try r.number("timestamp")
                            } else if k == "step" {
                                step = try r.number("step")
                            } else if k == "model_id" {
                                model = try r.text("model_id")
                            } else if k == "dataset_name" {
                                dataset = try r.text("dataset_name")
                            } else if k == "dataset_digest" {
                                digest = try r.text("dataset_digest")
                            } else {
                                try r.skip()
                            }
                        }
                        guard let key else { throw FlywheelError.invalidArgument("Missing value for required parameter 'key'") }
                        guard let value else { throw FlywheelError.invalidArgument("metric '\(key)': Missing value for required parameter 'value'") }
                        b.metrics.append(Metric(
                            key: key, value: value, step: Int64(try whole(step, "step") ?? 0),
                            timestamp: try whole(timestamp, "timestamp").map { Timestamp(millisecondsSince1970: Int64($0)) } ?? now))
                        b.links.append(MetricLink(modelID: model, datasetName: dataset, datasetDigest: digest))
                    }
                case "params", "tags":
                    guard try !r.null() else { return }
                    try r.arrayElements { r in
                        var key: String?, value: String?
                        try r.objectKeys { r, k in
                            switch k {
                            case "key": key = try r.text("key")
                            case "value": value = try r.text("value")
                            default: try r.skip()
                            }
                        }
                        guard let key else { throw FlywheelError.invalidArgument("Missing value for required parameter 'key'") }
                        guard let value else { throw FlywheelError.invalidArgument("Missing value for required parameter 'value'") }
                        if field == "params" { b.params.append(Param(key: key, value: value)) } else { b.tags.append(Tag(key: key, value: value)) }
                    }
                default: try r.skip()
                }
            }
            if let id = [runID, runUUID].compactMap({ $0 }).first(where: { !$0.isEmpty }) { b.runID = try self.runID(id) }
            return b
        }
    }

    /// An int64 field read as a number: nil when absent, an error when not whole.
    static func whole(_ d: Double?, _ key: String) throws -> Int? {
        guard let d else { return nil }
        guard d == d.rounded(), abs(d) < 9e18 else { throw FlywheelError.invalidArgument("parameter '\(key)' must be a whole number") }
        return Int(d)
    }

    static func metric(_ m: Metric) -> JSONValue {
        .object([
            "key": .string(m.key), "value": m.value.isFinite ? .number(m.value) : .string(m.value.isNaN ? "NaN" : m.value > 0 ? "Infinity" : "-Infinity"),
            "timestamp": .number(Double(m.timestamp.millisecondsSince1970)), "step": .number(Double(m.step)),
        ])
    }

    /// MLflow's ViewType (`ACTIVE_ONLY`, `DELETED_ONLY`, `ALL`, or 1–3); active when absent.
    static func viewType(_ v: JSONValue?) throws -> RunLifecycle {
        switch v {
        case nil, .null?, .string("ACTIVE_ONLY")?, .string("1")?, .number(1)?, .string("")?: return .active
        case .string("DELETED_ONLY")?, .string("2")?, .number(2)?: return .deleted
        case .string("ALL")?, .string("3")?, .number(3)?: return .all
        default: throw FlywheelError.invalidArgument("view type \(v.map { "\($0)" } ?? "") is not valid: expected ACTIVE_ONLY, DELETED_ONLY or ALL")
        }
    }

    static func status(_ s: String) -> RunStatus? {
        switch s {
        case "RUNNING", "SCHEDULED": .running
        case "FINISHED": .finished
        case "FAILED": .failed
        case "KILLED": .killed
        default: nil
        }
    }

    static func statusText(_ s: RunStatus) -> String {
        switch s {
        case .running: "RUNNING"
        case .finished: "FINISHED"
        case .failed: "FAILED"
        case .killed: "KILLED"
        }
    }

    static func experiment(_ e: Experiment) -> JSONValue {
        .object([
            "experiment_id": .string(e.id.rawValue), "name": .string(e.name),
            "artifact_location": .string("mlflow-artifacts:/\(e.id.rawValue)"),
            "lifecycle_stage": .string(e.archived ? "deleted" : "active"),
            "creation_time": .number(Double(e.createdAt.millisecondsSince1970)),
            "last_update_time": .number(Double(e.updatedAt.millisecondsSince1970)),
            "tags": .array(e.labels.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
        ])
    }

    static func runInfo(_ r: Run, artifacts root: (Run) -> String) -> JSONValue {
        var o: [String: JSONValue] = [
            "run_id": .string(r.id.rawValue), "run_uuid": .string(r.id.rawValue), "run_name": .string(r.name),
            "experiment_id": .string(r.experimentID.rawValue), "user_id": .string(r.environment.user ?? ""),
            "status": .string(statusText(r.status)), "start_time": .number(Double(r.startTime.millisecondsSince1970)),
            "artifact_uri": .string(root(r)), "lifecycle_stage": .string(r.deletedAt == nil ? "active" : "deleted"),
        ]
        if let end = r.endTime { o["end_time"] = .number(Double(end.millisecondsSince1970)) }
        return .object(o)
    }

    static func run(_ d: RunDetail, io: RunIO = RunIO(), artifacts root: (Run) -> String) -> JSONValue {
        var inputs: [String: JSONValue] = [:], outputs: [String: JSONValue] = [:]
        if !io.datasetInputs.isEmpty { inputs["dataset_inputs"] = .array(io.datasetInputs.map(datasetInput)) }
        if !io.modelInputs.isEmpty { inputs["model_inputs"] = .array(io.modelInputs.map { .object(["model_id": .string($0.rawValue)]) }) }
        if !io.modelOutputs.isEmpty {
            outputs["model_outputs"] = .array(io.modelOutputs.map { .object(["model_id": .string($0.modelID.rawValue), "step": .number(Double($0.step))]) })
        }
        return .object([
            "info": runInfo(d.run, artifacts: root),
            "data": .object([
                "metrics": .array(d.data.latestMetrics.values.sorted { $0.key < $1.key }.map(metric)),
                "params": .array(d.data.params.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
                "tags": tags(d.data.tags),
            ]),
            "inputs": .object(inputs), "outputs": .object(outputs),
        ])
    }

    /// `[{key, value}]`, by key.
    static func tags(_ t: [String: String]) -> JSONValue {
        .array(t.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) })
    }

    /// `[{key, value}]` from a request: a missing list is empty, a missing key or value an error.
    static func keyValues(_ b: JSONValue, _ key: String) throws -> [(key: String, value: String)] {
        try list(b, key).map { (try string($0, "key"), try string($0, "value")) }
    }

    static func datasetInput(_ d: DatasetInput) -> JSONValue {
        var ds: [String: JSONValue] = [
            "name": .string(d.name), "digest": .string(d.digest), "source_type": .string(d.sourceType), "source": .string(d.source),
        ]
        if let s = d.schema { ds["schema"] = .string(s) }
        if let p = d.profile { ds["profile"] = .string(p) }
        return .object(["tags": tags(d.tags), "dataset": .object(ds)])
    }

    static func loggedModelStatus(_ s: LoggedModelStatus) -> String {
        switch s {
        case .pending: "LOGGED_MODEL_PENDING"
        case .ready: "LOGGED_MODEL_READY"
        case .failed: "LOGGED_MODEL_UPLOAD_FAILED"
        }
    }

    /// A logged model status by its proto name or number.
    static func loggedModelStatus(_ v: JSONValue?) throws -> LoggedModelStatus {
        switch v {
        case .string("LOGGED_MODEL_PENDING")?, .number(1)?: return .pending
        case .string("LOGGED_MODEL_READY")?, .number(2)?: return .ready
        case .string("LOGGED_MODEL_UPLOAD_FAILED")?, .number(3)?: return .failed
        case nil, .null?: throw FlywheelError.invalidArgument("Missing value for required parameter 'status'")
        default:
            throw FlywheelError.invalidArgument(
                "status \(v.map { "\($0)" } ?? "") is not valid: expected LOGGED_MODEL_PENDING, LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED")
        }
    }

    static func loggedModel(_ m: LoggedModel) -> JSONValue {
        var info: [String: JSONValue] = [
            "model_id": .string(m.id.rawValue), "experiment_id": .string(m.experimentID.rawValue), "name": .string(m.name),
            "creation_timestamp_ms": .number(Double(m.createdAt.millisecondsSince1970)),
            "last_updated_timestamp_ms": .number(Double(m.updatedAt.millisecondsSince1970)),
            "artifact_uri": .string(loggedModelRoot(m)), "status": .string(loggedModelStatus(m.status)),
            "tags": tags(m.tags),
        ]
        if !m.modelType.isEmpty { info["model_type"] = .string(m.modelType) }
        if let r = m.sourceRunID { info["source_run_id"] = .string(r.rawValue) }
        if !m.statusMessage.isEmpty { info["status_message"] = .string(m.statusMessage) }
        let metrics: [JSONValue] = m.metrics.map { lm in
            guard case .object(var o) = metric(lm.metric) else { return metric(lm.metric) }
            o["model_id"] = .string(m.id.rawValue)
            if let r = lm.runID { o["run_id"] = .string(r.rawValue) }
            if let n = lm.datasetName { o["dataset_name"] = .string(n) }
            if let d = lm.datasetDigest { o["dataset_digest"] = .string(d) }
            return .object(o)
        }
        return .object([
            "info": .object(info),
            "data": .object(["params": tags(m.params), "metrics": .array(metrics)]),
        ])
    }

    /// Where the client uploads a logged model's files: the proxy's `EXP/models/ID/artifacts`.
    static func loggedModelRoot(_ m: LoggedModel) -> String { "mlflow-artifacts:/\(m.experimentID.rawValue)/models/\(m.id.rawValue)/artifacts" }

    /// GET parameters as a body (`max_results=10&view_type=ALL`); the parameters named in
    /// `lists` are repeated keys (`stages=A&stages=B`) and become lists.
    static func queryObject(_ request: Request, lists: Set<String> = []) -> JSONValue {
        var out: [String: JSONValue] = [:]
        for (k, v) in formPairs(request) {
            if lists.contains(k) {
                if case .array(let a)? = out[k] { out[k] = .array(a + [.string(v)]) } else { out[k] = .array([.string(v)]) }
            } else {
                out[k] = .string(v)
            }
        }
        return .object(out)
    }

    /// The query's pairs in order, decoded as a form.
    static func formPairs(_ request: Request) -> [(String, String)] {
        (request.uri.query ?? "").split(separator: "&").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1).map { part in
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            guard let k = kv.first, !k.isEmpty else { return nil }
            return (k, kv.count > 1 ? kv[1] : "")
        }
    }

    /// MLflow's `order_by` clauses (`name`, `last_updated_timestamp DESC`) over `fields`; `default`
    /// when none is given. Another field is refused by name.
    static func orderBy(_ b: JSONValue, fields: Set<String>, default first: (String, Bool)) throws -> [(String, Bool)] {
        var clauses: [String] = []
        switch b["order_by"] {
        case .string(let s)?: clauses = [s]
        case .array(let a)?: clauses = a.compactMap { if case .string(let s) = $0 { s } else { nil } }
        default: break
        }
        let order = try clauses.map { c -> (String, Bool) in
            let words = c.split(separator: " ").map(String.init)
            let field = (words.first ?? "").replacingOccurrences(of: "`", with: "")
            guard fields.contains(field), words.count <= 2, words.count == 1 || ["ASC", "DESC"].contains(words[1].uppercased()) else {
                throw FlywheelError.invalidArgument("order_by '\(c)' is not supported: expected one of \(fields.sorted().joined(separator: ", ")) [ASC|DESC]")
            }
            return (field, words.count == 1 || words[1].uppercased() == "ASC")
        }
        return order.isEmpty ? [first] : order
    }

    /// One page of `all` in `order` (fields read by `value`; the last fields must make the order
    /// total), after the row whose sort values a `page_token` carries: rows added meanwhile
    /// neither shift the next page nor repeat one already seen, as offsets would.
    static func keysetPage<T>(
        _ all: [T], _ b: JSONValue, order: [(String, Bool)], value: (T, String) -> JSONValue, defaultLimit: Int
    ) throws -> (items: [T], next: String?) {
        let limit = try int(b, "max_results") ?? defaultLimit
        guard limit >= 1 else { throw FlywheelError.invalidArgument("max_results must be at least 1") }
        func compare(_ x: [JSONValue], _ y: [JSONValue]) -> Bool {
            for (i, (_, ascending)) in order.enumerated() where x[i] != y[i] {
                let less: Bool = switch (x[i], y[i]) {
                case (.number(let a), .number(let c)): a < c
                case (.string(let a), .string(let c)): a.utf8.lexicographicallyPrecedes(c.utf8)
                default: false
                }
                return ascending ? less : !less
            }
            return false
        }
        var rows = all.map { item in (item, order.map { value(item, $0.0) }) }
        if case .string(let token)? = b["page_token"], !token.isEmpty {
            guard token.hasPrefix("k"), let data = Data(base64Encoded: String(token.dropFirst())),
                case .array(let after)? = try? JSONValue(parsing: data), after.count == order.count
            else {
                throw FlywheelError.invalidArgument("page token '\(token)' is not valid: pass the next_page_token a previous search returned")
            }
            rows = rows.filter { compare(after, $0.1) }
        }
        rows.sort { compare($0.1, $1.1) }
        let items = rows.prefix(limit)
        guard rows.count > limit, let last = items.last else { return (items.map(\.0), nil) }
        var w = JSONWriter()
        w.value(.array(last.1))
        return (items.map(\.0), "k" + Data(w.bytes).base64EncodedString())
    }

    /// The query string decoded as an HTML form is (what Python's `requests` sends): `+` is a
    /// space, then percent escapes. (Hummingbird's own parameters keep `+` as it is.)
    static func formQuery(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in formPairs(request) { out[k] = v }
        return out
    }

    /// Items matching MLflow's simple filter: a field (`fields`, e.g. `name`) or `tags.KEY`
    /// compared with `=`, `!=`, `LIKE` or `ILIKE` and a quoted string, clauses joined by AND.
    static func filter<T>(_ all: [T], _ filter: String, fields: [String: (T) -> String], tags: @escaping (T) -> Labels) throws -> [T] {
        let map: (T) -> [String: String] = { item in
            var out: [String: String] = [:]
            for (k, v) in tags(item) { out[k] = v }
            return out
        }
        return try self.filter(all, filter, fields: fields, maps: ["tags": map, "tag": map])
    }

    /// As above, with `PREFIX.KEY` fields looked up in the maps `maps` names (`tags`, `params`).
    static func filter<T>(_ all: [T], _ filter: String, fields: [String: (T) -> String], maps: [String: (T) -> [String: String]]) throws -> [T] {
        guard filter.count <= 10_000 else { throw FlywheelError.invalidArgument("the filter is over 10,000 characters") }
        let clauses = filter.components(separatedBy: " and ").flatMap { $0.components(separatedBy: " AND ") }
        var tests: [(T) -> Bool] = []
        for clause in clauses {
            let words = clause.trimmingCharacters(in: .whitespaces)
            guard let op = ["!=", "=", " ILIKE ", " LIKE ", " ilike ", " like "].first(where: { words.contains($0) }),
                  let range = words.range(of: op) else {
                throw FlywheelError.invalidArgument("filter clause '\(words)' is not valid: expected name = 'x', name LIKE 'x%' or tags.k = 'v'")
            }
            var field = words[..<range.lowerBound].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`\""))
            if field.hasPrefix("attribute.") { field = String(field.dropFirst("attribute.".count)) }
            var value = words[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard value.count >= 2, let q = value.first, (q == "'" || q == "\""), value.last == q else {
                throw FlywheelError.invalidArgument("filter value \(value) must be a quoted string")
            }
            value = String(value.dropFirst().dropLast())
            let get: (T) -> String?
            let prefix = field.firstIndex(of: ".").map { String(field[..<$0]) } ?? ""
            if let f = fields[field] { get = { f($0) } } else if let map = maps[prefix] {
                let k = String(field.drop { $0 != "." }.dropFirst()).trimmingCharacters(in: CharacterSet(charactersIn: "`\""))
                get = { map($0)[k] }
            } else {
                let prefixes = Set(maps.keys.filter { $0.hasSuffix("s") }).sorted().map { "\($0).KEY" }
                throw FlywheelError.invalidArgument(
                    "filter field '\(field)' is not supported: expected \((fields.keys.sorted() + prefixes).joined(separator: ", "))")
            }
            let o = op.trimmingCharacters(in: .whitespaces).uppercased()
            let pattern = value
            tests.append { item in
                // A tag an item lacks equals nothing, so it is "not equal" to anything (as MLflow's
                // client expects when it filters prompts out with `tags.… != 'true'`).
                guard let v = get(item) else { return o == "!=" }
                switch o {
                case "=": return v == pattern
                case "!=": return v != pattern
                case "LIKE": return like(v, pattern, caseSensitive: true)
                default: return like(v, pattern, caseSensitive: false)
                }
            }
        }
        return all.filter { item in tests.allSatisfy { $0(item) } }
    }

    /// One page of `all` by `max_results` (default 1000) and `page_token` (an offset token).
    static func page<T>(_ all: [T], _ b: JSONValue, defaultLimit: Int = 1000) throws -> (items: [T], next: String?) {
        let limit = try int(b, "max_results") ?? defaultLimit
        guard limit >= 1 else { throw FlywheelError.invalidArgument("max_results must be at least 1") }
        let token = b["page_token"].flatMap { if case .string(let s) = $0, !s.isEmpty { s } else { nil } }
        let offset = try RunQuery(pageToken: token).offset()
        let items = Array(all.dropFirst(offset).prefix(limit))
        return (items, offset + items.count < all.count ? "o\(offset + items.count)" : nil)
    }

    /// SQL LIKE: `%` any run, `_` one character; iterative (two pointers with one backtrack
    /// point), so no pattern can exhaust the stack.
    static func like(_ s: String, _ p: String, caseSensitive: Bool) -> Bool {
        let a = Array(caseSensitive ? s : s.lowercased()), b = Array(caseSensitive ? p : p.lowercased())
        var i = 0, j = 0, star = -1, mark = 0
        while i < a.count {
            if j < b.count && (b[j] == "_" || (b[j] != "%" && b[j] == a[i])) {
                i += 1
                j += 1
            } else if j < b.count && b[j] == "%" {
                star = j
                mark = i
                j += 1
            } else if star >= 0 {
                j = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while j < b.count && b[j] == "%" { j += 1 }
        return j == b.count
    }
}
