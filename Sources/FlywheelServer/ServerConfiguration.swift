/// How `flywheel server` listens and what it accepts; the CLI fills it from flags once.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The largest request body accepted; bigger ones get 413.
    public var maxBodyBytes: Int
    /// How often deployments and aliases are re-read (an alias move is served within this plus a load).
    public var refreshInterval: Duration
    /// Flywheel's version, for `GET /v2`.
    public var version: String
    /// The largest artifact accepted through the MLflow artifact proxy (held in memory once).
    public var maxArtifactBytes: Int = 512 << 20

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 8 << 20, refreshInterval: Duration = .milliseconds(250),
        version: String = "0.1.0"
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.refreshInterval = refreshInterval
        self.version = version
    }
}
