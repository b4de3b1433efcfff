import FlywheelCore
import Foundation
import Yams

/// Compiles a pipeline to a Kubeflow Pipelines v2 PipelineSpec (schemaVersion 2.1.0), plus a
/// second YAML document with the Kubernetes platform spec when a step has a timeout.
///
/// Each step becomes a component, an executor and a root task. A `run:` step is a container
/// running its command with KFP placeholders in place of `${{ }}`; a `uses:` step is a
/// container running `flywheel step exec COMPONENT` with its inputs passed as placeholders.
/// Params are root inputs; blobs are typed artifacts (system.Dataset, Model, Metrics,
/// Artifact); `if:` is a trigger policy; `retry:` a retry policy; `cache:` caching options;
/// `for_each:` a parameter iterator over a sub-DAG.
public struct KFPCompiler {
    public let catalog: ComponentCatalog
    /// The image for steps that name none (it must hold the `flywheel` binary for `uses:` steps).
    public let image: String

    public init(image: String, catalog: ComponentCatalog = .builtIn) {
        self.image = image
        self.catalog = catalog
    }

    /// The YAML text, or an error listing what cannot be expressed in KFP.
    public func compile(_ spec: PipelineSpec) throws -> String {
        var problems: [String] = []
        var components: [String: Any] = [:]
        var executors: [String: Any] = [:]
        var tasks: [String: Any] = [:]
        var deadlines: [String: Any] = [:]
        let checker = PipelineChecker(catalog: catalog)

        for step in spec.steps {
            do {
                let compiled = try compileStep(step, spec: spec, checker: checker)
                executors[Self.executorName(step.name)] = compiled.executor
                if let t = step.timeout { deadlines[Self.executorName(step.name)] = ["activeDeadlineSeconds": Int(t.rounded(.up))] }
                if let loop = compiled.loop {
                    components[Self.componentName(step.name)] = compiled.component
                    components[Self.componentName("for-each-\(step.name)")] = loop.component
                    tasks[Self.taskName(step.name)] = loop.task
                } else {
                    components[Self.componentName(step.name)] = compiled.component
                    tasks[Self.taskName(step.name)] = compiled.task
                }
            } catch let e as FlywheelError {
                problems.append("step '\(step.name)': \(e.message)")
            }
        }
        guard problems.isEmpty else {
            throw FlywheelError.invalidArgument("cannot compile for KFP: " + problems.joined(separator: "; "))
        }
        var rootInputs: [String: Any] = [:]
        for p in spec.params {
            var def: [String: Any] = ["parameterType": Self.parameterType(p.type, sample: p.defaultValue), "isOptional": p.defaultValue != nil]
            if let d = p.defaultValue { def["defaultValue"] = Self.plain(d) }
            rootInputs[p.name] = def
        }
        var root: [String: Any] = ["dag": ["tasks": tasks]]
        if !rootInputs.isEmpty { root["inputDefinitions"] = ["parameters": rootInputs] }
        let pipelineSpec: [String: Any] = [
            "pipelineInfo": ["name": Self.sanitize(spec.name), "description": spec.description.isEmpty ? "compiled by flywheel" : spec.description],
            "schemaVersion": "2.1.0",
            "sdkVersion": "flywheel-0.1.0",
            "root": root,
            "components": components,
            "deploymentSpec": ["executors": executors],
        ]
        var text = "# Kubeflow Pipelines v2 PipelineSpec compiled by flywheel from pipeline '\(spec.name)'\n"
        text += try Yams.dump(object: pipelineSpec, width: -1, sortKeys: true)
        if !deadlines.isEmpty {
            let platform: [String: Any] = ["platforms": ["kubernetes": ["deploymentSpec": ["executors": deadlines]]]]
            text += "---\n" + (try Yams.dump(object: platform, width: -1, sortKeys: true))
        }
        return text
    }

    // MARK: Names

