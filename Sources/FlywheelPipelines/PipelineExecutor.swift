import FlywheelCore
import FlywheelRegistry
import Foundation

/// What happens during a run, for a person watching (the CLI prints these as they come).
public enum PipelineEvent: Sendable {
    case runStarted(PipelineRunID, pipeline: String)
    case stepStarted(step: String, attempt: Int)
    case stepLog(step: String, line: String)
    case stepFinished(step: String, attempt: Int, status: StepStatus, seconds: Double, cacheHit: Bool, message: String?)
    case stepRetrying(step: String, attempt: Int, delay: Double)
    case runFinished(PipelineRunID, status: PipelineRunStatus)
}

/// Options for one run.
public struct ExecutionOptions: Sendable {
    /// Steps running at once.
    public var parallel: Int
    public var useCache: Bool
    /// What started the run (`manual`, `schedule`, `files`, `event`, `alert`).
    public var trigger: String
    /// The spec file's path as given, for the record.
    public var specPath: String
    /// Extra environment for command steps (MLFLOW_TRACKING_URI when a server serves the workspace).
    public var environment: [String: String]

    public init(parallel: Int = ProcessInfo.processInfo.activeProcessorCount, useCache: Bool = true, trigger: String = "manual",
                specPath: String = "pipeline.yaml", environment: [String: String] = [:]) {
        self.parallel = max(parallel, 1)
        self.useCache = useCache
        self.trigger = trigger
        self.specPath = specPath
        self.environment = environment
    }
}

/// Runs pipelines: steps in dependency order, independent ones at once, each attempt recorded.
///
/// ```swift
/// let executor = PipelineExecutor(store: store, blobs: blobs, workspaceRoot: root)
/// let run = try await executor.run(spec, params: params, options: .init()) { event in print(event) }
/// ```
public struct PipelineExecutor: Sendable {
    public let store: any MetadataStore
    public let blobs: any BlobStore
    public let catalog: ComponentCatalog
    public let clock: any WallClock
    public let workspaceRoot: URL
    /// Where attempts get their work folders (`.flywheel/work` in a workspace).
    public let workRoot: URL
    let tracking: TrackingService
    let registry: ModelRegistry

    public init(store: any MetadataStore, blobs: any BlobStore, workspaceRoot: URL, workRoot: URL? = nil,
                catalog: ComponentCatalog = .builtIn, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.blobs = blobs
        self.catalog = catalog
        self.clock = clock
        self.workspaceRoot = workspaceRoot
        self.workRoot = workRoot ?? workspaceRoot.appendingPathComponent(".flywheel/work")
        tracking = TrackingService(store: store, blobs: blobs, clock: clock)
        registry = ModelRegistry(store: store, blobs: blobs, clock: clock)
    }

    /// Starts a new run of `spec` (already checked) with resolved `params`.
    public func run(_ spec: PipelineSpec, params: [String: JSONValue], options: ExecutionOptions,
                    events: @escaping @Sendable (PipelineEvent) -> Void) async throws -> PipelineRun {
        let specBlob = try await blobs.put(Data(spec.text.utf8))
        let experiment = try await tracking.ensureExperiment(named: spec.name)
        let trackingRun = try await tracking.startRun(
            in: experiment.id, name: "pipeline \(spec.name)", labels: ["flywheel.pipeline": spec.name],
            params: params.mapValues { PipelineValue.text($0) }.filter { $0.value.utf8.count <= 6000 })
        let run = PipelineRun(
            id: .generate(), pipeline: spec.name, specDigest: specBlob.digest, specPath: options.specPath, params: params,
            trigger: options.trigger, startTime: clock.now(), trackingRunID: trackingRun.id)
        try await store.createPipelineRun(run)
        try await store.addLineage([
            LineageEdge(source: ResourceRef(kind: .pipelineRun, id: run.id.rawValue), target: .run(trackingRun.id),
                        relation: "tracked_by", createdAt: run.startTime)
        ])
        return try await execute(run, spec: spec, experiment: experiment.id, reuse: [:], firstAttempt: [:], options: options, events: events)
    }

