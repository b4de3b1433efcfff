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
        guard !s.isEmpty, s.count <= 64, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
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

    static func metric(_ m: Metric) -> JSONValue {
        .object([
            "key": .string(m.key), "value": m.value.isFinite ? .number(m.value) : .string(m.value.isNaN ? "NaN" : m.value > 0 ? "Infinity" : "-Infinity"),
            "timestamp": .number(Double(m.timestamp.millisecondsSince1970)), "step": .number(Double(m.step)),
        ])
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
            "artifact_uri": .string(root(r)), "lifecycle_stage": .string("active"),
        ]
        if let end = r.endTime { o["end_time"] = .number(Double(end.millisecondsSince1970)) }
        return .object(o)
    }

    static func run(_ d: RunDetail, artifacts root: (Run) -> String) -> JSONValue {
        .object([
            "info": runInfo(d.run, artifacts: root),
            "data": .object([
                "metrics": .array(d.data.latestMetrics.values.sorted { $0.key < $1.key }.map(metric)),
                "params": .array(d.data.params.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
                "tags": .array(d.data.tags.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
            ]),
            "inputs": .object([:]), "outputs": .object([:]),
        ])
    }

    /// GET parameters as a body (`max_results=10&view_type=ALL`).
    static func queryObject(_ request: Request) -> JSONValue {
        .object(formQuery(request).mapValues(JSONValue.string))
    }

    /// The query string decoded as an HTML form is (what Python's `requests` sends): `+` is a
    /// space, then percent escapes. (Hummingbird's own parameters keep `+` as it is.)
    static func formQuery(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { part in
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            guard let k = kv.first, !k.isEmpty else { continue }
            out[k] = kv.count > 1 ? kv[1] : ""
        }
        return out
    }

    /// Items matching MLflow's simple filter: a field (`fields`, e.g. `name`) or `tags.KEY`
    /// compared with `=`, `!=`, `LIKE` or `ILIKE` and a quoted string, clauses joined by AND.
    static func filter<T>(_ all: [T], _ filter: String, fields: [String: (T) -> String], tags: @escaping (T) -> Labels) throws -> [T] {
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
            if let f = fields[field] { get = { f($0) } } else if field.hasPrefix("tags.") || field.hasPrefix("tag.") {
                let k = String(field.drop { $0 != "." }.dropFirst()).trimmingCharacters(in: CharacterSet(charactersIn: "`\""))
                get = { tags($0)[k] }
            } else {
                throw FlywheelError.invalidArgument("filter field '\(field)' is not supported: expected \(fields.keys.sorted().joined(separator: ", ")) or tags.KEY")
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
    static func page<T>(_ all: [T], _ b: JSONValue) throws -> (items: [T], next: String?) {
        let limit = try int(b, "max_results") ?? 1000
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
