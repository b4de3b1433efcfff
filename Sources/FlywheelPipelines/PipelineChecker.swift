import FlywheelCore
import Foundation

/// Checks a parsed spec against the components before anything runs: unknown components and
/// inputs, references to missing steps, outputs or params, cycles (printed as their path), type
/// mismatches, missing required inputs. Every problem is reported, not just the first.
public struct PipelineChecker {
    public let catalog: ComponentCatalog

    public init(catalog: ComponentCatalog = .builtIn) { self.catalog = catalog }

    /// Parses and checks `text`: the spec when it is sound, and every problem found.
    public func check(text: String) -> (spec: PipelineSpec?, diagnostics: [Diagnostic]) {
        let (spec, parseProblems) = PipelineSpecParser.parse(text)
        guard let spec else { return (nil, parseProblems) }
        let problems = parseProblems + check(spec)
        return (problems.isEmpty ? spec : nil, problems.sorted { ($0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.location?.line ?? 0, $1.location?.column ?? 0) })
    }

    public func check(_ spec: PipelineSpec) -> [Diagnostic] {
        var out: [Diagnostic] = []
        var seen = Set<String>()
        for s in spec.steps where !seen.insert(s.name).inserted {
            out.append(Diagnostic(s.location, "step '\(s.name)' is defined twice"))
        }
        for s in spec.steps { out += check(step: s, in: spec) }
        out += cycles(spec)
        return out
    }

    /// The type a reference evaluates to, or a problem.
    func type(of ref: [String], from step: StepSpec, in spec: PipelineSpec) -> Result<PortType, FlywheelError> {
        guard let root = ref.first else { return .failure(.invalidArgument("empty reference")) }
        switch root {
        case "params":
            guard ref.count >= 2 else { return .failure(.invalidArgument("'\(ref.joined(separator: "."))': write params.NAME")) }
            guard let p = spec.param(ref[1]) else {
                let known = spec.params.map(\.name)
                return .failure(.invalidArgument(
                    "unknown param '\(ref[1])'" + (known.isEmpty ? "; the pipeline declares no params" : "; declared: \(known.joined(separator: ", "))")))
            }
            return .success(ref.count > 2 ? .any : p.type)
        case "steps":
            guard ref.count >= 4, ref[2] == "outputs" else {
                return .failure(.invalidArgument("'\(ref.joined(separator: "."))': write steps.STEP.outputs.NAME"))
            }
            guard ref[1] != step.name else { return .failure(.invalidArgument("step '\(step.name)' refers to its own output '\(ref[3])'")) }
            guard let up = spec.step(ref[1]) else {
                return .failure(.invalidArgument("reference to a missing step '\(ref[1])'" + Self.suggest(ref[1], spec.steps.map(\.name))))
            }
            let outputs = outputTypes(of: up)
            guard let t = outputs[ref[3]] else {
                let names = outputs.keys.sorted()
                return .failure(.invalidArgument(
                    "step '\(up.name)' has no output '\(ref[3])'" + (names.isEmpty ? "; it has no outputs" : "; its outputs are \(names.joined(separator: ", "))")))
            }
            if up.forEach != nil { return .success(.list) }
            return .success(ref.count > 4 ? .any : t)
        case "outputs":
            guard case .run = step.action else { return .failure(.invalidArgument("'outputs.\(ref.dropFirst().joined(separator: "."))' is only for run: steps")) }
            guard ref.count == 2, step.outputs[ref[1]] != nil else {
                return .failure(.invalidArgument(
                    "output '\(ref.dropFirst().joined(separator: "."))' is not declared under this step's 'outputs:'"))
            }
            return .success(.string)
        case "item":
            guard step.forEach != nil else { return .failure(.invalidArgument("'item' is only defined in a step with for_each")) }
            return .success(.any)
        case "pipeline":
            guard ref.count == 2, ["name", "run_id"].contains(ref[1]) else {
                return .failure(.invalidArgument("'\(ref.joined(separator: "."))': pipeline.name and pipeline.run_id are defined"))
            }
            return .success(.string)
        default:
            return .failure(.invalidArgument(
                "unknown reference '\(ref.joined(separator: "."))'; expected params.*, steps.*.outputs.*, outputs.*, item or pipeline.*"))
        }
    }

    /// Output name → type for a step.
    func outputTypes(of step: StepSpec) -> [String: PortType] {
        switch step.action {
        case .run: return step.outputs
        case .uses(let name):
            guard let c = catalog[name] else { return [:] }
            return Dictionary(uniqueKeysWithValues: c.outputs.map { ($0.name, $0.type) })
        }
    }