    /// Completes an earlier run: steps that succeeded are kept, the rest and their dependents run again.
    public func resume(_ id: PipelineRunID, options: ExecutionOptions,
                       events: @escaping @Sendable (PipelineEvent) -> Void) async throws -> PipelineRun {
        guard var run = try await store.pipelineRun(id: id) else { throw FlywheelError.notFound("pipeline run \(id) not found") }
        guard run.status != .succeeded else {
            throw FlywheelError.failedPrecondition("pipeline run \(id) succeeded: there is nothing to resume")
        }
        let text = String(decoding: try await blobs.data(run.specDigest), as: UTF8.self)
        let (parsed, problems) = PipelineChecker(catalog: catalog).check(text: text)
        guard let spec = parsed else {
            throw FlywheelError.invalidArgument("the run's spec no longer checks: \(problems.map(\.description).joined(separator: "; "))")
        }
        let attempts = try await store.stepAttempts(pipelineRunID: id)
        var reuse: [String: [String: StepOutput]] = [:]
        var next: [String: Int] = [:]
        let now = clock.now()
        for a in attempts {
            let base = Self.baseName(a.step)
            next[base] = max(next[base] ?? 1, a.attempt + 1)
            if a.status == .running {
                // The process that ran it is gone (killed or crashed).
                var stale = a
                stale.status = .failed
                stale.endTime = now
                stale.message = "interrupted: the run stopped before this attempt finished"
                try await store.recordStepAttempt(stale)
            }
        }
        // The latest attempt of each step (a for_each step: of each instance) decides.
        var latest: [String: StepAttempt] = [:]
        for a in attempts where (latest[a.step]?.attempt ?? 0) < a.attempt { latest[a.step] = a }
        for s in spec.steps {
            let mine = latest.values.filter { Self.baseName($0.step) == s.name }
            guard let whole = mine.first(where: { $0.step == s.name }), whole.status == .succeeded else { continue }
            reuse[s.name] = whole.outputs
        }
        run.status = .running
        run.endTime = nil
        try await store.updatePipelineRun(id: id, status: .running, endTime: nil)
        let experiment = try await tracking.ensureExperiment(named: spec.name)
        if let t = run.trackingRunID { try? await store.updateRun(id: t, status: .running, endTime: nil, name: nil) }
        return try await execute(run, spec: spec, experiment: experiment.id, reuse: reuse, firstAttempt: next, options: options, events: events)
    }

    static func baseName(_ step: String) -> String {
        step.firstIndex(of: "[").map { String(step[..<$0]) } ?? step
    }

    // MARK: The run loop

