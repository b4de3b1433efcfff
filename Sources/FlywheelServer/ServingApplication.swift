import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import FlywheelUI
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The HTTP server with everything it runs: the deployment runtime (models and hot reload), the
/// prediction-log writer and the Prometheus registry behind `/metrics`.
///
/// `application` runs them all in one service group: on SIGTERM the server stops accepting,
/// finishes the requests in flight, then the log writer flushes what it holds.
///
/// ```swift
/// let app = ServingApplication(configuration: .init(port: 8080), store: store, blobs: blobs)
/// try await app.application.runService()
/// ```
public struct ServingApplication: Sendable {
    public let runtime: DeploymentRuntime
    public let predictionLog: PredictionLogger
    public let prometheus: PrometheusCollectorRegistry
    public let metrics: ServingMetrics
    public let application: Application<RouterResponder<BasicRequestContext>>

    public init(
        configuration: ServerConfiguration, store: any MetadataStore, blobs: any BlobStore, logger: Logger = Logger(label: "flywheel.server"),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) {
        let prometheus = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: prometheus)
        // Sub-millisecond answers need finer buckets than the default (which start at 5 ms).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(5),
        ]
        let metrics = ServingMetrics(factory: factory)
        let log = PredictionLogger(store: store, metrics: metrics, logger: logger)
        let runtime = DeploymentRuntime(
            store: store, blobs: blobs, metrics: metrics, predictionLog: log, logger: logger, interval: configuration.refreshInterval)
        let router = Self.buildRouter(configuration: configuration, store: store, blobs: blobs, runtime: runtime, metrics: metrics, prometheus: prometheus)
        self.runtime = runtime
        predictionLog = log
        self.prometheus = prometheus
        self.metrics = metrics
        // Services stop in reverse order: the HTTP server first, then the runtime, then the log writer.
        application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "flywheel"),
            services: [log, runtime], onServerRunning: onServerRunning, logger: logger)
    }

    /// Makes NIO's event loops Swift concurrency's global executor for this process (see
    /// `EventLoopExecutor`), so a request's handler runs on the loop that read it. Call it once, from
    /// the main thread, before any other concurrency work; only `flywheel server` does. True when
    /// this call installed it.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        EventLoopExecutor.install()
    }

    /// Whether work for Swift concurrency's global executor, request handlers among it, runs on
    /// the event loops in this process: checked by running a task, not taken on trust.
    public static func handlersRunOnEventLoops() async -> Bool {
        await EventLoopExecutor.jobsRunOnEventLoops()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully (see the type's summary).
    public func run() async throws {
        try await application.runService()
    }

    public static func buildRouter(
        configuration: ServerConfiguration, store: any MetadataStore, blobs: any BlobStore, runtime: DeploymentRuntime,
        metrics: ServingMetrics, prometheus: PrometheusCollectorRegistry
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let limit = configuration.maxBodyBytes
        PredictController(runtime: runtime, metrics: metrics, maxBodyBytes: limit).addRoutes(to: router)
        InferenceController(runtime: runtime, metrics: metrics, maxBodyBytes: limit, version: configuration.version).addRoutes(to: router)
        RegistryController(registry: ModelRegistry(store: store, blobs: blobs), store: store, maxBodyBytes: limit).addRoutes(to: router)
        DeploymentsController(store: store, runtime: runtime, maxBodyBytes: limit).addRoutes(to: router)
        FeedbackController(store: store, maxBodyBytes: limit).addRoutes(to: router)
        MonitorsController(store: store, maxBodyBytes: limit).addRoutes(to: router)
        MLflowController(store: store, blobs: blobs, maxBodyBytes: limit, maxArtifactBytes: configuration.maxArtifactBytes).addRoutes(to: router)
        UIController(ui: WebUI(store: store, blobs: blobs, traffic: metrics.traffic)).addRoutes(to: router)
        router.get("/metrics") { _, _ in
            let (queued, _, _) = runtime.predictionLog?.counts ?? (0, 0, 0)
            metrics.logQueueDepth(queued)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: prometheus.emitToBuffer())))
        }
        return router
    }
}
