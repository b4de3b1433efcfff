import FlywheelCore
import FlywheelLearn
import FlywheelRegistry
import FlywheelYAML
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A model version loaded and ready to answer.
public struct LoadedModel: Sendable {
    public let name: String
    public let version: Int
    public let predictor: Predictor
    public let loadSeconds: Double
    /// `NAME/VERSION`, as logs and metrics name it.
    public var label: String { "\(name)/\(version)" }
}

/// A deployment resolved to loaded models: everything one request needs, replaced as a whole
/// when the deployment or an alias it names changes, so a request sees one consistent version set.
public struct ServingPlan: Sendable {
    public struct Route: Sendable {
        public let reference: String
        /// Nil when the version could not be loaded; requests routed here get the fallback.
        public let model: LoadedModel?
        public let decoder: RecordDecoder?
        public let weight: Double
        public let problem: String?
    }

    public let spec: DeploymentSpec
    public let revision: Int
    public let routes: [Route]
    public let shadows: [(reference: String, model: LoadedModel, decoder: RecordDecoder)]
    public let fallbackModel: (model: LoadedModel, decoder: RecordDecoder)?
    /// The log's redaction rules, built once per plan rather than per request.
    public let redactor: Redactor
    /// Route i takes shares in [cumulative[i-1], cumulative[i]) of the total weight.
    let cumulative: [Double]

    /// The versions this plan serves, as `NAME/VERSION` → loaded model.
    public var models: [LoadedModel] {
        routes.compactMap(\.model) + shadows.map(\.model) + (fallbackModel.map { [$0.model] } ?? [])
    }

    /// Picks a route: by the sticky key's hash when there is one (the same key always lands on
    /// the same route while the weights stand), else at random.
    public func chooseRoute(stickyKey: String?) -> Int {
        guard routes.count > 1, let total = cumulative.last, total > 0 else { return 0 }
        let u: Double
        if let stickyKey {
            u = Double(Self.fnv1a(stickyKey) % 1_000_000) / 1_000_000
        } else {
            u = Double.random(in: 0..<1)
        }
        let x = u * total
        return cumulative.firstIndex { x < $0 } ?? routes.count - 1
    }

    /// FNV-1a, 64-bit: a stable hash (Swift's `Hasher` is seeded per process, which would move
    /// callers between versions on every restart).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}

/// Holds every deployment's current `ServingPlan` and keeps them current.
///
/// ``refresh()`` reads the deployments and the aliases they name from the store; a version not
/// yet in memory is loaded (off the request path) and only then is the new plan swapped in, in one
/// step under a lock. Requests read plans under the same lock and never wait for a load, so an
/// alias move changes the answering version without a failed request. As a `Service` it refreshes
/// every `interval`.
public final class DeploymentRuntime: Service, Sendable {
    struct State {
        var plans: [String: ServingPlan] = [:]
        var loaded: [String: LoadedModel] = [:]
        var problems: [String: String] = [:]
        var refreshed = false
    }

    let store: any MetadataStore
    let blobs: any BlobStore
    public let registry: ModelRegistry
    public let logger: Logger
    public let metrics: ServingMetrics?
    public let predictionLog: PredictionLogger?
    public let interval: Duration
    private let state = Mutex(State())
    /// Shadow tasks running now, bounded so a slow shadow can never pile up work.
    let shadowsInFlight = Atomic<Int>(0)
    public let maxShadowsInFlight = 64

    public init(
        store: any MetadataStore, blobs: any BlobStore, metrics: ServingMetrics? = nil, predictionLog: PredictionLogger? = nil,
        logger: Logger = Logger(label: "flywheel.serving"), interval: Duration = .milliseconds(250)
    ) {
        self.store = store
        self.blobs = blobs
        registry = ModelRegistry(store: store, blobs: blobs)
        self.metrics = metrics
        self.predictionLog = predictionLog
        self.logger = logger
        self.interval = interval
    }

    public func plan(_ deployment: String) -> ServingPlan? { state.withLock { $0.plans[deployment] } }
    public var plans: [String: ServingPlan] { state.withLock { $0.plans } }

    /// Ready once the first refresh has finished and every deployment has a loaded route.
    public var isReady: Bool {
        state.withLock { s in s.refreshed && s.plans.values.allSatisfy { p in p.routes.contains { $0.model != nil } } && s.problems.isEmpty }
    }