    func execute(
        _ run: PipelineRun, spec: PipelineSpec, experiment: ExperimentID, reuse: [String: [String: StepOutput]],
        firstAttempt: [String: Int], options: ExecutionOptions, events: @escaping @Sendable (PipelineEvent) -> Void
    ) async throws -> PipelineRun {
        events(.runStarted(run.id, pipeline: spec.name))
        var outputs: [String: [String: PipelineValue]] = [:]
        var state: [String: StepStatus] = [:]
        // Reused steps count as succeeded only when everything they need is reused too.
        for s in spec.steps {
            if let r = reuse[s.name], s.upstream.allSatisfy({ reuse[$0] != nil }) {
                outputs[s.name] = r.mapValues(Self.value)
                state[s.name] = .succeeded
            }
        }
        let context = RunContext(
            run: run, spec: spec, experiment: experiment, options: options, events: events,
            workDir: workRoot.appendingPathComponent(run.id.rawValue))
        var running = 0
        var cancelled = false
        await withTaskGroup(of: (String, StepStatus, [String: PipelineValue]).self) { group in
            while true {
                if Task.isCancelled { cancelled = true }
                // Steps whose dependencies are all settled.
                for s in spec.steps where state[s.name] == nil && running < options.parallel && !cancelled {
                    let ups = s.upstream
                    guard ups.allSatisfy({ state[$0]?.isTerminal == true }) else { continue }
                    if let bad = ups.first(where: { state[$0] != .succeeded }) {
                        state[s.name] = .skipped
                        let why = "it needs '\(bad)', which \(state[bad] == .skipped ? "was skipped" : "did not succeed")"
                        await recordSkip(context, s.name, attempt: firstAttempt[s.name] ?? 1, why)
                        continue
                    }
                    state[s.name] = .running
                    running += 1
                    let upstream = outputs
                    let first = firstAttempt[s.name] ?? 1
                    group.addTask {
                        let (status, out) = await self.runStep(s, context: context, upstream: upstream, firstAttempt: first)
                        return (s.name, status, out)
                    }
                }
                if running == 0 {
                    // Nothing running and nothing could start: done (or a skip freed more work).
                    let startable = !cancelled && spec.steps.contains { s in
                        state[s.name] == nil && s.upstream.allSatisfy { state[$0]?.isTerminal == true }
                    }
                    if !startable { break }
                    continue
                }
                guard let (name, status, out) = await group.next() else { break }
                running -= 1
                state[name] = status
                outputs[name] = out
                if status == .cancelled { cancelled = true }
            }
        }
        if Task.isCancelled { cancelled = true }
        let failed = state.values.contains { $0 == .failed || $0 == .timedOut }
        let final: PipelineRunStatus = cancelled ? .cancelled : failed ? .failed : .succeeded
        let end = clock.now()
        let (store, tracking) = (self.store, self.tracking)
        await uncancelled {
            try? await store.updatePipelineRun(id: run.id, status: final, endTime: end)
            if let t = run.trackingRunID {
                try? await tracking.endRun(t, status: final == .succeeded ? .finished : final == .cancelled ? .killed : .failed)
            }
        }
        try? FileManager.default.removeItem(at: context.workDir)
        events(.runFinished(run.id, status: final))
        var done = run
        done.status = final
        done.endTime = end
        return done
    }

    /// Everything a step needs to know about the run it is part of.
    struct RunContext: Sendable {
        let run: PipelineRun
        let spec: PipelineSpec
        let experiment: ExperimentID
        let options: ExecutionOptions
        let events: @Sendable (PipelineEvent) -> Void
        let workDir: URL
    }

    static func value(_ o: StepOutput) -> PipelineValue {
        if let d = o.digest { return .artifact(PortType(rawValue: o.type) ?? .file, d) }
        if o.type == "list", case .array(let items)? = o.value {
            // A for_each step's collected outputs.
            return .list(items.map { item in
                if case .object(let m) = item, case .string(let t)? = m["type"], case .string(let d)? = m["digest"],
                   let digest = try? Digest(parsing: d) { return .artifact(PortType(rawValue: t) ?? .file, digest) }
                return .value(item)
            })
        }
        return .value(o.value ?? .null)
    }

    static func record(_ v: PipelineValue, type: PortType?) -> StepOutput {
        switch v {
        case .artifact(let t, let d): return StepOutput(type: t.rawValue, digest: d)
        case .value(let j): return StepOutput(type: (type ?? PortType.of(j)).rawValue, value: j)
        case .list: return StepOutput(type: "list", value: v.recorded)
        }
    }

    private func recordSkip(_ c: RunContext, _ step: String, attempt: Int, _ message: String) async {
        let now = clock.now()
        let store = self.store
        await uncancelled {
            try? await store.recordStepAttempt(StepAttempt(
                pipelineRunID: c.run.id, step: step, attempt: attempt, status: .skipped, startTime: now, endTime: now, message: message))
        }
        c.events(.stepFinished(step: step, attempt: attempt, status: .skipped, seconds: 0, cacheHit: false, message: message))
    }

