import FlywheelCore
import Foundation
import Yams

/// Reads `pipeline.yaml` into a `PipelineSpec`, collecting every problem with its line and
/// column rather than stopping at the first.
public struct PipelineSpecParser {
    private var reader = SpecReader()

    public init() {}

    /// The spec and the problems found; the spec is nil when the file is not a pipeline at all.
    public static func parse(_ text: String) -> (spec: PipelineSpec?, diagnostics: [Diagnostic]) {
        var p = PipelineSpecParser()
        let spec = p.parseDocument(text)
        return (spec, p.reader.diagnostics)
    }

    static let topKeys = ["pipeline", "description", "params", "schedule", "on", "catch_up", "steps"]
    static let stepKeys = ["uses", "run", "with", "needs", "if", "retry", "timeout", "cache", "env", "for_each", "outputs", "deps",
                           "image", "description"]
    static let retryKeys = ["attempts", "backoff", "factor", "max_backoff", "jitter"]
    static let paramKeys = ["type", "default", "description"]

    private mutating func parseDocument(_ text: String) -> PipelineSpec? {
        let root = reader.compose(text)
        if !reader.diagnostics.isEmpty { return nil }
        guard let root, let top = root.mapping else {
            reader.append(Diagnostic(SpecReader.location(root) ?? SpecLocation(line: 1, column: 1),
                                          "expected a mapping with 'pipeline:' and 'steps:'"))
            return nil
        }
        var spec = PipelineSpec(name: "", text: text)
        reader.checkKeys(top, allowed: Self.topKeys, what: "pipeline")
        if let n = top["pipeline"] {
            if let name = SpecReader.scalar(n), SpecReader.isName(name) { spec.name = name } else {
                reader.report(n, "'pipeline' must be a name of letters, digits, '-', '_' or '.'")
            }
        } else {
            reader.report(root, "missing 'pipeline:' (the pipeline's name)")
        }
        if let n = top["description"] { spec.description = SpecReader.scalar(n) ?? "" }
        if let n = top["params"] { spec.params = parseParams(n) }
        if let n = top["schedule"] {
            if let s = SpecReader.scalar(n) {
                do { _ = try CronSchedule(parsing: s) } catch let e as FlywheelError { reader.report(n, "schedule: \(e.message)") } catch {}
                spec.schedule = s
            } else { reader.report(n, "'schedule' must be a cron string like \"0 3 * * *\"") }
        }
        if let n = top["catch_up"] {
            if let s = SpecReader.scalar(n), ["none", "once"].contains(s) { spec.catchUp = s } else {
                reader.report(n, "'catch_up' must be none or once")
            }
        }
        if let n = top["on"] { spec.triggers = parseTriggers(n) }
        if let n = top["steps"] {
            if let m = n.mapping {
                if m.count == 0 { reader.report(n, "'steps' is empty: a pipeline needs at least one step") }
                for (k, v) in m {
                    guard let name = SpecReader.scalar(k), SpecReader.isName(name) else {
                        reader.report(k, "a step name must be letters, digits, '-' or '_'")
                        continue
                    }
                    if let s = parseStep(name, k, v) { spec.steps.append(s) }
                }
            } else { reader.report(n, "'steps' must be a mapping of step name to step") }
        } else {
            reader.report(root, "missing 'steps:'")
        }
        return spec
    }

    private mutating func specValue(_ n: Node) -> SpecValue {
        switch n {
        case .scalar(let s):
            if s.string.contains("${{") {
                do { return .template(try Template(parsing: s.string)) } catch let e as FlywheelError {
                    reader.report(n, e.message)
                    return .scalar(.string(s.string))
                } catch { return .scalar(.string(s.string)) }
            }
            return .scalar(SpecReader.json(n))
        case .sequence(let seq): return .list(seq.map { specValue($0) })
        case .mapping(let m):
            var o: [String: SpecValue] = [:]
            for (k, v) in m { o[k.string ?? ""] = specValue(v) }
            return .map(o)
        }
    }

    private mutating func template(_ n: Node, _ what: String) -> Template? {
        guard let s = SpecReader.scalar(n) else {
            reader.report(n, "'\(what)' must be a string")
            return nil
        }
        do { return try Template(parsing: s) } catch let e as FlywheelError {
            reader.report(n, "\(what): \(e.message)")
            return nil
        } catch { return nil }
    }

