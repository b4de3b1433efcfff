import FlywheelCore
import FlywheelRegistry
import Foundation

extension PipelineExecutor {
    /// Runs one component step outside a pipeline run of this workspace, as a Kubeflow container
    /// does (`flywheel step exec`): its references are given as values and local files, its
    /// outputs come back as values and blobs. The attempt is recorded under a pipeline run of its own.
    public func execute(
        component: String, with: [String: SpecValue], values: [String: JSONValue], files: [String: (PortType, URL)],
        events: @escaping @Sendable (PipelineEvent) -> Void
    ) async throws -> [String: PipelineValue] {
        guard catalog[component] != nil else {
            throw FlywheelError.notFound("no component '\(component)'; the components are \(catalog.names.joined(separator: ", "))")
        }
        let step = StepSpec(name: Self.stepName(component), location: nil, action: .uses(component), with: with, cache: false)
        var params: [String: JSONValue] = [:]
        var outputs: [String: [String: PipelineValue]] = [:]
        var item: PipelineValue?
        func place(_ ref: String, _ v: PipelineValue) throws {
            let r = ref.split(separator: ".").map(String.init)
            switch r.first {
            case "params" where r.count == 2:
                guard case .value(let j) = v else { throw FlywheelError.invalidArgument("--value \(ref): a param must be a value") }
                params[r[1]] = j
            case "steps" where r.count == 4 && r[2] == "outputs": outputs[r[1], default: [:]][r[3]] = v
            case "item" where r.count == 1: item = v
            default: throw FlywheelError.invalidArgument("'\(ref)' is not params.NAME, steps.STEP.outputs.NAME or item")
            }
        }
        for (ref, v) in values { try place(ref, .value(v)) }
        for (ref, (type, url)) in files {
            guard FileManager.default.fileExists(atPath: url.path) else { throw FlywheelError.notFound("--artifact \(ref): no file at '\(url.path)'") }
            try place(ref, .artifact(type, try await blobs.put(contentsOf: url).digest))
        }
        let text = "# flywheel step exec \(component)\n"
        let specBlob = try await blobs.put(Data(text.utf8))
        let run = PipelineRun(
            id: .generate(), pipeline: step.name, specDigest: specBlob.digest, specPath: "kfp", params: params, trigger: "kfp",
            startTime: clock.now())
        try await store.createPipelineRun(run)
        let experiment = try await tracking.ensureExperiment(named: step.name)
        let spec = PipelineSpec(name: step.name, steps: [step], text: text)
        let context = RunContext(run: run, spec: spec, experiment: experiment.id, options: ExecutionOptions(parallel: 1, useCache: false),
                                 events: events, workDir: workRoot.appendingPathComponent(run.id.rawValue))
        let resolver = ValueResolver(params: params, outputs: outputs, blobs: blobs, pipeline: step.name, runID: run.id)
        let result = await attemptOnce(step, name: step.name, attempt: 1, item: item, context: context, resolver: resolver, started: clock.now())
        try? await store.updatePipelineRun(id: run.id, status: result.status == .succeeded ? .succeeded : .failed, endTime: clock.now())
        try? FileManager.default.removeItem(at: context.workDir)
        guard result.status == .succeeded else {
            throw FlywheelError.failedPrecondition("\(component) \(result.status.rawValue): \(result.message ?? "")")
        }
        return result.outputs
    }

    static func stepName(_ component: String) -> String { component.replacingOccurrences(of: "/", with: "-") }
}

extension SpecValue {
    /// A `with:` value from JSON: strings holding `${{ }}` become templates again.
    public init(json: JSONValue) throws {
        switch json {
        case .string(let s) where s.contains("${{"): self = .template(try Template(parsing: s))
        case .array(let a): self = .list(try a.map(SpecValue.init(json:)))
        case .object(let o): self = .map(try o.mapValues(SpecValue.init(json:)))
        default: self = .scalar(json)
        }
    }
}