    /// KFP names: lowercase letters, digits and '-'.
    static func sanitize(_ s: String) -> String {
        String(s.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }
    static func componentName(_ step: String) -> String { "comp-" + sanitize(step) }
    static func executorName(_ step: String) -> String { "exec-" + sanitize(step) }
    static func taskName(_ step: String) -> String { sanitize(step) }
    /// The input name a reference travels under: `params.n_trees` → `pipelinechannel--params-n_trees`.
    static func channel(_ ref: [String]) -> String { "pipelinechannel--" + ref.joined(separator: "-") }

    static func parameterType(_ t: PortType, sample: JSONValue? = nil) -> String {
        switch t {
        case .integer: return "NUMBER_INTEGER"
        case .number: return "NUMBER_DOUBLE"
        case .boolean: return "BOOLEAN"
        case .list: return "LIST"
        case .object: return "STRUCT"
        case .any:
            if let s = sample, s != .null { return parameterType(PortType.of(s)) }
            return "STRING"
        default: return "STRING"
        }
    }

    static func artifactType(_ t: PortType) -> [String: Any] {
        let title = ["dataset": "system.Dataset", "model": "system.Model", "metrics": "system.Metrics"][t.rawValue] ?? "system.Artifact"
        return ["schemaTitle": title, "schemaVersion": "0.0.1"]
    }

    /// A JSON value as plain Swift values for the YAML emitter.
    static func plain(_ v: JSONValue) -> Any {
        switch v {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) as Any : d as Any
        case .string(let s): return s
        case .array(let a): return a.map(plain)
        case .object(let o): return o.mapValues(plain)
        }
    }

    // MARK: Steps

    struct CompiledStep {
        var component: [String: Any]
        var executor: [String: Any]
        var task: [String: Any]
        var loop: (component: [String: Any], task: [String: Any])?
    }

    /// Where a reference's value comes from, and what it is.
    enum Source {
        case param(String, PortType)
        case taskParameter(producer: String, key: String, PortType)
        case taskArtifact(producer: String, key: String, PortType, list: Bool)
        case item
    }

    func source(_ ref: [String], step: StepSpec, spec: PipelineSpec, checker: PipelineChecker) throws -> Source {
        switch ref.first {
        case "params":
            guard ref.count == 2, let p = spec.param(ref[1]) else {
                throw FlywheelError.invalidArgument("'\(ref.joined(separator: "."))': KFP passes whole params only")
            }
            return .param(p.name, p.type)
        case "steps":
            guard ref.count == 4, let up = spec.step(ref[1]), let t = checker.outputTypes(of: up)[ref[3]] else {
                throw FlywheelError.invalidArgument(
                    "'\(ref.joined(separator: "."))': KFP passes whole outputs only (a field of a metrics file cannot be read by the orchestrator)")
            }
            if t.isArtifact { return .taskArtifact(producer: Self.taskName(up.name), key: ref[3], t, list: up.forEach != nil) }
            return .taskParameter(producer: Self.taskName(up.name), key: ref[3], up.forEach != nil ? .list : t)
        case "item":
            guard ref.count == 1 else { throw FlywheelError.invalidArgument("'\(ref.joined(separator: "."))': KFP loops pass whole items only") }
            return .item
        default:
            throw FlywheelError.invalidArgument("'\(ref.joined(separator: "."))' has no KFP equivalent")
        }
    }