    /// Deployments that could not be planned, with why.
    public var problems: [String: String] { state.withLock { $0.problems } }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await refresh()
            try? await Task.sleep(for: interval)
        }
    }

    /// Brings every plan up to date with the store; returns the deployments whose plan changed.
    @discardableResult
    public func refresh() async -> [String] {
        let revisions: [DeploymentRevision]
        do { revisions = try await store.listDeployments() } catch {
            logger.error("serving: cannot read deployments: \(error)")
            return []
        }
        var newPlans: [String: ServingPlan] = [:]
        var problems: [String: String] = [:]
        for rev in revisions {
            let (spec, diagnostics) = DeploymentSpec.parse(rev.spec)
            guard let spec else {
                problems[rev.name] = "revision \(rev.revision) is not a valid deployment: \(diagnostics.map(\.description).joined(separator: "; "))"
                continue
            }
            newPlans[rev.name] = await makePlan(spec, revision: rev.revision)
        }
        let current = state.withLock { $0.plans }
        var changed: [String] = []
        for (name, p) in newPlans where current[name].map({ !Self.same($0, p) }) ?? true { changed.append(name) }
        for name in current.keys where newPlans[name] == nil { changed.append(name) }
        let keep = Set(newPlans.values.flatMap { $0.models.map(\.label) })
        state.withLock { s in
            s.plans = newPlans
            s.problems = problems
            s.loaded = s.loaded.filter { keep.contains($0.key) }
            s.refreshed = true
        }
        for name in changed.sorted() {
            if let p = newPlans[name] {
                let versions = p.routes.map { r in r.model.map { "\(r.reference) → \($0.version)" } ?? "\(r.reference) → not loaded" }
                logger.info("deployment \(name) revision \(p.revision): \(versions.joined(separator: ", "))")
            } else {
                logger.info("deployment \(name) removed")
            }
        }
        return changed.sorted()
    }

    static func same(_ a: ServingPlan, _ b: ServingPlan) -> Bool {
        a.revision == b.revision && a.models.map(\.label) == b.models.map(\.label)
            && a.routes.map { $0.model?.label } == b.routes.map { $0.model?.label }
    }

    func makePlan(_ spec: DeploymentSpec, revision: Int) async -> ServingPlan {
        var routes: [ServingPlan.Route] = []
        for r in spec.routes {
            do {
                let m = try await load(r.model)
                routes.append(.init(reference: r.model, model: m, decoder: RecordDecoder(bundle: m.predictor.bundle, unseen: spec.unseenCategories),
                                    weight: r.weight, problem: nil))
            } catch {
                routes.append(.init(reference: r.model, model: nil, decoder: nil, weight: r.weight, problem: Self.message(error)))
            }
        }
        var shadows: [(String, LoadedModel, RecordDecoder)] = []
        for s in spec.shadow {
            // A shadow that cannot be loaded is left out: it never affects answers.
            if let m = try? await load(s) { shadows.append((s, m, RecordDecoder(bundle: m.predictor.bundle, unseen: .missing))) }
        }
        var fallback: (LoadedModel, RecordDecoder)?
        if case .model(let ref) = spec.fallback, let m = try? await load(ref) {
            fallback = (m, RecordDecoder(bundle: m.predictor.bundle, unseen: spec.unseenCategories))
        }
        var cumulative: [Double] = []
        var total = 0.0
        for r in routes {
            total += r.weight
            cumulative.append(total)
        }
        return ServingPlan(
            spec: spec, revision: revision, routes: routes, shadows: shadows, fallbackModel: fallback, redactor: Redactor(rules: spec.log.redact),
            cumulative: cumulative)
    }

    /// The loaded version a reference points at now, loading it if needed.
    func load(_ reference: String) async throws -> LoadedModel {
        let v = try await registry.resolve(reference)
        let key = "\(v.modelName)/\(v.version)"
        if let m = state.withLock({ $0.loaded[key] }) { return m }
        guard let digest = v.digest else { throw FlywheelError.notFound("\(reference) (version \(v.version)) has no model file") }
        let started = ContinuousClock.now
        let data = try await blobs.data(digest)
        let bundle = try ModelBundle.decode(data, source: "\(v.modelName) version \(v.version)")
        let seconds = Self.seconds(ContinuousClock.now - started)
        let m = LoadedModel(name: v.modelName, version: v.version, predictor: Predictor(bundle: bundle), loadSeconds: seconds)
        state.withLock { $0.loaded[key] = m }
        metrics?.modelLoaded(model: v.modelName, version: v.version, seconds: seconds)
        logger.info("loaded \(key) in \(String(format: "%.1f", seconds * 1000)) ms")
        return m
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func message(_ error: any Error) -> String {
        FlywheelError.message(of: error)
    }
}
