import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import Foundation

/// gate: passes only when metric thresholds hold and, if asked, the candidate beats the model
/// an alias points at, both scored on the same evaluation rows, by a margin.
struct GateComponent: Component {
    let cacheable = false
    let name = "gate"
    let version = "1"
    let summary = """
        Pass or fail a candidate: metric thresholds (require: {accuracy: ">= 0.9"}) and, with beat: {model: NAME@ALIAS, \
        metric: accuracy, margin: 0}, a win over the alias's current version on the same data. Outputs passed; never fails the step.
        """
    let inputs = [
        PortSpec("metrics", .metrics, required: true, "the candidate's metrics (learn/evaluate's output)"),
        PortSpec("require", .object, default: .object([:]), "metric → condition, e.g. {accuracy: \">= 0.9\", log_loss: \"< 0.5\"}"),
        PortSpec("beat", .object, "{model: NAME@ALIAS, metric: NAME, margin: NUMBER}: the current holder to beat"),
        PortSpec("data", .dataset, "the evaluation rows the holder is scored on (required with beat)"),
    ]
    let outputs = [PortSpec("passed", .boolean, "whether every check held"), PortSpec("report", .metrics, "each check and its outcome (JSON)")]

    /// Metrics where smaller is better; the rest are larger-is-better.
    static let lowerIsBetter: Set<String> = ["log_loss", "mse", "rmse", "mae"]

    struct Check: Encodable {
        var check: String
        var passed: Bool
        var detail: String
    }

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let metrics = try StepTables.readMetrics(try inputs.file("metrics"), input: "metrics")
        var checks: [Check] = []
        if case .object(let req)? = inputs.json("require") {
            for (metric, cond) in req.sorted(by: { $0.key < $1.key }) {
                let (op, threshold) = try Self.condition(PipelineValue.text(cond), metric: metric)
                guard let value = metrics[metric] else {
                    checks.append(Check(check: "\(metric) \(op.rawValue) \(PipelineValue.formatNumber(threshold))", passed: false,
                                        detail: "the metrics have no '\(metric)' (they have \(metrics.keys.sorted().joined(separator: ", ")))"))
                    continue
                }
                let ok = PipelineValue.compare(op, .value(.number(value)), .value(.number(threshold)))
                checks.append(Check(check: "\(metric) \(op.rawValue) \(PipelineValue.formatNumber(threshold))", passed: ok,
                                    detail: "\(metric) = \(PipelineValue.formatNumber(value))"))
            }
        }
        if case .object(let beat)? = inputs.json("beat") {
            checks.append(try await beatCheck(beat, metrics: metrics, inputs: inputs, context))
        }
        let passed = checks.allSatisfy(\.passed)
        for c in checks { context.log("\(c.passed ? "pass" : "FAIL"): \(c.check) (\(c.detail))") }
        context.log(passed ? "gate passed" : "gate failed")
        let report: [String: AnyEncodable] = ["passed": AnyEncodable(passed), "checks": AnyEncodable(checks)]
        let url = try StepTables.writeJSON(report, "gate.json", in: context.workDir)
        return ["passed": .value(.bool(passed)), "report": try await context.output(url, as: .metrics)]
    }

    private func beatCheck(_ beat: [String: JSONValue], metrics: [String: Double], inputs: ComponentInputs,
                           _ context: ComponentContext) async throws -> Check {
        guard case .string(let ref)? = beat["model"] else { throw FlywheelError.invalidArgument("gate: beat.model must be NAME@ALIAS or NAME/VERSION") }
        let metric = beat["metric"].map { PipelineValue.text($0) } ?? "accuracy"
        let margin = beat["margin"].flatMap { PipelineValue.value($0).number } ?? 0
        let label = "beats \(ref) on \(metric) by \(PipelineValue.formatNumber(margin))"
        guard let candidate = metrics[metric] else {
            return Check(check: label, passed: false, detail: "the candidate's metrics have no '\(metric)'")
        }
        let holder: ModelVersion
        do {
            holder = try await context.registry.resolve(ref)
        } catch let e as FlywheelError where e.code == .notFound {
            // Nothing to beat yet: the first model through the gate sets the bar.
            return Check(check: label, passed: true, detail: "no current holder (\(e.message)); candidate \(metric) = \(PipelineValue.formatNumber(candidate))")
        }
        guard let digest = holder.digest else { return Check(check: label, passed: true, detail: "\(ref) has no model file to compare with") }
        guard let dataURL = inputs.optionalFile("data") else {
            throw FlywheelError.invalidArgument("gate: beat needs input 'data', the evaluation rows both models are scored on")
        }
        let file = context.workDir.appendingPathComponent("holder.fwm")
        try await context.blobs.export(digest, to: file)
        let theirs = try await ComponentWork.run { try Trainer.evaluate(try StepTables.bundle(file), on: try CSVReader().read(contentsOf: dataURL)) }
        guard let incumbent = theirs[metric] else {
            return Check(check: label, passed: false, detail: "version \(holder.version) has no '\(metric)' on this data")
        }
        let lower = Self.lowerIsBetter.contains(metric)
        let ok = lower ? candidate <= incumbent - margin : candidate >= incumbent + margin
        return Check(check: label, passed: ok, detail: "candidate \(PipelineValue.formatNumber(candidate)) vs \(holder.modelName)/\(holder.version) \(PipelineValue.formatNumber(incumbent))")
    }

    /// Parses `>= 0.9`, `< 0.5`, `== 1` (a bare number means `>=`).
    static func condition(_ text: String, metric: String) throws -> (Expression.ComparisonOperator, Double) {
        let t = text.trimmingCharacters(in: .whitespaces)
        for op in [">=", "<=", "==", "!=", ">", "<"] where t.hasPrefix(op) {
            if let d = Double(t.dropFirst(op.count).trimmingCharacters(in: .whitespaces)), let o = Expression.ComparisonOperator(rawValue: op) {
                return (o, d)
            }
        }
        if let d = Double(t) { return (.ge, d) }
        throw FlywheelError.invalidArgument("gate: require.\(metric) '\(text)' is not a condition like \">= 0.9\"")
    }
}

/// Lets a heterogeneous dictionary be written as JSON.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