    private func compileStep(_ step: StepSpec, spec: PipelineSpec, checker: PipelineChecker) throws -> CompiledStep {
        var paramDefs: [String: Any] = [:], artifactDefs: [String: Any] = [:]
        var paramInputs: [String: Any] = [:], artifactInputs: [String: Any] = [:]
        var placeholders: [[String]: String] = [:]
        let inLoop = step.forEach != nil
        let loopItem = Self.channel([Self.sanitize(step.name), "loop-item"])
        // Every reference the step reads becomes one input of its component.
        var refs: [[String]] = []
        for r in step.references where r.first != "outputs" && !refs.contains(r) { refs.append(r) }
        // An `if:` reference is read by the trigger policy, outside the container.
        let conditionRefs = Set(step.condition?.references ?? [])
        for r in refs {
            let name = r.first == "item" ? loopItem : Self.channel(r)
            switch try source(r, step: step, spec: spec, checker: checker) {
            case .param(let p, let t):
                paramDefs[name] = ["parameterType": Self.parameterType(t, sample: spec.param(p)?.defaultValue)]
                paramInputs[name] = inLoop ? ["componentInputParameter": name] : ["componentInputParameter": p]
                placeholders[r] = "{{$.inputs.parameters['\(name)']}}"
            case .taskParameter(let producer, let key, let t):
                paramDefs[name] = ["parameterType": Self.parameterType(t)]
                paramInputs[name] = inLoop ? ["componentInputParameter": name] : ["taskOutputParameter": ["producerTask": producer, "outputParameterKey": key]]
                placeholders[r] = "{{$.inputs.parameters['\(name)']}}"
            case .taskArtifact(let producer, let key, let t, let list):
                guard !conditionRefs.contains(r) else { throw FlywheelError.invalidArgument("if: cannot test a file output on KFP") }
                var def: [String: Any] = ["artifactType": Self.artifactType(t)]
                if list { def["isArtifactList"] = true }
                artifactDefs[name] = def
                artifactInputs[name] = inLoop ? ["componentInputArtifact": name] : ["taskOutputArtifact": ["producerTask": producer, "outputArtifactKey": key]]
                placeholders[r] = "{{$.inputs.artifacts['\(name)'].path}}"
            case .item:
                paramDefs[name] = ["parameterType": "STRING"]
                paramInputs[name] = ["componentInputParameter": name]
                placeholders[r] = "{{$.inputs.parameters['\(name)']}}"
            }
        }

        var outputParams: [String: Any] = [:], outputArtifacts: [String: Any] = [:]
        var container: [String: Any] = ["image": step.image ?? image]
        switch step.action {
        case .run(let command):
            for (o, t) in step.outputs { outputArtifacts[o] = ["artifactType": Self.artifactType(t)] }
            var text = ""
            for part in command.parts {
                switch part {
                case .text(let s): text += s
                case .expression(.reference(let r)) where r.first == "outputs" && r.count == 2:
                    text += "\"{{$.outputs.artifacts['\(r[1])'].path}}\""
                case .expression(.reference(let r)):
                    guard let p = placeholders[r] else { throw FlywheelError.invalidArgument("unresolved reference \(r.joined(separator: "."))") }
                    // A for_each step's collected files are several paths: left unquoted so they split into words.
                    if case .taskArtifact(_, _, _, true) = try source(r, step: step, spec: spec, checker: checker) { text += p } else { text += "\"\(p)\"" }
                case .expression:
                    throw FlywheelError.invalidArgument("run: on KFP takes plain references inside ${{ }}, not expressions")
                }
            }
            // Output folders may not exist yet; the command runs in sh as written.
            let mkdirs = step.outputs.keys.sorted().map { "mkdir -p \"$(dirname \"{{$.outputs.artifacts['\($0)'].path}}\")\"" }
            container["command"] = ["sh", "-c", (mkdirs + [text]).joined(separator: "\n")]
            var env: [[String: Any]] = [["name": "FLYWHEEL_STEP", "value": step.name]]
            for (k, t) in step.env.sorted(by: { $0.key < $1.key }) {
                if t.isLiteral { env.append(["name": k, "value": t.parts.map { if case .text(let s) = $0 { s } else { "" } }.joined()]) } else {
                    throw FlywheelError.invalidArgument("env.\(k): KFP takes literal environment values")
                }
            }
            container["env"] = env
        case .uses(let name):
            guard let component = catalog[name] else { throw FlywheelError.invalidArgument("unknown component '\(name)'") }
            var args: [String] = ["step", "exec", component.name, "--with", Self.withJSON(step.with)]
            for r in refs where !conditionRefs.contains(r) || step.with.values.contains(where: { $0.references.contains(r) }) {
                guard let p = placeholders[r] else { continue }
                let key = r.joined(separator: ".")
                if p.contains("inputs.artifacts") {
                    let t: PortType
                    if case .taskArtifact(_, _, let at, _) = try source(r, step: step, spec: spec, checker: checker) { t = at } else { t = .file }
                    args += ["--artifact", "\(key)=\(t.rawValue):\(p)"]
                } else {
                    var t: PortType = .string
                    switch try source(r, step: step, spec: spec, checker: checker) {
                    case .param(_, let pt), .taskParameter(_, _, let pt): t = pt
                    default: t = .any
                    }
                    args += ["--value", "\(key)=\(t.rawValue):\(p)"]
                }
            }
            for o in component.outputs {
                if o.type.isArtifact {
                    outputArtifacts[o.name] = ["artifactType": Self.artifactType(o.type)]
                    args += ["--output", "\(o.name)={{$.outputs.artifacts['\(o.name)'].path}}"]
                } else {
                    outputParams[o.name] = ["parameterType": Self.parameterType(o.type)]
                    args += ["--output-parameter", "\(o.name)={{$.outputs.parameters['\(o.name)'].output_file}}"]
                }
            }
            container["command"] = ["flywheel"]
            container["args"] = args
        }

        var component: [String: Any] = ["executorLabel": Self.executorName(step.name)]
        var inputDefs: [String: Any] = [:]
        if !paramDefs.isEmpty { inputDefs["parameters"] = paramDefs }
        if !artifactDefs.isEmpty { inputDefs["artifacts"] = artifactDefs }
        if !inputDefs.isEmpty { component["inputDefinitions"] = inputDefs }
        var outputDefs: [String: Any] = [:]
        if !outputParams.isEmpty { outputDefs["parameters"] = outputParams }
        if !outputArtifacts.isEmpty { outputDefs["artifacts"] = outputArtifacts }
        if !outputDefs.isEmpty { component["outputDefinitions"] = outputDefs }

        var task: [String: Any] = [
            "taskInfo": ["name": Self.taskName(step.name)],
            "componentRef": ["name": Self.componentName(step.name)],
            "cachingOptions": ["enableCache": step.cache && (catalog[{ if case .uses(let n) = step.action { n } else { "" } }()]?.cacheable ?? true)],
        ]
        let deps = step.upstream.map(Self.taskName).sorted()
        if !deps.isEmpty { task["dependentTasks"] = deps }
        var taskInputs: [String: Any] = [:]
        if !paramInputs.isEmpty { taskInputs["parameters"] = paramInputs }
        if !artifactInputs.isEmpty { taskInputs["artifacts"] = artifactInputs }
        if !taskInputs.isEmpty { task["inputs"] = taskInputs }
        if step.retry.attempts > 1 {
            var policy: [String: Any] = [
                "maxRetryCount": step.retry.attempts - 1, "backoffDuration": Self.duration(step.retry.backoff),
                "backoffFactor": step.retry.factor,
            ]
            if let m = step.retry.maxBackoff { policy["backoffMaxDuration"] = Self.duration(m) }
            task["retryPolicy"] = policy
        }
        if let cond = step.condition {
            guard let e = cond.soleExpression else { throw FlywheelError.invalidArgument("if: must be one ${{ }} expression on KFP") }
            let channel: ([String]) -> String = { r in r.first == "item" ? loopItem : Self.channel(r) }
            task["triggerPolicy"] = ["condition": try Self.cel(e, channel: channel, sole: true)]
        }

        guard let each = step.forEach else {
            return CompiledStep(component: component, executor: ["container": container], task: task, loop: nil)
        }
        // for_each: the step's task runs inside a sub-DAG that KFP iterates over the items.
        var loopInputs: [String: Any] = [:], loopParamDefs: [String: Any] = [loopItem: ["parameterType": "STRING"]]
        var loopArtifactDefs: [String: Any] = [:], loopArtifactInputs: [String: Any] = [:]
        for (name, def) in paramDefs where name != loopItem {
            loopParamDefs[name] = def
            if let original = refs.first(where: { Self.channel($0) == name }) {
                switch try source(original, step: step, spec: spec, checker: checker) {
                case .param(let p, _): loopInputs[name] = ["componentInputParameter": p]
                case .taskParameter(let producer, let key, _): loopInputs[name] = ["taskOutputParameter": ["producerTask": producer, "outputParameterKey": key]]
                default: break
                }
            }
        }
        for (name, def) in artifactDefs {
            loopArtifactDefs[name] = def
            if let original = refs.first(where: { Self.channel($0) == name }),
               case .taskArtifact(let producer, let key, _, _) = try source(original, step: step, spec: spec, checker: checker) {
                loopArtifactInputs[name] = ["taskOutputArtifact": ["producerTask": producer, "outputArtifactKey": key]]
            }
        }
        var items: [String: Any]
        switch each {
        case .list(let values):
            let plainItems = values.map { v -> Any in if case .scalar(let j) = v { Self.plain(j) } else { NSNull() } }
            let data = try JSONSerialization.data(withJSONObject: plainItems)
            items = ["raw": String(decoding: data, as: UTF8.self)]
        case .template(let t):
            guard case .reference(let r)? = t.soleExpression, r.first == "params", r.count == 2 else {
                throw FlywheelError.invalidArgument("for_each on KFP takes a literal list or ${{ params.NAME }}")
            }
            let name = Self.channel(r)
            loopParamDefs[name] = ["parameterType": "LIST"]
            loopInputs[name] = ["componentInputParameter": r[1]]
            items = ["inputParameter": name]
        default:
            throw FlywheelError.invalidArgument("for_each must be a list")
        }
        var inner = task
        inner["dependentTasks"] = nil
        // Inside the loop the step's inputs come from the loop's own inputs.
        var loopComponent: [String: Any] = ["dag": ["tasks": [Self.taskName(step.name): inner]]]
        var loopDefs: [String: Any] = ["parameters": loopParamDefs]
        if !loopArtifactDefs.isEmpty { loopDefs["artifacts"] = loopArtifactDefs }
        loopComponent["inputDefinitions"] = loopDefs
        // Outputs of every iteration are collected for the steps downstream (fan-in).
        if !outputArtifacts.isEmpty {
            var defs: [String: Any] = [:], selectors: [String: Any] = [:]
            for (o, def) in outputArtifacts {
                var d = def as? [String: Any] ?? [:]
                d["isArtifactList"] = true
                defs[o] = d
                selectors[o] = ["artifactSelectors": [["producerSubtask": Self.taskName(step.name), "outputArtifactKey": o]]]
            }
            loopComponent["outputDefinitions"] = ["artifacts": defs]
            var dag = loopComponent["dag"] as? [String: Any] ?? [:]
            dag["outputs"] = ["artifacts": selectors]
            loopComponent["dag"] = dag
        }
        var loopTask: [String: Any] = [
            "taskInfo": ["name": Self.taskName(step.name)],
            "componentRef": ["name": Self.componentName("for-each-\(step.name)")],
            "parameterIterator": ["itemInput": loopItem, "items": items],
        ]
        if !deps.isEmpty { loopTask["dependentTasks"] = deps }
        var lt: [String: Any] = [:]
        if !loopInputs.isEmpty { lt["parameters"] = loopInputs }
        if !loopArtifactInputs.isEmpty { lt["artifacts"] = loopArtifactInputs }
        if !lt.isEmpty { loopTask["inputs"] = lt }
        return CompiledStep(component: component, executor: ["container": container], task: inner,
                            loop: (component: loopComponent, task: loopTask))
    }

