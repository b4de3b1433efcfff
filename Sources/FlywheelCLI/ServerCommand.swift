import ArgumentParser
import FlywheelCore
import FlywheelServer
import FlywheelServing
import FlywheelYAML
import Foundation
import Logging
import NIOCore

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve the workspace over HTTP: the web UI at /, deployments (Open Inference Protocol, /predict), /api/v1, the MLflow API, /metrics.",
        discussion: prose("""
            Loads every deployment's model versions, then answers POST /predict/NAME with one JSON
            record or an array of them, and the Open Inference Protocol under /v2. Deployments and
            aliases are re-read every --refresh: a moved alias is loaded in the background and
            swapped in without a failed request. GET /v2/health/ready is 503 until the models are
            loaded. Sampled predictions go to the prediction log (flywheel logs predictions).
            SIGTERM or Ctrl-C stops accepting connections, finishes requests in flight and
            flushes the log. --port 0 picks a free port; the first line printed names it. The
            MLflow tracking API (/api/2.0/mlflow, artifacts through /api/2.0/mlflow-artifacts)
            lets the mlflow client log here (MLFLOW_TRACKING_URI=http://HOST:PORT); while the
            server runs, pipeline steps started in this workspace get that variable and
            MLFLOW_RUN_ID, so their mlflow calls land in their step's run.
            """))
    @OptionGroup var global: GlobalOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 for any free one).") var port = 8080
    @Option(name: .customLong("max-body"), help: "The largest request body in bytes; bigger ones get 413.") var maxBody = 8 << 20
    @Option(help: "How often to re-read deployments and aliases, e.g. 250ms or 1s.") var refresh = "250ms"
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port number (0-65535)") }
        guard maxBody > 0 else { throw ValidationError("--max-body must be positive") }
        guard let s = DurationText.seconds(refresh), s >= 0.01 else { throw ValidationError("--refresh '\(refresh)' is not a duration of at least 10ms") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a level") }
    }

    func run() async throws {
        let ws = try global.open()
        var logger = Logger(label: "flywheel.server") { LineLogHandler(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if await ServingApplication.handlersRunOnEventLoops() {
            logger.info("request handlers run on the event loops")
        } else {
            logger.warning("request handlers run on Swift's cooperative pool: the event-loop executor could not be installed, so each request switches threads twice")
        }
        let interval = Duration.milliseconds(Int64(((DurationText.seconds(refresh) ?? 0.25) * 1000).rounded()))
        let host = self.host
        let root = ws.root.path
        let app = ServingApplication(
            configuration: ServerConfiguration(host: host, port: port, maxBodyBytes: maxBody, refreshInterval: interval, version: FlywheelCommand.version),
            store: ws.store, blobs: ws.blobs, logger: logger
        ) { channel in
            let bound = channel.localAddress?.port ?? 0
            // Steps of pipelines run in this workspace log here through the MLflow API.
            let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host.contains(":") ? "[\(host)]" : host
            ws.recordServer(url: "http://\(reachable):\(bound)")
            Output.line("flywheel server listening on http://\(host):\(bound) (workspace \(root))")
            Output.line("web UI: http://\(reachable):\(bound)/")
        }
        defer { ws.clearServer() }
        try await app.run()
        let (_, dropped, written) = app.predictionLog.counts
        Output.note("server stopped: \(written) predictions logged\(dropped > 0 ? ", \(dropped) dropped" : "")")
    }
}
