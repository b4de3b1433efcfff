import FlywheelCore
import FlywheelLearn
import FlywheelRegistry
import Foundation

/// registry/register: a model bundle becomes a new version of a registered model.
struct RegisterComponent: Component {
    let cacheable = false
    let name = "registry/register"
    let version = "1"
    let summary = "Register a model bundle as the next version of NAME (created if new), with its input signature; optionally point an alias at it."
    let inputs = [
        PortSpec("model", .model, required: true, "the model bundle"),
        PortSpec("name", .string, required: true, "the registered model's name"),
        PortSpec("alias", .string, "an alias to point at the new version (e.g. staging)"),
        PortSpec("description", .string, default: .string(""), "the version's description"),
    ]
    let outputs = [PortSpec("version", .integer, "the new version number"), PortSpec("uri", .string, "models:/NAME/VERSION")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let url = try inputs.file("model")
        let name = try inputs.string("name")
        let bundle = try await ComponentWork.run { try StepTables.bundle(url) }
        do { _ = try await context.registry.createModel(name: name) } catch let e as FlywheelError where e.code == .alreadyExists {}
        guard let digest = inputs.digest("model") else { throw FlywheelError.invalidArgument("registry/register: input 'model' is not a stored file") }
        // The run that trained it, found by the bundle's digest among this pipeline's step runs.
        let trainedBy = try await trainingRun(for: digest, context)
        let v = try await context.registry.createVersion(
            model: name, run: trainedBy, source: .blob(digest), signature: bundle.signatureJSON,
            description: inputs.optionalString("description") ?? "", labels: ["flywheel.pipeline": context.pipeline], by: context.attribution)
        try await context.store.addLineage([LineageEdge(
            source: ResourceRef(kind: .pipelineRun, id: context.pipelineRunID.rawValue), target: .modelVersion(name, v.version),
            relation: "registered", createdAt: v.createdAt)])
        context.log("registered models:/\(name)/\(v.version)")
        if let alias = inputs.optionalString("alias"), !alias.isEmpty {
            let previous = try await context.registry.setAlias(alias, model: name, version: v.version, by: context.attribution)
            context.log("alias @\(alias) → \(v.version)\(previous.map { " (was \($0))" } ?? "")")
        }
        return ["version": .value(.number(Double(v.version))), "uri": .value(.string("models:/\(name)/\(v.version)"))]
    }

    private func trainingRun(for digest: Digest, _ context: ComponentContext) async throws -> RunID? {
        for a in try await context.store.stepAttempts(pipelineRunID: context.pipelineRunID) where a.status == .succeeded {
            if a.outputs.values.contains(where: { $0.digest == digest }), let r = a.runID { return r }
        }
        return nil
    }
}

/// registry/promote: moves an alias to a version (or to where another alias points).
struct PromoteComponent: Component {
    let cacheable = false
    let name = "registry/promote"
    let version = "1"
    let summary = "Point an alias (e.g. production) at a version, or at the version another alias points at; the move is recorded."
    let inputs = [
        PortSpec("name", .string, required: true, "the registered model"),
        PortSpec("alias", .string, required: true, "the alias to move"),
        PortSpec("version", .integer, "the version to point at"),
        PortSpec("from_alias", .string, "instead of version: the version this alias points at (e.g. staging)"),
    ]
    let outputs = [PortSpec("version", .integer, "the version the alias now points at"), PortSpec("previous", .integer, "where it pointed before (0: nowhere)")]

    func run(_ inputs: ComponentInputs, _ context: ComponentContext) async throws -> [String: PipelineValue] {
        let name = try inputs.string("name"), alias = try inputs.string("alias")
        let target: Int
        if let v = inputs.optionalNumber("version") {
            target = Int(v)
        } else if let from = inputs.optionalString("from_alias") {
            target = try await context.registry.resolve("\(name)@\(from)").version
        } else {
            throw FlywheelError.invalidArgument("registry/promote: give 'version' or 'from_alias'")
        }
        let previous = try await context.registry.setAlias(alias, model: name, version: target, by: context.attribution)
        context.log("alias @\(alias) of \(name) → \(target)\(previous.map { " (was \($0))" } ?? "")")
        return ["version": .value(.number(Double(target))), "previous": .value(.number(Double(previous ?? 0)))]
    }
}