    static func duration(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    /// The step's `with:` as JSON, `${{ }}` strings kept for `flywheel step exec` to resolve.
    static func withJSON(_ with: [String: SpecValue]) -> String {
        func json(_ v: SpecValue) -> JSONValue {
            switch v {
            case .scalar(let j): return j
            case .template(let t):
                return .string(t.parts.map { part in
                    switch part {
                    case .text(let s): return s
                    case .expression(let e): return "${{ \(source(e)) }}"
                    }
                }.joined())
            case .list(let items): return .array(items.map(json))
            case .map(let m): return .object(m.mapValues(json))
            }
        }
        return PipelineValue.value(.object(with.mapValues(json))).canonical
    }

    /// An expression written back as text.
    static func source(_ e: Expression) -> String {
        switch e {
        case .literal(let j):
            if case .string(let s) = j { return "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
            return PipelineValue.text(j)
        case .reference(let r): return r.joined(separator: ".")
        case .not(let x): return "not (\(source(x)))"
        case .and(let a, let b): return "(\(source(a))) and (\(source(b)))"
        case .or(let a, let b): return "(\(source(a))) or (\(source(b)))"
        case .compare(let op, let a, let b): return "\(source(a)) \(op.rawValue) \(source(b))"
        }
    }

    /// An `if:` expression in CEL over the task's inputs, as KFP's trigger policy reads it.
    static func cel(_ e: Expression, channel: ([String]) -> String, sole: Bool = false) throws -> String {
        switch e {
        case .literal(let j):
            switch j {
            case .string(let s): return "'" + s.replacingOccurrences(of: "'", with: "\\'") + "'"
            case .bool(let b): return b ? "true" : "false"
            case .number(let d): return PipelineValue.formatNumber(d)
            default: throw FlywheelError.invalidArgument("if: \(PipelineValue.text(j)) has no CEL form")
            }
        case .reference(let r):
            let value = "inputs.parameter_values['\(channel(r))']"
            return sole ? "\(value) == true" : value
        case .not(let x): return "!(\(try cel(x, channel: channel, sole: true).replacingOccurrences(of: " == true", with: "")))"
        case .and(let a, let b): return "(\(try cel(a, channel: channel, sole: true))) && (\(try cel(b, channel: channel, sole: true)))"
        case .or(let a, let b): return "(\(try cel(a, channel: channel, sole: true))) || (\(try cel(b, channel: channel, sole: true)))"
        case .compare(let op, let a, let b):
            return "\(try cel(a, channel: channel)) \(op.rawValue) \(try cel(b, channel: channel))"
        }
    }
}