    private mutating func parseParams(_ n: Node) -> [ParamSpec] {
        guard let m = n.mapping else {
            reader.report(n, "'params' must be a mapping of name to default value or to {type, default, description}")
            return []
        }
        var out: [ParamSpec] = []
        for (k, v) in m {
            guard let name = SpecReader.scalar(k), SpecReader.isName(name) else {
                reader.report(k, "a param name must be letters, digits, '-' or '_'")
                continue
            }
            var p = ParamSpec(name: name, type: .any, defaultValue: nil, description: "", location: SpecReader.location(k))
            if let pm = v.mapping, pm.keys.allSatisfy({ Self.paramKeys.contains($0.string ?? "") }), pm["type"] != nil || pm["default"] != nil {
                if let t = pm["type"] {
                    if let s = SpecReader.scalar(t), let type = PortType(spelling: s), !type.isArtifact || type == .file { p.type = type } else {
                        reader.report(t, "param '\(name)': unknown type '\(SpecReader.scalar(t) ?? "")'; expected string, integer, number, boolean, list or object")
                    }
                }
                if let d = pm["default"] { p.defaultValue = SpecReader.json(d) }
                if let d = pm["description"] { p.description = SpecReader.scalar(d) ?? "" }
                if p.type == .any, let d = p.defaultValue { p.type = PortType.of(d) }
                if let d = p.defaultValue, d != .null, !p.type.accepts(PortType.of(d)) {
                    reader.report(pm["default"], "param '\(name)': default \(PipelineValue.text(d)) is not of type \(p.type.rawValue)")
                }
            } else {
                let d = SpecReader.json(v)
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
                reader.report(item, "each 'on:' entry is {files: GLOB} or {event: NAME}")
                continue
            }
            reader.checkKeys(m, allowed: ["files", "event"], what: "'on' entry")
            if let f = m["files"] {
                let globs = f.sequence.map { $0.compactMap { SpecReader.scalar($0) } } ?? SpecReader.scalar(f).map { [$0] } ?? []
                if globs.isEmpty { reader.report(f, "'files' must be a glob or a list of globs") }
                out += globs.map(TriggerSpec.files)
            }
            if let e = m["event"] {
                if let s = SpecReader.scalar(e), SpecReader.isName(s) { out.append(.event(s)) } else { reader.report(e, "'event' must be a name") }
            }
        }
        return out
    }