    // MARK: One step

    private func runStep(_ s: StepSpec, context c: RunContext, upstream: [String: [String: PipelineValue]],
                         firstAttempt: Int) async -> (StepStatus, [String: PipelineValue]) {
        let resolver = ValueResolver(params: c.run.params, outputs: upstream, blobs: blobs, pipeline: c.spec.name, runID: c.run.id)
        do {
            if let cond = s.condition {
                let v = try await resolver.evaluate(cond, item: nil)
                if !v.isTruthy {
                    await recordSkip(c, s.name, attempt: firstAttempt, "its condition is false")
                    return (.skipped, [:])
                }
            }
            guard let each = s.forEach else {
                return await runInstance(s, name: s.name, item: nil, context: c, resolver: resolver, firstAttempt: firstAttempt)
            }
            let list = try await resolver.resolve(each, item: nil)
            let items: [PipelineValue]
            switch list {
            case .list(let l): items = l
            case .value(.array(let a)): items = a.map { .value($0) }
            default: throw FlywheelError.invalidArgument("for_each gave \(list.text), not a list")
            }
            // Instances run side by side (up to the run's parallelism); outputs are collected in order.
            var results = [(StepStatus, [String: PipelineValue])?](repeating: nil, count: items.count)
            await withTaskGroup(of: (Int, StepStatus, [String: PipelineValue]).self) { group in
                var nextIndex = 0, active = 0
                while nextIndex < items.count || active > 0 {
                    while active < c.options.parallel && nextIndex < items.count {
                        let i = nextIndex
                        group.addTask {
                            let (st, out) = await self.runInstance(
                                s, name: "\(s.name)[\(i)]", item: items[i], context: c, resolver: resolver, firstAttempt: firstAttempt)
                            return (i, st, out)
                        }
                        nextIndex += 1
                        active += 1
                    }
                    guard let (i, st, out) = await group.next() else { break }
                    results[i] = (st, out)
                    active -= 1
                }
            }
            let statuses = results.map { $0?.0 ?? .cancelled }
            let status: StepStatus = statuses.contains(.cancelled) ? .cancelled
                : statuses.contains(where: { $0 == .failed || $0 == .timedOut }) ? .failed : .succeeded
            var collected: [String: PipelineValue] = [:]
            if status == .succeeded {
                let names = Set(results.flatMap { $0?.1.keys.map { $0 } ?? [] })
                for n in names { collected[n] = .list(results.map { $0?.1[n] ?? .value(.null) }) }
            }
            // One summary attempt for the whole step, so resume and views see it as one.
            let now = clock.now()
            try? await store.recordStepAttempt(StepAttempt(
                pipelineRunID: c.run.id, step: s.name, attempt: firstAttempt, status: status, startTime: now, endTime: now,
                outputs: collected.mapValues { Self.record($0, type: nil) },
                message: "\(items.count) instance\(items.count == 1 ? "" : "s"): \(statuses.filter { $0 == .succeeded }.count) succeeded"))
            return (status, collected)
        } catch {
            let now = clock.now()
            let message = FlywheelError.message(of: error)
            try? await store.recordStepAttempt(StepAttempt(
                pipelineRunID: c.run.id, step: s.name, attempt: firstAttempt, status: .failed, startTime: now, endTime: now, message: message))
            c.events(.stepFinished(step: s.name, attempt: firstAttempt, status: .failed, seconds: 0, cacheHit: false, message: message))
            return (.failed, [:])
        }
    }