    static func suggest(_ name: String, _ candidates: [String]) -> String {
        guard let best = candidates.min(by: { SpecReader.distance($0, name) < SpecReader.distance($1, name) }),
              SpecReader.distance(best, name) <= 2 else { return "" }
        return " (did you mean '\(best)'?)"
    }

    func check(step s: StepSpec, in spec: PipelineSpec) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let loc = s.location
        func refs(_ v: SpecValue, _ where_: String, _ at: SpecLocation?) {
            for r in v.references {
                if case .failure(let e) = type(of: r, from: s, in: spec) { out.append(Diagnostic(at, "step '\(s.name)', \(where_): \(e.message)")) }
            }
        }
        for n in s.needs where spec.step(n) == nil {
            out.append(Diagnostic(loc, "step '\(s.name)' needs a missing step '\(n)'" + Self.suggest(n, spec.steps.map(\.name))))
        }
        for n in s.needs where n == s.name { out.append(Diagnostic(loc, "step '\(s.name)' needs itself")) }
        if let c = s.condition { refs(.template(c), "if", loc) }
        if let f = s.forEach { refs(f, "for_each", loc) }
        for (k, t) in s.env.sorted(by: { $0.key < $1.key }) { refs(.template(t), "env.\(k)", loc) }
        switch s.action {
        case .run(let t):
            refs(.template(t), "run", loc)
            for (k, v) in s.with.sorted(by: { $0.key < $1.key }) { refs(v, "with.\(k)", s.withLocations[k] ?? loc) }
            if s.with.count > 0 {
                out.append(Diagnostic(loc, "step '\(s.name)': 'with' is for uses: steps; a run: step puts ${{ }} in its command"))
            }
        case .uses(let name):
            guard let c = catalog[name] else {
                out.append(Diagnostic(loc, "step '\(s.name)' uses an unknown component '\(name)'" + Self.suggest(name, catalog.names)
                                      + "; see 'flywheel components list'"))
                for (k, v) in s.with.sorted(by: { $0.key < $1.key }) { refs(v, "with.\(k)", s.withLocations[k] ?? loc) }
                return out
            }
            for (k, v) in s.with.sorted(by: { $0.key < $1.key }) {
                let at = s.withLocations[k] ?? loc
                guard let port = c.input(k) else {
                    out.append(Diagnostic(at, "step '\(s.name)': component \(name) has no input '\(k)'" + Self.suggest(k, c.inputs.map(\.name))
                                          + "; its inputs are \(c.inputs.map(\.name).joined(separator: ", "))"))
                    continue
                }
                refs(v, "with.\(k)", at)
                if let given = staticType(v, step: s, spec: spec), !port.type.accepts(given), !(s.forEach != nil && given == .list && port.type != .list) {
                    out.append(Diagnostic(at, "step '\(s.name)': input '\(k)' of \(name) takes \(port.type.rawValue), but is given \(given.rawValue)"))
                }
            }
            for p in c.inputs where p.required && s.with[p.name] == nil {
                out.append(Diagnostic(loc, "step '\(s.name)': component \(name) needs input '\(p.name)' (\(p.type.rawValue): \(p.summary))"))
            }
        }
        return out
    }

    /// The type a `with:` value has before running, when it can be known.
    func staticType(_ v: SpecValue, step: StepSpec, spec: PipelineSpec) -> PortType? {
        switch v {
        case .scalar(let j): return j == .null ? nil : PortType.of(j)
        case .list: return .list
        case .map: return .object
        case .template(let t):
            guard let e = t.soleExpression else { return .string }
            switch e {
            case .reference(let r):
                if case .success(let type) = type(of: r, from: step, in: spec) { return type }
                return nil
            case .literal(let j): return PortType.of(j)
            default: return .boolean
            }
        }
    }

    /// Cycles among steps, each printed as its path (`a → b → a`).
    func cycles(_ spec: PipelineSpec) -> [Diagnostic] {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        var found: [Diagnostic] = []
        var reported = Set<Set<String>>()
        func visit(_ n: String) {
            guard let s = spec.step(n) else { return }
            state[n] = 1
            stack.append(n)
            for u in s.upstream where spec.step(u) != nil && u != n {
                if state[u] == 1, let i = stack.firstIndex(of: u) {
                    // The path runs from a step to what it needs; print it in run order.
                    let cycle = Array(stack[i...])
                    if reported.insert(Set(cycle)).inserted {
                        let path = (cycle + [u]).reversed().joined(separator: " → ")
                        found.append(Diagnostic(spec.step(u)?.location, "cycle: \(path)"))
                    }
                } else if state[u] == nil {
                    visit(u)
                }
            }
            stack.removeLast()
            state[n] = 2
        }
        for s in spec.steps where state[s.name] == nil { visit(s.name) }
        return found
    }
}