    private mutating func parseStep(_ name: String, _ key: Node, _ node: Node) -> StepSpec? {
        guard let m = node.mapping else {
            reader.report(node, "step '\(name)' must be a mapping with 'uses:' or 'run:'")
            return nil
        }
        reader.checkKeys(m, allowed: Self.stepKeys, what: "step '\(name)'")
        var action: StepSpec.Action?
        switch (m["uses"], m["run"]) {
        case (let u?, nil):
            if let s = SpecReader.scalar(u), !s.isEmpty { action = .uses(s) } else { reader.report(u, "step '\(name)': 'uses' must be a component name") }
        case (nil, let r?):
            if let t = template(r, "run") { action = .run(t) }
        case (_?, _?):
            reader.report(key, "step '\(name)' has both 'uses' and 'run': give one")
        case (nil, nil):
            reader.report(key, "step '\(name)' needs 'uses: COMPONENT' or 'run: COMMAND'")
        }
        var step = StepSpec(name: name, location: SpecReader.location(key), action: action ?? .run(Template(parts: [])))
        if let w = m["with"] {
            if let wm = w.mapping {
                for (k, v) in wm {
                    let key = k.string ?? ""
                    step.with[key] = specValue(v)
                    step.withLocations[key] = SpecReader.location(k)
                }
            } else { reader.report(w, "step '\(name)': 'with' must be a mapping of input name to value") }
        }
        if let n = m["needs"] {
            let names = n.sequence.map { $0.compactMap { SpecReader.scalar($0) } } ?? SpecReader.scalar(n).map { [$0] }
            if let names { step.needs = names } else { reader.report(n, "step '\(name)': 'needs' must be a step name or a list of them") }
        }
        if let n = m["if"] {
            if case .scalar(let s) = n, s.style == .plain, let b = n.bool {
                step.condition = Template(parts: [.expression(.literal(.bool(b)))])
            } else if let s = SpecReader.scalar(n) {
                // `if:` may be written with or without the ${{ }}.
                let text = s.contains("${{") ? s : "${{ \(s) }}"
                do {
                    let t = try Template(parsing: text)
                    if t.soleExpression == nil {
                        reader.report(n, "step '\(name)': if: must be one expression, e.g. \"params.x > 0.3\" or \"${{ params.x > 0.3 }}\", not text around ${{ }}")
                    }
                    step.condition = t
                } catch let e as FlywheelError { reader.report(n, "step '\(name)': if: \(e.message)") } catch {}
            } else { reader.report(n, "step '\(name)': 'if' must be an expression") }
        }
        if let n = m["retry"] { step.retry = parseRetry(n, step: name) }
        if let n = m["timeout"] {
            if let s = SpecReader.scalar(n), let secs = DurationText.seconds(s), secs > 0 { step.timeout = secs } else {
                reader.report(n, "step '\(name)': timeout '\(SpecReader.scalar(n) ?? "")' is not a duration like 30s, 10m or 2h")
            }
        }
        if let n = m["cache"] {
            if let b = n.bool { step.cache = b } else { reader.report(n, "step '\(name)': 'cache' must be true or false") }
        }
        if let n = m["env"] {
            if let em = n.mapping {
                for (k, v) in em {
                    guard let key = k.string, !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                        reader.report(k, "step '\(name)': environment variable names are letters, digits and '_'")
                        continue
                    }
                    if let t = template(v, "env.\(key)") { step.env[key] = t }
                }
            } else { reader.report(n, "step '\(name)': 'env' must be a mapping") }
        }
        if let n = m["for_each"] {
            let v = specValue(n)
            switch v {
            case .list, .template: step.forEach = v
            default: reader.report(n, "step '\(name)': 'for_each' must be a list or an expression giving one")
            }
        }
        if let n = m["outputs"] {
            if let om = n.mapping {
                for (k, v) in om {
                    let type = SpecReader.scalar(v).flatMap(PortType.init(spelling:))
                    if let key = k.string, SpecReader.isName(key), let type, type.isArtifact { step.outputs[key] = type } else {
                        reader.report(v, "step '\(name)': output '\(k.string ?? "")' must have type file, dataset, model or metrics")
                    }
                }
            } else { reader.report(n, "step '\(name)': 'outputs' must map output names to types (file, dataset, model, metrics)") }
        }
        if let n = m["deps"] {
            let files = n.sequence.map { $0.compactMap { SpecReader.scalar($0) } } ?? SpecReader.scalar(n).map { [$0] }
            if let files { step.deps = files } else { reader.report(n, "step '\(name)': 'deps' must be a list of files") }
        }
        if let n = m["image"] { step.image = SpecReader.scalar(n) }
        if let n = m["description"] { step.description = SpecReader.scalar(n) ?? "" }
        if case .uses = step.action, !step.outputs.isEmpty {
            reader.report(m["outputs"], "step '\(name)': 'outputs' is for 'run:' steps; a component declares its own")
        }
        return step
    }

    private mutating func parseRetry(_ n: Node, step: String) -> RetryPolicy {
        var r = RetryPolicy()
        if let i = n.int {
            if i >= 1 { r.attempts = i } else { reader.report(n, "step '\(step)': retry attempts must be at least 1") }
            return r
        }
        guard let m = n.mapping else {
            reader.report(n, "step '\(step)': 'retry' must be a number of attempts or {attempts, backoff, factor, max_backoff, jitter}")
            return r
        }
        reader.checkKeys(m, allowed: Self.retryKeys, what: "retry of step '\(step)'")
        if let a = m["attempts"] {
            if let i = a.int, i >= 1, i <= 100 { r.attempts = i } else { reader.report(a, "step '\(step)': retry.attempts must be a whole number from 1 to 100") }
        }
        if let b = m["backoff"] {
            if let s = SpecReader.scalar(b), let d = DurationText.seconds(s) { r.backoff = d } else { reader.report(b, "step '\(step)': retry.backoff must be a duration like 2s") }
        }
        if let f = m["factor"] {
            if let d = f.float, d >= 1 { r.factor = d } else { reader.report(f, "step '\(step)': retry.factor must be a number ≥ 1") }
        }
        if let b = m["max_backoff"] {
            if let s = SpecReader.scalar(b), let d = DurationText.seconds(s) { r.maxBackoff = d } else { reader.report(b, "step '\(step)': retry.max_backoff must be a duration like 1m") }
        }
        if let j = m["jitter"] {
            if let d = j.float, (0...1).contains(d) { r.jitter = d } else { reader.report(j, "step '\(step)': retry.jitter must be a fraction from 0 to 1") }
        }
        return r
    }
}