    /// Runs one instance of a step: cache lookup, then attempts until one succeeds or the policy gives up.
    private func runInstance(_ s: StepSpec, name: String, item: PipelineValue?, context c: RunContext, resolver: ValueResolver,
                             firstAttempt: Int) async -> (StepStatus, [String: PipelineValue]) {
        var attempt = firstAttempt
        let lastAttempt = firstAttempt + s.retry.attempts - 1
        var rng = SystemRandomNumberGenerator()
        while true {
            let started = clock.now()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let result = await attemptOnce(s, name: name, attempt: attempt, item: item, context: c, resolver: resolver, started: started)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            c.events(.stepFinished(step: name, attempt: attempt, status: result.status, seconds: seconds, cacheHit: result.cacheHit,
                                   message: result.message))
            if result.status == .succeeded || result.status == .cancelled || attempt >= lastAttempt || Task.isCancelled {
                return (Task.isCancelled && result.status != .succeeded ? .cancelled : result.status, result.outputs)
            }
            let delay = s.retry.delay(after: attempt - firstAttempt + 1, unit: Double.random(in: 0..<1, using: &rng))
            c.events(.stepRetrying(step: name, attempt: attempt + 1, delay: delay))
            do { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) } catch { return (.cancelled, [:]) }
            attempt += 1
        }
    }

    struct AttemptResult {
        var status: StepStatus
        var outputs: [String: PipelineValue] = [:]
        var cacheHit = false
        var message: String?
    }

    func attemptOnce(_ s: StepSpec, name: String, attempt: Int, item: PipelineValue?, context c: RunContext,
                             resolver: ValueResolver, started: Timestamp) async -> AttemptResult {
        var record = StepAttempt(pipelineRunID: c.run.id, step: name, attempt: attempt, status: .running, startTime: started)
        let dir = c.workDir.appendingPathComponent(name).appendingPathComponent(String(attempt))
        let logURL = dir.appendingPathComponent(Self.stepFolder).appendingPathComponent("step.log")
        let log = LogCollector(step: name, events: c.events)
        var result = AttemptResult(status: .failed)
        do {
            // Every reference the step reads, resolved: the cache key and the record use these.
            var refs: [String: JSONValue] = [:]
            for r in s.references where r.first != "outputs" {
                refs[r.joined(separator: ".")] = try await resolver.resolve(reference: r, item: item).recorded
            }
            var keyParts: [String: JSONValue] = ["refs": .object(refs)]
            var ports: [ResolvedPort] = []
            switch s.action {
            case .uses(let componentName):
                guard let component = catalog[componentName] else { throw FlywheelError.invalidArgument("unknown component '\(componentName)'") }
                let resolved = try await resolveInputs(s, component: component, item: item, resolver: resolver)
                ports = resolved.ports
                record.inputs = resolved.recorded
                keyParts["component"] = .string("\(component.name)@\(component.version)")
                keyParts["inputs"] = .object(resolved.recorded)
            case .run(let command):
                keyParts["run"] = .string(command.parts.map { part in
                    if case .text(let t) = part { return t }
                    return "${{}}"
                }.joined())
                keyParts["outputs"] = .object(s.outputs.mapValues { .string($0.rawValue) })
                var deps: [String: JSONValue] = [:]
                for d in s.deps {
                    let url = workspaceRoot.appendingPathComponent(d)
                    guard FileManager.default.fileExists(atPath: url.path) else {
                        throw FlywheelError.notFound("deps: no file '\(d)' in the workspace")
                    }
                    deps[d] = .string(try Digest.ofFile(at: url).digest.description)
                }
                keyParts["deps"] = .object(deps)
                keyParts["env"] = .object(try await s.env.asyncMapValues { .string(try await resolver.evaluate($0, item: item).text) })
                record.inputs = refs
            }
            let key = Digest(of: Data(PipelineValue.value(.object(keyParts)).canonical.utf8)).hex
            var cacheable = s.cache
            if case .uses(let n) = s.action, catalog[n]?.cacheable == false { cacheable = false }
            record.cacheKey = cacheable ? key : nil
            if cacheable, c.options.useCache, let hit = try await store.cachedStep(key: key) {
                record.status = .succeeded
                record.cacheHit = true
                record.outputs = hit.outputs
                record.endTime = clock.now()
                record.message = "cached: outputs of run \(hit.pipelineRunID), step \(hit.step)"
                record.runID = hit.runID
                try await store.recordStepAttempt(record)
                return AttemptResult(status: .succeeded, outputs: hit.outputs.mapValues(Self.value), cacheHit: true, message: nil)
            }
            try await store.recordStepAttempt(record)
            c.events(.stepStarted(step: name, attempt: attempt))
            // Only a step that really runs gets a work folder (a resumed run's old one is replaced).
            if attempt > 1 || FileManager.default.fileExists(atPath: dir.path) { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(Self.stepFolder), withIntermediateDirectories: true)
            switch s.action {
            case .uses(let componentName):
                // invariant: checked above.
                guard let component = catalog[componentName] else { throw FlywheelError.internal("component vanished") }
                let inputs = try await materialize(ports, component: component.name, dir: dir)
                let holder = RunHolder()
                let ctx = ComponentContext(
                    store: store, blobs: blobs, tracking: tracking, registry: registry, clock: clock, workspaceRoot: workspaceRoot,
                    workDir: dir, pipelineRunID: c.run.id, pipeline: c.spec.name, step: name, experimentID: c.experiment,
                    parentRunID: c.run.trackingRunID, log: { log.line($0) }, runHolder: holder)
                let out = try await withTimeout(s.timeout) { try await component.run(inputs, ctx) }
                for p in component.outputs where out[p.name] == nil {
                    throw FlywheelError.internal("component \(component.name) did not produce its output '\(p.name)'")
                }
                result.outputs = out
                record.runID = holder.runID
                if let r = holder.runID {
                    try? await store.addLineage([LineageEdge(
                        source: ResourceRef(kind: .pipelineRun, id: c.run.id.rawValue), target: .run(r), relation: "step", createdAt: started)])
                }
                result.status = .succeeded
            case .run(let command):
                let own = dir.appendingPathComponent(Self.stepFolder)
                let outDir = own.appendingPathComponent("out"), inDir = own.appendingPathComponent("in")
                // Folders only where the step has something to put (each costs an inode).
                if !s.outputs.isEmpty { try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true) }
                if s.references.contains(where: { $0.first == "steps" || $0.first == "item" }) {
                    try FileManager.default.createDirectory(at: inDir, withIntermediateDirectories: true)
                }
                try linkWorkspace(into: dir)
                let renderer = PathRenderer(blobs: blobs, inDir: inDir, outDir: outDir)
                let text = try await resolver.render(command, item: item, renderer: renderer)
                var env = ProcessInfo.processInfo.environment.merging(c.options.environment) { $1 }
                env["FLYWHEEL_WORKSPACE"] = workspaceRoot.path
                env["FLYWHEEL_RUN_ID"] = c.run.id.rawValue
                env["FLYWHEEL_PIPELINE"] = c.spec.name
                env["FLYWHEEL_STEP"] = name
                for (k, t) in s.env { env[k] = try await resolver.render(t, item: item, renderer: renderer) }
                if env["MLFLOW_TRACKING_URI"] != nil {
                    // A script that uses mlflow logs into a run of its own under the pipeline's run.
                    let child = try await tracking.startRun(in: c.experiment, name: name, parent: c.run.trackingRunID,
                                                            labels: ["flywheel.pipeline": c.spec.name, "flywheel.step": name])
                    env["MLFLOW_RUN_ID"] = child.id.rawValue
                    env["MLFLOW_EXPERIMENT_ID"] = c.experiment.rawValue
                    record.runID = child.id
                }
                let outcome = try await CommandRunner.run(
                    text, in: dir, environment: env, timeout: s.timeout, log: logURL,
                    onLine: { log.line($0, echoOnly: true) })
                record.exitCode = outcome.exitCode
                if let r = record.runID { try? await tracking.endRun(r, status: outcome.exitCode == 0 ? .finished : .failed) }
                if outcome.cancelled {
                    result.status = .cancelled
                    result.message = "cancelled"
                } else if outcome.timedOut {
                    result.status = .timedOut
                    result.message = "timed out after \(PipelineValue.formatNumber(s.timeout ?? 0)) s; its process group was killed"
                } else if outcome.exitCode != 0 {
                    result.status = .failed
                    result.message = "the command exited with status \(outcome.exitCode)"
                } else {
                    for (o, type) in s.outputs.sorted(by: { $0.key < $1.key }) {
                        let url = outDir.appendingPathComponent(o)
                        var isDir: ObjCBool = false
                        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else {
                            throw FlywheelError.failedPrecondition(
                                "output '\(o)' was not written: the command must create a file at ${{ outputs.\(o) }} (\(url.path))")
                        }
                        result.outputs[o] = .artifact(type, try await blobs.put(contentsOf: url).digest)
                    }
                    result.status = .succeeded
                }
            }
        } catch is CancellationError {
            result.status = .cancelled
            result.message = "cancelled"
        } catch let e as StepTimeout {
            result.status = .timedOut
            result.message = "timed out after \(PipelineValue.formatNumber(e.seconds)) s"
        } catch {
            result.status = Task.isCancelled ? .cancelled : .failed
            result.message = FlywheelError.message(of: error)
            if let m = result.message { log.line("error: \(m)") }
        }
        // The log file holds the command's output; component lines are collected in memory.
        let collected = log.text
        if !collected.isEmpty {
            try? FileManager.default.createDirectory(at: logURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: logURL.path) { try? Data(collected.utf8).write(to: logURL) } else if let h = try? FileHandle(forWritingTo: logURL) {
                _ = try? h.seekToEnd()
                h.write(Data(collected.utf8))
                try? h.close()
            }
        }
        record.status = result.status
        record.outputs = result.outputs.mapValues { Self.record($0, type: nil) }
        record.endTime = clock.now()
        record.message = result.message
        // A cancelled run still records how its steps ended (the store may refuse work from a cancelled task).
        let (store, blobs, final) = (self.store, self.blobs, record)
        await uncancelled {
            var r = final
            // An empty log is not stored.
            let size = (try? FileManager.default.attributesOfItem(atPath: logURL.path)[.size] as? NSNumber)?.int64Value ?? 0
            if size > 0 { r.logDigest = try? await blobs.put(contentsOf: logURL).digest }
            try? await store.recordStepAttempt(r)
        }
        // Work folders go when the run ends (one removal for all of them).
        return result
    }

    /// Flywheel's own files in a work folder (inputs, outputs, the log), apart from the step's.
    static let stepFolder = ".flywheel-step"

    /// A command step runs in a fresh folder, but relative paths (`python3 scripts/x.py`,
    /// `data/in.csv`) must still reach the workspace: its top-level entries are linked in.
    private func linkWorkspace(into dir: URL) throws {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: workspaceRoot.path)) ?? [] where entry != ".flywheel" && entry != Self.stepFolder {
            try? fm.createSymbolicLink(at: dir.appendingPathComponent(entry), withDestinationURL: workspaceRoot.appendingPathComponent(entry))
        }
    }

    /// An input resolved for the cache key (blobs by digest) before anything is copied.
    struct ResolvedPort: Sendable {
        var port: PortSpec
        var value: PipelineValue
        /// A file written in the spec is read where it is, not copied.
        var localURL: URL?
    }

    /// Resolves `with:` to values and digests: what the cache key and the record need.
    private func resolveInputs(_ s: StepSpec, component: any Component, item: PipelineValue?,
                               resolver: ValueResolver) async throws -> (ports: [ResolvedPort], recorded: [String: JSONValue]) {
        var ports: [ResolvedPort] = []
        var recorded: [String: JSONValue] = [:]
        for port in component.inputs {
            let given: PipelineValue
            if let v = s.with[port.name] {
                given = try await resolver.resolve(v, item: item)
            } else if let d = port.defaultValue {
                given = .value(d)
            } else {
                continue
            }
            if port.type.isArtifact, case .value(.string(let path)) = given {
                // A path written in the spec: a file in the workspace, recorded by digest.
                let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : workspaceRoot.appendingPathComponent(path)
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else {
                    throw FlywheelError.notFound("input '\(port.name)': no file '\(path)' in the workspace (\(workspaceRoot.path))")
                }
                let digest = try await blobs.put(contentsOf: url).digest
                ports.append(ResolvedPort(port: port, value: .artifact(port.type, digest), localURL: url))
                recorded[port.name] = .object(["path": .string(path), "digest": .string(digest.description)])
            } else {
                ports.append(ResolvedPort(port: port, value: given, localURL: nil))
                recorded[port.name] = given.recorded
            }
        }
        return (ports, recorded)
    }

    /// Puts blob inputs on the local disk for a component that will run.
    private func materialize(_ ports: [ResolvedPort], component: String, dir: URL) async throws -> ComponentInputs {
        let inDir = dir.appendingPathComponent(Self.stepFolder).appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inDir, withIntermediateDirectories: true)
        func local(_ v: PipelineValue, _ port: PortSpec, _ url: URL?) async throws -> ResolvedInput {
            switch v {
            case .artifact(let t, let d):
                if let url { return .file(url, t, d) }
                let file = inDir.appendingPathComponent("\(port.name)-\(d.hex.prefix(12))")
                if !FileManager.default.fileExists(atPath: file.path) { try await blobs.export(d, to: file) }
                return .file(file, t, d)
            case .list(let items):
                var out: [ResolvedInput] = []
                for i in items { out.append(try await local(i, port, nil)) }
                return .list(out)
            case .value(let j):
                return .value(j)
            }
        }
        var values: [String: ResolvedInput] = [:]
        for p in ports { values[p.port.name] = try await local(p.value, p.port, p.localURL) }
        return ComponentInputs(values, component: component)
    }
}

