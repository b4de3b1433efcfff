import FlywheelCore
import Foundation
import Yams

/// Reads `pipeline.yaml` into a `PipelineSpec`, collecting every problem with its line and
/// column rather than stopping at the first.
public struct PipelineSpecParser {
    private var diagnostics: [Diagnostic] = []

    public init() {}

    /// The spec and the problems found; the spec is nil when the file is not a pipeline at all.
    public static func parse(_ text: String) -> (spec: PipelineSpec?, diagnostics: [Diagnostic]) {
        var p = PipelineSpecParser()
        let spec = p.parseDocument(text)
        return (spec, p.diagnostics)
    }

    static let topKeys = ["pipeline", "description", "params", "schedule", "on", "catch_up", "steps"]
    static let stepKeys = ["uses", "run", "with", "needs", "if", "retry", "timeout", "cache", "env", "for_each", "outputs", "deps",
                           "image", "description"]
    static let retryKeys = ["attempts", "backoff", "factor", "max_backoff", "jitter"]
    static let paramKeys = ["type", "default", "description"]

    private mutating func report(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(Self.location(node), message))
    }

    static func location(_ node: Node?) -> SpecLocation? {
        node?.mark.map { SpecLocation(line: $0.line, column: $0.column) }
    }

    private mutating func parseDocument(_ text: String) -> PipelineSpec? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            diagnostics.append(Self.diagnostic(e))
            return nil
        } catch {
            diagnostics.append(Diagnostic(nil, "not valid YAML: \(error)"))
            return nil
        }
        guard let root, let top = root.mapping else {
            diagnostics.append(Diagnostic(Self.location(root) ?? SpecLocation(line: 1, column: 1),
                                          "expected a mapping with 'pipeline:' and 'steps:'"))
            return nil
        }
        var spec = PipelineSpec(name: "", text: text)
        checkKeys(top, allowed: Self.topKeys, what: "pipeline")
        if let n = top["pipeline"] {
            if let name = scalarString(n), Self.isName(name) { spec.name = name } else {
                report(n, "'pipeline' must be a name of letters, digits, '-', '_' or '.'")
            }
        } else {
            report(root, "missing 'pipeline:' (the pipeline's name)")
        }
        if let n = top["description"] { spec.description = scalarString(n) ?? "" }
        if let n = top["params"] { spec.params = parseParams(n) }
        if let n = top["schedule"] {
            if let s = scalarString(n) {
                do { _ = try CronSchedule(parsing: s) } catch let e as FlywheelError { report(n, "schedule: \(e.message)") } catch {}
                spec.schedule = s
            } else { report(n, "'schedule' must be a cron string like \"0 3 * * *\"") }
        }
        if let n = top["catch_up"] {
            if let s = scalarString(n), ["none", "once"].contains(s) { spec.catchUp = s } else {
                report(n, "'catch_up' must be none or once")
            }
        }
        if let n = top["on"] { spec.triggers = parseTriggers(n) }
        if let n = top["steps"] {
            if let m = n.mapping {
                if m.count == 0 { report(n, "'steps' is empty: a pipeline needs at least one step") }
                for (k, v) in m {
                    guard let name = scalarString(k), Self.isName(name) else {
                        report(k, "a step name must be letters, digits, '-' or '_'")
                        continue
                    }
                    if let s = parseStep(name, k, v) { spec.steps.append(s) }
                }
            } else { report(n, "'steps' must be a mapping of step name to step") }
        } else {
            report(root, "missing 'steps:'")
        }
        return spec
    }

    static func diagnostic(_ e: YamlError) -> Diagnostic {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            return Diagnostic(SpecLocation(line: mark.line, column: mark.column), "YAML: \(ctx)\(problem)")
        case .reader(let problem, let offset, _, _):
            return Diagnostic(nil, "YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
        default:
            return Diagnostic(nil, "YAML: \(e)")
        }
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    private mutating func checkKeys(_ m: Node.Mapping, allowed: [String], what: String) {
        for k in m.keys {
            let key = k.string ?? ""
            if !allowed.contains(key) {
                let near = allowed.min { Self.distance($0, key) < Self.distance($1, key) }
                let hint = near.map { Self.distance($0, key) <= 2 ? " (did you mean '\($0)'?)" : "" } ?? ""
                report(k, "unknown key '\(key)' in \(what)\(hint); expected one of \(allowed.joined(separator: ", "))")
            }
        }
    }

    /// Edit distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in 1...max(y.count, 1) where !y.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[y.count]
    }

    /// A scalar's text (any scalar, typed or not).
    private func scalarString(_ n: Node) -> String? {
        if case .scalar(let s) = n { return s.string }
        return nil
    }

    /// A YAML node as a JSON value: plain scalars get their YAML type, quoted ones stay strings.
    static func json(_ n: Node) -> JSONValue {
        switch n {
        case .scalar(let s):
            if s.style == .plain {
                if n.null != nil { return .null }
                if let b = n.bool { return .bool(b) }
                if let i = n.int { return .number(Double(i)) }
                if let d = n.float { return .number(d) }
            }
            return .string(s.string)
        case .sequence(let seq): return .array(seq.map(json))
        case .mapping(let m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m { o[k.string ?? ""] = json(v) }
            return .object(o)
        }
    }

    private mutating func specValue(_ n: Node) -> SpecValue {
        switch n {
        case .scalar(let s):
            if s.string.contains("${{") {
                do { return .template(try Template(parsing: s.string)) } catch let e as FlywheelError {
                    report(n, e.message)
                    return .scalar(.string(s.string))
                } catch { return .scalar(.string(s.string)) }
            }
            return .scalar(Self.json(n))
        case .sequence(let seq): return .list(seq.map { specValue($0) })
        case .mapping(let m):
            var o: [String: SpecValue] = [:]
            for (k, v) in m { o[k.string ?? ""] = specValue(v) }
            return .map(o)
        }
    }

    private mutating func template(_ n: Node, _ what: String) -> Template? {
        guard let s = scalarString(n) else {
            report(n, "'\(what)' must be a string")
            return nil
        }
        do { return try Template(parsing: s) } catch let e as FlywheelError {
            report(n, "\(what): \(e.message)")
            return nil
        } catch { return nil }
    }

    private mutating func parseParams(_ n: Node) -> [ParamSpec] {
        guard let m = n.mapping else {
            report(n, "'params' must be a mapping of name to default value or to {type, default, description}")
            return []
        }
        var out: [ParamSpec] = []
        for (k, v) in m {
            guard let name = scalarString(k), Self.isName(name) else {
                report(k, "a param name must be letters, digits, '-' or '_'")
                continue
            }
            var p = ParamSpec(name: name, type: .any, defaultValue: nil, description: "", location: Self.location(k))
            if let pm = v.mapping, pm.keys.allSatisfy({ Self.paramKeys.contains($0.string ?? "") }), pm["type"] != nil || pm["default"] != nil {
                if let t = pm["type"] {
                    if let s = scalarString(t), let type = PortType(spelling: s), !type.isArtifact || type == .file { p.type = type } else {
                        report(t, "param '\(name)': unknown type '\(scalarString(t) ?? "")'; expected string, integer, number, boolean, list or object")
                    }
                }
                if let d = pm["default"] { p.defaultValue = Self.json(d) }
                if let d = pm["description"] { p.description = scalarString(d) ?? "" }
                if p.type == .any, let d = p.defaultValue { p.type = PortType.of(d) }
                if let d = p.defaultValue, d != .null, !p.type.accepts(PortType.of(d)) {
                    report(pm["default"], "param '\(name)': default \(PipelineValue.text(d)) is not of type \(p.type.rawValue)")
                }
            } else {
                let d = Self.json(v)
                p.defaultValue = d
                p.type = PortType.of(d)
                // 100 is an integer param, 0.0 or 1e-3 a number one, as written.
                if case .number = d { p.type = v.int != nil ? .integer : .number }
            }
            out.append(p)
        }
        return out
    }

    private mutating func parseTriggers(_ n: Node) -> [TriggerSpec] {
        let items: [Node] = n.sequence.map(Array.init) ?? [n]
        var out: [TriggerSpec] = []
        for item in items {
            guard let m = item.mapping else {
                report(item, "each 'on:' entry is {files: GLOB} or {event: NAME}")
                continue
            }
            checkKeys(m, allowed: ["files", "event"], what: "'on' entry")
            if let f = m["files"] {
                let globs = f.sequence.map { $0.compactMap { scalarString($0) } } ?? scalarString(f).map { [$0] } ?? []
                if globs.isEmpty { report(f, "'files' must be a glob or a list of globs") }
                out += globs.map(TriggerSpec.files)
            }
            if let e = m["event"] {
                if let s = scalarString(e), Self.isName(s) { out.append(.event(s)) } else { report(e, "'event' must be a name") }
            }
        }
        return out
    }

    private mutating func parseStep(_ name: String, _ key: Node, _ node: Node) -> StepSpec? {
        guard let m = node.mapping else {
            report(node, "step '\(name)' must be a mapping with 'uses:' or 'run:'")
            return nil
        }
        checkKeys(m, allowed: Self.stepKeys, what: "step '\(name)'")
        var action: StepSpec.Action?
        switch (m["uses"], m["run"]) {
        case (let u?, nil):
            if let s = scalarString(u), !s.isEmpty { action = .uses(s) } else { report(u, "step '\(name)': 'uses' must be a component name") }
        case (nil, let r?):
            if let t = template(r, "run") { action = .run(t) }
        case (_?, _?):
            report(key, "step '\(name)' has both 'uses' and 'run': give one")
        case (nil, nil):
            report(key, "step '\(name)' needs 'uses: COMPONENT' or 'run: COMMAND'")
        }
        var step = StepSpec(name: name, location: Self.location(key), action: action ?? .run(Template(parts: [])))
        if let w = m["with"] {
            if let wm = w.mapping {
                for (k, v) in wm {
                    let key = k.string ?? ""
                    step.with[key] = specValue(v)
                    step.withLocations[key] = Self.location(k)
                }
            } else { report(w, "step '\(name)': 'with' must be a mapping of input name to value") }
        }
        if let n = m["needs"] {
            let names = n.sequence.map { $0.compactMap { scalarString($0) } } ?? scalarString(n).map { [$0] }
            if let names { step.needs = names } else { report(n, "step '\(name)': 'needs' must be a step name or a list of them") }
        }
        if let n = m["if"] {
            if case .scalar(let s) = n, s.style == .plain, let b = n.bool {
                step.condition = Template(parts: [.expression(.literal(.bool(b)))])
            } else if let s = scalarString(n) {
                // `if:` may be written with or without the ${{ }}.
                let text = s.contains("${{") ? s : "${{ \(s) }}"
                do {
                    let t = try Template(parsing: text)
                    if t.soleExpression == nil {
                        report(n, "step '\(name)': if: must be one expression, e.g. \"params.x > 0.3\" or \"${{ params.x > 0.3 }}\", not text around ${{ }}")
                    }
                    step.condition = t
                } catch let e as FlywheelError { report(n, "step '\(name)': if: \(e.message)") } catch {}
            } else { report(n, "step '\(name)': 'if' must be an expression") }
        }
        if let n = m["retry"] { step.retry = parseRetry(n, step: name) }
        if let n = m["timeout"] {
            if let s = scalarString(n), let secs = DurationText.seconds(s), secs > 0 { step.timeout = secs } else {
                report(n, "step '\(name)': timeout '\(scalarString(n) ?? "")' is not a duration like 30s, 10m or 2h")
            }
        }
        if let n = m["cache"] {
            if let b = n.bool { step.cache = b } else { report(n, "step '\(name)': 'cache' must be true or false") }
        }
        if let n = m["env"] {
            if let em = n.mapping {
                for (k, v) in em {
                    guard let key = k.string, !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                        report(k, "step '\(name)': environment variable names are letters, digits and '_'")
                        continue
                    }
                    if let t = template(v, "env.\(key)") { step.env[key] = t }
                }
            } else { report(n, "step '\(name)': 'env' must be a mapping") }
        }
        if let n = m["for_each"] {
            let v = specValue(n)
            switch v {
            case .list, .template: step.forEach = v
            default: report(n, "step '\(name)': 'for_each' must be a list or an expression giving one")
            }
        }
        if let n = m["outputs"] {
            if let om = n.mapping {
                for (k, v) in om {
                    let type = scalarString(v).flatMap(PortType.init(spelling:))
                    if let key = k.string, Self.isName(key), let type, type.isArtifact { step.outputs[key] = type } else {
                        report(v, "step '\(name)': output '\(k.string ?? "")' must have type file, dataset, model or metrics")
                    }
                }
            } else { report(n, "step '\(name)': 'outputs' must map output names to types (file, dataset, model, metrics)") }
        }
        if let n = m["deps"] {
            let files = n.sequence.map { $0.compactMap { scalarString($0) } } ?? scalarString(n).map { [$0] }
            if let files { step.deps = files } else { report(n, "step '\(name)': 'deps' must be a list of files") }
        }
        if let n = m["image"] { step.image = scalarString(n) }
        if let n = m["description"] { step.description = scalarString(n) ?? "" }
        if case .uses = step.action, !step.outputs.isEmpty {
            report(m["outputs"], "step '\(name)': 'outputs' is for 'run:' steps; a component declares its own")
        }
        return step
    }

    private mutating func parseRetry(_ n: Node, step: String) -> RetryPolicy {
        var r = RetryPolicy()
        if let i = n.int {
            if i >= 1 { r.attempts = i } else { report(n, "step '\(step)': retry attempts must be at least 1") }
            return r
        }
        guard let m = n.mapping else {
            report(n, "step '\(step)': 'retry' must be a number of attempts or {attempts, backoff, factor, max_backoff, jitter}")
            return r
        }
        checkKeys(m, allowed: Self.retryKeys, what: "retry of step '\(step)'")
        if let a = m["attempts"] {
            if let i = a.int, i >= 1, i <= 100 { r.attempts = i } else { report(a, "step '\(step)': retry.attempts must be a whole number from 1 to 100") }
        }
        if let b = m["backoff"] {
            if let s = scalarString(b), let d = DurationText.seconds(s) { r.backoff = d } else { report(b, "step '\(step)': retry.backoff must be a duration like 2s") }
        }
        if let f = m["factor"] {
            if let d = f.float, d >= 1 { r.factor = d } else { report(f, "step '\(step)': retry.factor must be a number ≥ 1") }
        }
        if let b = m["max_backoff"] {
            if let s = scalarString(b), let d = DurationText.seconds(s) { r.maxBackoff = d } else { report(b, "step '\(step)': retry.max_backoff must be a duration like 1m") }
        }
        if let j = m["jitter"] {
            if let d = j.float, (0...1).contains(d) { r.jitter = d } else { report(j, "step '\(step)': retry.jitter must be a fraction from 0 to 1") }
        }
        return r
    }
}