/// Runs `body` where the caller's cancellation does not reach, for the bookkeeping that must
/// happen however a run ends.
func uncancelled(_ body: @escaping @Sendable () async -> Void) async {
    await Task.detached { await body() }.value
}

/// Thrown when a component step runs past its timeout.
struct StepTimeout: Error { let seconds: Double }

/// Runs `body`, failing with `StepTimeout` after `seconds` (the body is cancelled).
func withTimeout<T: Sendable>(_ seconds: Double?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let seconds else { return try await body() }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            throw StepTimeout(seconds: seconds)
        }
        defer { group.cancelAll() }
        // invariant: two tasks were added, so next() yields at least once.
        guard let first = try await group.next() else { throw StepTimeout(seconds: seconds) }
        return first
    }
}

/// The tracking run a component started, handed back to the executor for the record.
final class RunHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var id: RunID?
    var runID: RunID? {
        get { lock.withLock { id } }
        set { lock.withLock { id = newValue } }
    }
}

/// A step's log lines: sent live to the watcher and kept for the artifact.
final class LogCollector: @unchecked Sendable {
    let step: String
    let events: @Sendable (PipelineEvent) -> Void
    private let lock = NSLock()
    private var lines: [String] = []

    init(step: String, events: @escaping @Sendable (PipelineEvent) -> Void) {
        self.step = step
        self.events = events
    }

    /// `echoOnly`: the line is already in the log file (a command's output).
    func line(_ text: String, echoOnly: Bool = false) {
        if !echoOnly { lock.withLock { lines.append(text) } }
        events(.stepLog(step: step, line: text))
    }

    var text: String { lock.withLock { lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n" } }
}

extension Dictionary where Key == String {
    func asyncMapValues<T>(_ f: (Value) async throws -> T) async rethrows -> [String: T] {
        var out: [String: T] = [:]
        for (k, v) in self { out[k] = try await f(v) }
        return out
    }
}
